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

    @Test func databaseURLSelectsPostgreSQL() throws {
        var configuration = Configuration()
        #expect(configuration.databaseURL == nil)
        try configuration.apply(environment: ["FLINT_DATABASE_URL": "postgresql://flint:s%40cret@db.example:6543/app?sslmode=require"])
        let url = try #require(configuration.databaseURL)
        #expect(url.host == "db.example" && url.port == 6543 && url.database == "app" && url.tls == .require)
        #expect(url.username == "flint" && url.password == "s@cret")
        // The password never appears where the URL is shown.
        #expect(url.description == "postgres://flint@db.example:6543/app?sslmode=require")
        try configuration.apply(environment: [:], flags: ["FLINT_DATABASE_URL": "postgres://u@127.0.0.1/other"])
        #expect(configuration.databaseURL?.database == "other" && configuration.databaseURL?.port == 5432)
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
        ("FLINT_DATABASE_URL", "mysql://u@h/db", "postgres://"),
        ("FLINT_DATABASE_URL", "postgres://h:5432/db", "user name"),
        ("FLINT_DATABASE_URL", "postgres://u@h:5432/", "database name"),
        ("FLINT_DATABASE_URL", "postgres://u@h/db?sslmode=maybe", "sslmode"),
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

    @Test func theFilesFolderDefaultsToTheDataFolderAndMayBeShared() throws {
        var configuration = Configuration()
        #expect(configuration.filesDirectory == nil, "files/ beside the SQLite database")
        try configuration.apply(environment: ["FLINT_FILES_DIR": "/mnt/shared/files"])
        #expect(configuration.filesDirectory == "/mnt/shared/files")
        try configuration.apply(environment: [:], flags: ["FLINT_FILES_DIR": "/srv/files"])
        #expect(configuration.filesDirectory == "/srv/files")
        do {
            try configuration.apply(environment: ["FLINT_FILES_DIR": ""])
            Issue.record("an empty FLINT_FILES_DIR was accepted")
        } catch {
            #expect(error.description.contains("FLINT_FILES_DIR / --files-dir must not be empty"))
        }
    }
}
