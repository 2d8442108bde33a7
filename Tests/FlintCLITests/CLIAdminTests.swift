import FlintCore
import FlintTestSupport
import Foundation
import Testing

/// `flint users …` and `flint clients …`.
@Suite struct CLIAdminTests {
    @Test func usersAreCreatedListedDisabledEnabledGivenClaimsAndDeleted() async throws {
        try await CLIServer.run { context in
            let cli = context.cli
            try await context.login()
            let created = try await cli.run(["users", "create", "ann@example.com", "--password", "correct horse battery", "--json"])
            expectSuccess(created)
            guard case .string(let uid)? = try created.json["uid"] else {
                Issue.record("no uid in \(created)")
                return
            }
            #expect(try created.json["email"] == .string("ann@example.com"))
            let text = try await cli.run(["users", "create", "bob@example.com"])
            expectSuccess(text)
            #expect(text.stdout.hasPrefix("Created user "))

            let list = try await cli.run(["users", "list", "--json"])
            expectSuccess(list)
            let emails = (try list.json["users"]?.arrayValue ?? []).compactMap { $0["email"]?.text }
            #expect(Set(emails) == [#""ann@example.com""#, #""bob@example.com""#])
            let limited = try await cli.run(["users", "list", "--limit", "1", "--json"])
            #expect((try limited.json["users"]?.arrayValue)?.count == 1)
            let table = try await cli.run(["users", "list"])
            expectSuccess(table)
            #expect(table.stdout.hasPrefix("UID"))
            #expect(table.stdout.contains("ann@example.com") && table.stdout.contains(uid))

            let got = try await cli.run(["users", "get", uid, "--json"])
            expectSuccess(got)
            #expect(try got.json["disabled"] == .bool(false))
            let shown = try await cli.run(["users", "get", uid])
            #expect(shown.stdout.contains("email:") && shown.stdout.contains("ann@example.com"))

            expectSuccess(try await cli.run(["users", "disable", uid]))
            #expect(try await cli.run(["users", "get", uid, "--json"]).json["disabled"] == .bool(true))
            let signIn = #"{"email": "ann@example.com", "password": "correct horse battery"}"#
            #expect(try await context.http.send(.post, "/v1/auth/signin", body: signIn).status != .ok)
            let enabled = try await cli.run(["users", "enable", uid, "--json"])
            expectSuccess(enabled)
            #expect(try enabled.json["disabled"] == .bool(false))
            #expect(try await context.http.send(.post, "/v1/auth/signin", body: signIn).status == .ok)

            let claims = try await cli.run(["users", "claims", "set", uid, #"{"role": "editor", "teams": ["a"]}"#, "--json"])
            expectSuccess(claims)
            #expect(try claims.json["claims"] == .object(["role": .string("editor"), "teams": .array([.string("a")])]))
            let read = try await cli.run(["users", "claims", "get", uid])
            expectSuccess(read)
            #expect(try JSON(parsing: read.stdout) == .object(["role": .string("editor"), "teams": .array([.string("a")])]))
            expectFailure(try await cli.run(["users", "claims", "set", uid, "{role: editor}"]), containing: "the claims argument is not valid JSON")
            expectFailure(try await cli.run(["users", "claims", "set", uid, "[1]"]), containing: "must be a JSON object")
            expectFailure(try await cli.run(["users", "claims", "set", uid, #"{"sub": "root"}"#]), containing: "\"sub\" is a reserved claim")

            let deleted = try await cli.run(["users", "delete", uid, "--json"])
            expectSuccess(deleted)
            #expect(try deleted.json == .object(["uid": .string(uid), "deleted": .bool(true)]))
            expectFailure(try await cli.run(["users", "get", uid]), containing: "no user \(uid)")
            expectFailure(try await cli.run(["users", "delete", uid]), containing: "no user \(uid)")
        }
    }

    @Test func clientsAreCreatedListedUsedAndDeleted() async throws {
        try await CLIServer.run { context in
            let cli = context.cli
            try await context.login()
            let created = try await cli.run(["clients", "create", "--name", "deploy-bot", "--scope", "admin", "--json"])
            expectSuccess(created)
            let client = try created.json
            guard case .string(let id)? = client["client_id"], case .string(let secret)? = client["client_secret"] else {
                Issue.record("no client id or secret in \(created)")
                return
            }
            #expect(client["scopes"] == .array([.string("admin")]))
            let web = try await cli.run(["clients", "create", "--name", "web", "--public", "--redirect-uri", "https://app.example.com/cb"])
            expectSuccess(web)
            #expect(web.stdout.contains("client id:") && !web.stdout.contains("client secret"))

            // The new service account logs in as another profile and works.
            let login = try await cli.run(["login", "--url", context.url, "--client-id", id, "--profile", "bot"], environment: ["FLINT_CLIENT_SECRET": secret])
            expectSuccess(login)
            expectSuccess(try await cli.run(["users", "list", "--profile", "bot"]))

            let list = try await cli.run(["clients", "list", "--json"])
            expectSuccess(list)
            let ids = (try list.json["clients"]?.arrayValue ?? []).compactMap { $0["client_id"] }
            #expect(ids.contains(.string(id)) && ids.contains(.string(CLIServer.adminID)))
            #expect(!list.stdout.contains(secret))
            let table = try await cli.run(["clients", "list"])
            #expect(table.stdout.hasPrefix("CLIENT ID") && table.stdout.contains("deploy-bot") && table.stdout.contains("public"))

            expectSuccess(try await cli.run(["clients", "delete", id]))
            let after = try await cli.run(["clients", "list", "--json"])
            #expect(!(try after.json["clients"]?.arrayValue ?? []).compactMap { $0["client_id"] }.contains(.string(id)))
            expectFailure(try await cli.run(["clients", "delete", id]), containing: "no client \(id)")
            // The deleted account can no longer get tokens.
            let again = try await cli.run(["login", "--url", context.url, "--client-id", id, "--client-secret", secret, "--profile", "bot"])
            expectFailure(again, containing: "refused the client credentials of \(id)")
        }
    }
}
