import FlintRules
import Foundation
import Testing

/// The rulesets shipped in the repository's `rules/` folder: each compiles, is for the service its file name says
/// (the server loads `firestore.rules` and `storage.rules` from a `--rules-dir` folder), and passes its test cases.
@Suite struct ShippedRulesetsTests {
    /// The repository's `rules/` folder, found from this file's path (`Tests/FlintRulesTests/…`).
    static let rulesFolder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("rules")

    /// The names of the folders in `rules/`, sorted; empty when `rules/` cannot be read (a test below fails then).
    static let folders: [String] = {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: rulesFolder.path)) ?? []
        return entries.filter { name in
            var isFolder: ObjCBool = false
            return FileManager.default.fileExists(atPath: rulesFolder.appendingPathComponent(name).path, isDirectory: &isFolder)
                && isFolder.boolValue
        }.sorted()
    }()

    /// The file names in one ruleset folder.
    static func files(in folder: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: rulesFolder.appendingPathComponent(folder).path).sorted()
    }

    static func read(_ folder: String, _ file: String) throws -> String {
        try String(contentsOf: rulesFolder.appendingPathComponent(folder).appendingPathComponent(file), encoding: .utf8)
    }

    @Test func theRulesFolderHoldsTheDocumentedRulesets() {
        #expect(Set(["locked", "owner-only", "chat", "open"]).isSubset(of: Set(Self.folders)), "rules/ at \(Self.rulesFolder.path) has \(Self.folders)")
    }

    @Test(arguments: folders)
    func everyRulesFileHasItsTestsAndEveryTestsFileItsRules(_ folder: String) throws {
        let files = try Self.files(in: folder)
        let rules = files.filter { $0.hasSuffix(".rules") }.map { String($0.dropLast(".rules".count)) }
        let tests = files.filter { $0.hasSuffix(".tests.json") }.map { String($0.dropLast(".tests.json".count)) }
        #expect(!rules.isEmpty, "rules/\(folder) has no .rules file")
        for name in rules {
            #expect(["firestore", "storage"].contains(name), "rules/\(folder)/\(name).rules: the server loads only firestore.rules and storage.rules")
            #expect(tests.contains(name), "rules/\(folder)/\(name).rules has no \(name).tests.json beside it")
        }
        for name in tests where !rules.contains(name) {
            Issue.record("rules/\(folder)/\(name).tests.json has no \(name).rules beside it")
        }
    }

    @Test(arguments: folders)
    func everyRulesetCompilesAndPassesItsCases(_ folder: String) async throws {
        for file in try Self.files(in: folder) where file.hasSuffix(".rules") {
            let name = String(file.dropLast(".rules".count))
            let ruleset: Ruleset
            do {
                ruleset = try Ruleset.compile(try Self.read(folder, file))
            } catch let error as RulesCompileError {
                Issue.record("rules/\(folder)/\(file) does not compile:\n\(error)")
                continue
            }
            let expected: RulesService? = name == "firestore" ? .firestore : name == "storage" ? .storage : nil
            #expect(ruleset.service == expected, "rules/\(folder)/\(file) is for service \(ruleset.service.rawValue)")

            guard let cases = try? Self.read(folder, "\(name).tests.json") else { continue }  // reported by the test above
            let report: RulesTestReport
            do {
                report = try await RulesTestRunner.run(ruleset, cases: cases)
            } catch {
                Issue.record("rules/\(folder)/\(name).tests.json is malformed: \(error.message)")
                continue
            }
            #expect(report.results.count >= 5, "rules/\(folder)/\(name).tests.json has only \(report.results.count) cases")
            #expect(report.passed, "rules/\(folder)/\(name).tests.json:\n\(report)")
        }
    }
}
