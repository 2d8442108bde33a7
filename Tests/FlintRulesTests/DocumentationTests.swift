import Foundation
import Testing

@testable import FlintRules

/// sdk-docs/rules.md stays true: its rules file compiles and its test cases pass against it.
@Suite struct DocumentationTests {
    func blocks(_ markdown: String, language: String) -> [String] {
        let parts = markdown.components(separatedBy: "```")
        return stride(from: 1, to: parts.count, by: 2).compactMap { index in
            let block = parts[index]
            let firstLine = block.prefix { $0 != "\n" }
            return firstLine == language ? String(block.dropFirst(firstLine.count + 1)) : nil
        }
    }

    @Test func theGuidesExampleRulesCompileAndItsCasesPass() async throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../sdk-docs/rules.md")
        let markdown = try String(contentsOf: url, encoding: .utf8)
        let rulesSource = try #require(blocks(markdown, language: "").first)
        let cases = try #require(blocks(markdown, language: "json").first)
        let rules = try compile(rulesSource)
        let report = try await RulesTestRunner.run(rules, cases: cases)
        #expect(report.passed, "\(report)")
        #expect(report.results.count == 3)
    }
}
