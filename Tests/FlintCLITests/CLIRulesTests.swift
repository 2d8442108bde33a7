import FlintCore
import FlintTestSupport
import Foundation
import Testing

/// `flint init`, `flint rules test|deploy|get|releases|rollback`.
@Suite struct CLIRulesTests {
    static func firestore(_ body: String) -> String {
        """
        rules_version = '2';
        service cloud.firestore {
          match /databases/{database}/documents {
        \(body)
          }
        }

        """
    }

    static let ownerOnly = firestore(
        """
            match /users/{uid}/{document=**} {
              allow read, write: if request.auth != null && request.auth.uid == uid;
            }
        """)
    static let publicNotes = firestore(
        """
            match /notes/{id} {
              allow read: if true;
            }
        """)
    /// An error on line 5: an operator without its right-hand side.
    static let broken = firestore(
        """
            match /notes/{id} {
              allow read: if request.auth.uid == ;
            }
        """)

    static let passingCases = """
        {"cases": [
          {"name": "ann reads her profile", "auth": {"uid": "ann"}, "method": "get", "path": "users/ann", "expect": "allow"},
          {"name": "bob cannot", "auth": {"uid": "bob"}, "method": "get", "path": "users/ann", "expect": "deny"}
        ]}
        """
    static let failingCases = """
        {"cases": [
          {"name": "ann reads her profile", "auth": {"uid": "ann"}, "method": "get", "path": "users/ann", "expect": "allow"},
          {"name": "bob reads ann's profile", "auth": {"uid": "bob"}, "method": "get", "path": "users/ann", "expect": "allow"}
        ]}
        """

    @Test func rulesTestPassesWithExit0AndFailsWithExit1() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        try cli.write("rules/firestore.rules", Self.ownerOnly)
        try cli.write("rules/firestore.tests.json", Self.passingCases)
        let pass = try await cli.run(["rules", "test"])
        expectSuccess(pass)
        #expect(pass.stdout.contains("rules/firestore.tests.json (rules/firestore.rules)"))
        #expect(pass.stdout.contains("PASS ann reads her profile"))
        #expect(pass.stdout.contains("PASS bob cannot"))
        #expect(pass.stdout.contains("2 of 2 cases passed in 1 file"))

        let cases = try cli.write("elsewhere/cases.json", Self.failingCases)
        let fail = try await cli.run(["rules", "test", cases, "--rules", "rules/firestore.rules"])
        #expect(fail.status == 1, "\(fail)")
        #expect(fail.stdout.contains("PASS ann reads her profile"))
        #expect(fail.stdout.contains("FAIL bob reads ann's profile: expected allow, got deny"))
        #expect(fail.stdout.contains("1 of 2 cases passed in 1 file; 1 failed"))
        #expect(fail.stderr == "error: 1 of 2 cases failed\n")

        let json = try await cli.run(["rules", "test", cases, "--rules", "rules/firestore.rules", "--json"])
        #expect(json.status == 1)
        let report = try json.json
        #expect(report["passed"] == .integer(1) && report["failed"] == .integer(1) && report["ok"] == .bool(false))
        #expect(report["files"]?[0]?["cases"]?[1]?["actual"] == .string("deny"))
        #expect(report["files"]?[0]?["cases"]?[1]?["passed"] == .bool(false))
    }

    @Test func aMalformedTestFileOrRulesThatDoNotCompileFailTheRun() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        try cli.write("rules/firestore.rules", Self.ownerOnly)
        try cli.write("rules/firestore.tests.json", #"{"cases": [{"name": "x", "method": "peek", "path": "a/b", "expect": "allow"}]}"#)
        let malformed = try await cli.run(["rules", "test"])
        expectFailure(malformed, containing: "1 test file could not run")
        #expect(malformed.stdout.contains("ERROR rules/firestore.tests.json: case 1 (\"x\"): \"method\" must be one of"))

        try cli.write("bad/firestore.rules", Self.broken)
        try cli.write("bad/firestore.tests.json", Self.passingCases)
        let broken = try await cli.run(["rules", "test", "bad/firestore.tests.json"])
        #expect(broken.status == 1)
        #expect(broken.stderr.contains("bad/firestore.rules:5:"), "\(broken)")
        #expect(broken.stderr.contains("      allow read: if request.auth.uid == ;"))
        #expect(broken.stderr.hasSuffix("error: 1 test file could not run\n"))
        #expect(!broken.stderr.contains(escape))
    }

    @Test func initScaffoldsRulesWhoseCasesPass() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        let created = try await cli.run(["init", "app", "--json"])
        expectSuccess(created)
        let files = try created.json["created"]
        #expect(files == .array(["firestore.rules", "firestore.tests.json", "storage.rules", "storage.tests.json"].map { .string("app/rules/\($0)") }))
        let tests = try await cli.run(["rules", "test"], in: cli.workingDirectory + "/app")
        expectSuccess(tests)
        #expect(tests.stdout.contains("9 of 9 cases passed in 2 files"), "\(tests)")
        // Nothing is overwritten without --force.
        let again = try await cli.run(["init", "app"])
        expectSuccess(again)
        #expect(again.stdout.contains("kept"))
        #expect(!again.stdout.contains("created"))
    }

    @Test func deployDryRunReleasesGetAndRollback() async throws {
        try await CLIServer.run(rules: [:]) { context in
            let cli = context.cli
            try await context.login()
            try cli.write("rules/firestore.rules", Self.ownerOnly)
            let other = try cli.write("config/notes.rules", Self.publicNotes)

            let dry = try await cli.run(["rules", "deploy", "--dry-run", "--json"])
            expectSuccess(dry)
            #expect(try dry.json["deployments"]?[0] == .object([
                "file": .string("rules/firestore.rules"), "service": .string("firestore"), "valid": .bool(true), "dryRun": .bool(true),
            ]))
            #expect(try await context.http.send(.get, "/v1/admin/rules/firestore", headers: context.admin.headers).status == .notFound)

            // No arguments: rules/firestore.rules (rules/storage.rules does not exist here).
            let first = try await cli.run(["rules", "deploy"])
            expectSuccess(first)
            #expect(first.stdout.hasPrefix("Deployed rules/firestore.rules to firestore: release "))
            // A file whose name does not say its service: the service line does.
            let second = try await cli.run(["rules", "deploy", other, "--json"])
            expectSuccess(second)
            let secondRelease = try second.json["deployments"]?[0]?["release"]
            #expect(secondRelease?["service"] == .string("firestore"))

            let live = try await cli.run(["rules", "get"])
            expectSuccess(live)
            #expect(live.stdout == Self.publicNotes)

            let releases = try await cli.run(["rules", "releases", "--json"])
            expectSuccess(releases)
            let list = try releases.json["releases"]?.arrayValue ?? []
            #expect(list.count == 2)
            #expect(list.first?["id"] == secondRelease?["id"])
            guard case .integer(let firstID)? = list.last?["id"] else {
                Issue.record("no release id in \(releases)")
                return
            }
            let table = try await cli.run(["rules", "releases"])
            expectSuccess(table)
            #expect(table.stdout.hasPrefix("ID"))
            #expect(table.stdout.split(separator: "\n").count == 3)

            let rollback = try await cli.run(["rules", "rollback", String(firstID), "--json"])
            expectSuccess(rollback)
            #expect(try rollback.json["rollbackOf"] == .integer(firstID))
            #expect(try await cli.run(["rules", "get"]).stdout == Self.ownerOnly)
            let old = try await cli.run(["rules", "get", "--release", String(firstID), "--json"])
            #expect(try old.json["source"] == .string(Self.ownerOnly))
            expectFailure(try await cli.run(["rules", "rollback", "999"]), containing: "no release 999 of the firestore or storage rules")
        }
    }

    @Test func invalidRulesAreRefusedWithFileLineColumnAndTheOffendingLine() async throws {
        try await CLIServer.run(rules: [:]) { context in
            let cli = context.cli
            try await context.login()
            try cli.write("rules/firestore.rules", Self.broken)
            for arguments in [["rules", "deploy"], ["rules", "deploy", "--dry-run", "firestore"]] {
                let result = try await cli.run(arguments)
                #expect(result.status == 1, "\(result)")
                let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                #expect(lines.first?.hasPrefix("rules/firestore.rules:5:") == true, "\(result)")
                #expect(lines.count >= 4 && lines[1] == "      allow read: if request.auth.uid == ;")
                // The caret sits under the reported column.
                if let location = lines.first?.split(separator: ":"), location.count > 2, let column = Int(location[2]), lines.count > 2 {
                    #expect(lines[2] == String(repeating: " ", count: column - 1) + "^")
                }
                #expect(result.stderr.hasSuffix("error: rules/firestore.rules has 1 error; nothing was deployed\n") || result.stderr.contains("errors; nothing was deployed"))
                #expect(!result.stderr.contains(escape))
            }
            #expect(try await context.http.send(.get, "/v1/admin/rules/firestore", headers: context.admin.headers).status == .notFound)
            expectFailure(try await cli.run(["rules", "deploy", "missing.rules"]), containing: "missing.rules does not exist")
            try cli.write("mystery.rules", "rules_version = '2';\n")
            expectFailure(try await cli.run(["rules", "deploy", "mystery.rules"]), containing: "cannot tell which service mystery.rules is for")
        }
    }
}

extension JSON {
    /// The elements of an array, for tests.
    var arrayValue: [JSON]? {
        guard case .array(let items) = self else { return nil }
        return items
    }
}
