import FlintCore
import FlintTestSupport
import Foundation
import Testing

/// `flint --version`, help, login and logout, status, errors, colours.
@Suite struct CLIBasicsTests {
    @Test func versionIsTheServersVersion() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        let result = try await cli.run(["--version"])
        expectSuccess(result)
        #expect(result.stdout == FlintVersion.current + "\n")
    }

    @Test(arguments: [["--help"], ["help", "rules", "deploy"], ["users", "--help"], ["help", "data", "export"], ["files", "cp", "--help"]])
    func helpExplainsWithExamples(arguments: [String]) async throws {
        let cli = try CLI()
        defer { cli.remove() }
        let result = try await cli.run(arguments)
        expectSuccess(result)
        #expect(result.stdout.contains("Examples:"), "\(result)")
        #expect(result.stdout.contains("flint "))
    }

    @Test func loginStoresTheCredentialsReadableOnlyByTheUserAndLogoutForgetsThem() async throws {
        try await CLIServer.run { context in
            let cli = context.cli
            let login = try await cli.run(["login", "--url", context.url, "--client-id", CLIServer.adminID, "--client-secret", CLIServer.adminSecret, "--json"])
            expectSuccess(login)
            let answer = try login.json
            #expect(answer["profile"] == .string("default"))
            #expect(answer["url"] == .string(context.url))
            #expect(answer["scopes"] == .array([.string("admin")]))
            #expect(answer["credentials"] == .string(cli.credentialsPath))

            let file = try FileManager.default.attributesOfItem(atPath: cli.credentialsPath)
            #expect((file[.posixPermissions] as? NSNumber)?.intValue == 0o600)
            let folder = try FileManager.default.attributesOfItem(atPath: cli.configHome + "/flint")
            #expect((folder[.posixPermissions] as? NSNumber)?.intValue == 0o700)
            let stored = try JSON(parsing: try String(contentsOfFile: cli.credentialsPath, encoding: .utf8))
            #expect(stored["profiles"]?["default"]?["clientId"] == .string(CLIServer.adminID))
            #expect(stored["profiles"]?["default"]?["url"] == .string(context.url))

            // The stored profile is what later commands use.
            let users = try await cli.run(["users", "list", "--json"])
            expectSuccess(users)
            #expect(try users.json["users"] == .array([]))

            // A token the server refuses, or one that has expired, is replaced with one from the stored credentials.
            for (token, expiry) in [("not-a-token", Int64(Date().timeIntervalSince1970) + 3000), ("expired", Int64(0))] {
                var profile = try #require(stored["profiles"]?["default"])
                guard case .object(var members) = profile else { return }
                members["accessToken"] = .string(token)
                members["expiresAt"] = .integer(expiry)
                profile = .object(members)
                try Data(JSON.object(["profiles": .object(["default": profile])]).serialized).write(to: URL(fileURLWithPath: cli.credentialsPath))
                expectSuccess(try await cli.run(["users", "list"]))
                let renewed = try JSON(parsing: try String(contentsOfFile: cli.credentialsPath, encoding: .utf8))
                #expect(renewed["profiles"]?["default"]?["accessToken"] != .string(token))
            }

            // The secret can come on standard input, for another profile.
            let second = try await cli.run(["login", "--url", context.url, "--client-id", CLIServer.adminID, "--profile", "ci"], stdin: CLIServer.adminSecret + "\n")
            expectSuccess(second)
            #expect(second.stdout.contains("Logged in to \(context.url) as admin (profile ci)"))
            let logout = try await cli.run(["logout", "--profile", "ci", "--json"])
            expectSuccess(logout)
            #expect(try logout.json == .object(["profile": .string("ci"), "removed": .bool(true)]))
            expectFailure(try await cli.run(["users", "list", "--profile", "ci"]), containing: "not logged in (profile \"ci\")")
            // The default profile is untouched, and its file still 0600 after being rewritten.
            expectSuccess(try await cli.run(["users", "list"]))
            let rewritten = try FileManager.default.attributesOfItem(atPath: cli.credentialsPath)
            #expect((rewritten[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        }
    }

    @Test func aWrongSecretOrAnUnreachableServerIsOneLineAndExit1() async throws {
        try await CLIServer.run { context in
            let wrong = try await context.cli.run(["login", "--url", context.url, "--client-id", CLIServer.adminID, "--client-secret", "not-the-secret-at-all"])
            expectFailure(wrong, containing: "refused the client credentials of admin")
            // A secret may begin with "-" (base64url): it is still the secret, not an unknown option.
            let dashed = try await context.cli.run(["login", "--url", context.url, "--client-id", CLIServer.adminID, "--client-secret", "-not-the-secret"])
            expectFailure(dashed, containing: "refused the client credentials of admin")
            #expect(!FileManager.default.fileExists(atPath: context.cli.credentialsPath))
            let nowhere = try await context.cli.run(["status", "--url", "http://127.0.0.1:1"])
            expectFailure(nowhere, containing: "cannot reach http://127.0.0.1:1")
            expectFailure(try await context.cli.run(["users", "list"]), containing: "not logged in")
            expectFailure(try await context.cli.run(["status", "--url", "ftp://x"]), containing: "is not a server URL")
        }
    }

    @Test func usageErrorsAreArgumentParsersWithItsExitStatus() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        let unknown = try await cli.run(["users", "frobnicate"])
        #expect(unknown.status == 64, "\(unknown)")
        let bothLocal = try await cli.run(["files", "cp", "a.txt", "b.txt"])
        #expect(bothLocal.status == 64, "\(bothLocal)")
        #expect(bothLocal.stderr.contains("exactly one of source and destination must be flint:PATH"))
    }

    @Test func statusShowsVersionHealthAndRequestFigures() async throws {
        try await CLIServer.run { context in
            // No login needed: --url alone reaches the public operations endpoints.
            let text = try await context.cli.run(["status", "--url", context.url])
            expectSuccess(text)
            #expect(text.stdout.contains("version:"))
            #expect(text.stdout.contains(FlintVersion.current))
            #expect(text.stdout.contains("ready"))
            let json = try await context.cli.run(["status", "--json"], environment: ["FLINT_URL": context.url])
            expectSuccess(json)
            let status = try json.json
            #expect(status["version"] == .string(FlintVersion.current))
            #expect(status["health"] == .string("ok"))
            #expect(status["ready"] == .bool(true))
            #expect(status["url"] == .string(context.url))
            guard case .integer(let requests)? = status["metrics"]?["requests"] else {
                Issue.record("no request count in \(status)")
                return
            }
            #expect(requests >= 2)
        }
    }

    @Test func coloursAppearOnATerminalButNeverWithNoColor() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        expectSuccess(try await cli.run(["init"]))
        let piped = try await cli.run(["rules", "test"])
        expectSuccess(piped)
        #expect(piped.stdout.contains("PASS"))
        let terminal = try await cli.runOnTerminal(["rules", "test"])
        #expect(terminal.status == 0, "\(terminal)")
        #expect(terminal.stdout.contains(escape + "[32mPASS"), "\(terminal)")
        let noColor = try await cli.runOnTerminal(["rules", "test"], environment: ["NO_COLOR": "1"])
        #expect(noColor.status == 0, "\(noColor)")
        #expect(noColor.stdout.contains("PASS"))
        #expect(!noColor.stdout.contains(escape), "\(noColor)")
    }
}
