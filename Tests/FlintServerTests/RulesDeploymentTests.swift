import FlintCore
@testable import FlintServer
import GRDB
import FlintTestSupport
import Foundation
import Logging
import Testing

/// Rules are deployed through the admin API (or a folder at start-up), validated first, kept, and rolled back.
@Suite struct RulesDeploymentTests {
    static let allowAll = RulesEnforcementTests.rules("    match /{document=**} { allow read, write: if true; }")
    static let readOnly = RulesEnforcementTests.rules("    match /{document=**} { allow read: if true; }")
    static let broken = """
        rules_version = '2';
        service cloud.firestore {
          match /databases/{database}/documents {
            match /a/{id} {
              allow reed: if true;
              allow write: if request.auth.uid = id;
            }
          }
        }
        """

    func withAdmin<T: Sendable>(_ body: @Sendable (HTTPTestClient, HTTPTestClient.Session) async throws -> T) async throws -> T {
        try await TestServer.run(
            rules: [:],
            configure: {
                $0.adminClientID = RulesEnforcementTests.adminID
                $0.adminClientSecret = RulesEnforcementTests.adminSecret
            }
        ) { http in
            try await body(http, try await http.serviceToken(clientID: RulesEnforcementTests.adminID, secret: RulesEnforcementTests.adminSecret))
        }
    }

    @Test func deployReadListAndRollBack() async throws {
        try await withAdmin { http, admin in
            #expect(try await http.send(.get, "/v1/admin/rules/firestore", headers: admin.headers).status == .notFound)
            let first = try await http.send(.put, "/v1/admin/rules/firestore", body: Self.allowAll, headers: admin.headers)
            #expect(first.status == .created)
            #expect(try first.json["deployedBy"] == .string(RulesEnforcementTests.adminID))
            #expect(try await http.send(.put, "/v1/documents/c/a", body: "{}").status == .ok)

            let second = try await http.send(.put, "/v1/admin/rules/firestore", body: Self.readOnly, headers: admin.headers)
            #expect(second.status == .created)
            #expect(try await http.send(.put, "/v1/documents/c/b", body: "{}").status == .forbidden)
            #expect(try await http.send(.get, "/v1/documents/c/a").status == .ok)

            let live = try await http.send(.get, "/v1/admin/rules/firestore", headers: admin.headers)
            #expect(try live.json["source"] == .string(Self.readOnly))
            #expect(try live.json["id"] == second.json["id"])
            let releases = try await http.send(.get, "/v1/admin/rules/firestore/releases", headers: admin.headers).json
            #expect(releases["releases"]?.arrayCount == 2)
            #expect(releases["releases"]?[0]?["id"] == (try second.json["id"]))
            #expect(releases["releases"]?[0]?["sha256"] != releases["releases"]?[1]?["sha256"])

            guard case .integer(let firstID)? = try first.json["id"] else {
                Issue.record("no release id in \(first.text)")
                return
            }
            let rollback = try await http.send(.post, "/v1/admin/rules/firestore/releases/\(firstID)/rollback", headers: admin.headers)
            #expect(rollback.status == .created)
            #expect(try rollback.json["rollbackOf"] == .integer(firstID))
            #expect(try rollback.json["sha256"] == first.json["sha256"])
            #expect(try await http.send(.put, "/v1/documents/c/b", body: "{}").status == .ok)
            let old = try await http.send(.get, "/v1/admin/rules/firestore/releases/\(firstID)", headers: admin.headers)
            #expect(try old.json["source"] == .string(Self.allowAll))
            #expect(try await http.send(.get, "/v1/admin/rules/storage/releases/\(firstID)", headers: admin.headers).status == .notFound)
        }
    }

    @Test func invalidRulesAreRefusedWithEveryErrorAndNothingGoesLive() async throws {
        try await withAdmin { http, admin in
            #expect(try await http.send(.put, "/v1/admin/rules/firestore", body: Self.allowAll, headers: admin.headers).status == .created)
            let refused = try await http.send(.put, "/v1/admin/rules/firestore", body: Self.broken, headers: admin.headers)
            #expect(refused.status == .badRequest)
            #expect(refused.errorCode == "invalid-argument")
            let details = try refused.json["error"]?["details"]
            #expect((details?.arrayCount ?? 0) >= 2)
            #expect(details?[0]?["line"] == .integer(5))
            guard case .string(let message)? = details?[0]?["message"] else {
                Issue.record("no message in \(refused.text)")
                return
            }
            #expect(message.contains("reed"))
            #expect(details?[1]?["line"] == .integer(6))

            let dryRun = try await http.send(.put, "/v1/admin/rules/firestore?dryRun=true", body: Self.broken, headers: admin.headers)
            #expect(dryRun.status == .badRequest)
            let valid = try await http.send(.put, "/v1/admin/rules/firestore?dryRun=true", body: Self.readOnly, headers: admin.headers)
            #expect(try valid.json["valid"] == .bool(true))
            // Neither the broken rules nor the dry run went live.
            #expect(try await http.send(.get, "/v1/admin/rules/firestore", headers: admin.headers).json["source"] == .string(Self.allowAll))
            #expect(try await http.send(.get, "/v1/admin/rules/firestore/releases", headers: admin.headers).json["releases"]?.arrayCount == 1)
        }
    }

    @Test func misusesAreRefusedWithAReason() async throws {
        try await withAdmin { http, admin in
            let user = try await http.signUp("ann@example.com")
            let notAdmin = try await http.send(.put, "/v1/admin/rules/firestore", body: Self.allowAll, headers: user.headers)
            #expect(notAdmin.status == .forbidden)
            #expect(try await http.send(.put, "/v1/admin/rules/firestore", body: Self.allowAll).status == .unauthorized)
            let unknown = try await http.send(.put, "/v1/admin/rules/database", body: Self.allowAll, headers: admin.headers)
            #expect(unknown.status == .notFound)
            #expect(unknown.errorMessage?.contains("firestore") == true)
            let wrongService = try await http.send(.put, "/v1/admin/rules/storage", body: Self.allowAll, headers: admin.headers)
            #expect(wrongService.status == .badRequest)
            #expect(wrongService.errorMessage?.contains("/v1/admin/rules/firestore") == true)
            let badID = try await http.send(.post, "/v1/admin/rules/firestore/releases/x/rollback", headers: admin.headers)
            #expect(badID.status == .badRequest)
            let missing = try await http.send(.post, "/v1/admin/rules/firestore/releases/99/rollback", headers: admin.headers)
            #expect(missing.status == .notFound)
            let notUTF8 = try await http.transport(.put, "/v1/admin/rules/firestore", admin.headers, .init(bytes: [0xff, 0xfe, 0x00]))
            #expect(notUTF8.status == .badRequest)
            let limit = try await http.send(.get, "/v1/admin/rules/firestore/releases?limit=0", headers: admin.headers)
            #expect(limit.status == .badRequest)
        }
    }

    @Test func aRulesFolderIsDeployedAtStartUpOnlyWhenItChanged() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var configuration = FlintServer.Configuration()
        configuration.port = 0
        configuration.dataDirectory = directory.path
        configuration.logLevel = .error
        configuration.rulesDirectory = try TestRules.folder(["firestore.rules": Self.allowAll], in: directory.path)
        _ = try await buildApplication(configuration)
        _ = try await buildApplication(configuration)
        let store = try SQLiteDocumentStore(path: directory.path + "/flint.sqlite", logger: Logger(label: "test"))
        let releases = try await store.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM rules_releases") }
        #expect(releases == 1)

        configuration.rulesDirectory = try TestRules.folder(["firestore.rules": Self.broken], in: directory.path)
        do {
            _ = try await buildApplication(configuration)
            Issue.record("broken rules in the rules folder must stop the start-up")
        } catch let error as ConfigurationError {
            #expect(error.description.contains("firestore.rules:5:"))
            #expect(error.description.contains("nothing was deployed"))
        }
    }
}
