@testable import FlintServer
import FlintTestSupport
import Logging
import Testing

/// Settings come from `FLINT_*` variables and flags; flags win; bad values are refused with a clear message.
@Suite struct ConfigurationTests {
    @Test func defaultsRunOnOneMachine() {
        let configuration = Configuration()
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 8080)
        #expect(configuration.dataDirectory == "./flint-data")
        #expect(configuration.logLevel == .info)
    }

    @Test func variablesApplyAndFlagsWin() throws {
        var configuration = Configuration()
        try configuration.apply(
            environment: ["FLINT_PORT": "9000", "FLINT_DATA_DIR": "/tmp/x", "FLINT_LOG_LEVEL": "DEBUG", "HOME": "/root"],
            flags: ["FLINT_PORT": "9001", "FLINT_MAX_BODY_SIZE": "4096"])
        #expect(configuration.port == 9001)
        #expect(configuration.dataDirectory == "/tmp/x")
        #expect(configuration.logLevel == .debug)
        #expect(configuration.maximumBodySize == 4096)
    }

    @Test(arguments: [
        ("FLINT_PORT", "http", "FLINT_PORT"),
        ("FLINT_PORT", "70000", "0 to 65535"),
        ("FLINT_LOG_LEVEL", "loud", "FLINT_LOG_LEVEL"),
        ("FLINT_MAX_BODY_SIZE", "12", "at least 1024"),
        ("FLINT_HOST", "", "must not be empty"),
        ("FLINT_DATA_DIR", "", "must not be empty"),
    ])
    func badValuesAreRefusedNamingTheSetting(variable: String, value: String, mentions: String) {
        var configuration = Configuration()
        do {
            try configuration.apply(environment: [variable: value])
            Issue.record("\(variable)=\(value) was accepted")
        } catch {
            #expect(error.description.contains(mentions), "\(error.description)")
        }
    }
}
