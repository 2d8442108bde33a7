import ArgumentParser
import FlintCore
import FlintRules
import Foundation

/// `flint rules test`: runs rules test cases locally, without a server.
struct RulesTest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run rules test cases locally, without a server.",
        discussion: """
            Each test file X.tests.json runs against the rules file X.rules in the same folder \
            (firestore.tests.json against firestore.rules), or against --rules. Without arguments, every \
            rules/*.tests.json runs. Prints PASS or FAIL for each case and a summary; exits 1 if a case fails, a \
            rules file does not compile, or a test file is malformed. The format of the cases is in \
            sdk-docs/rules.md ("Testing rules without a server").

            Examples:
              flint rules test
              flint rules test rules/firestore.tests.json
              flint rules test cases.json --rules rules/firestore.rules
            """)

    @OptionGroup var options: OutputOptions

    @Argument(help: ArgumentHelp("Test files (default: rules/*.tests.json).", valueName: "tests-file"))
    var files: [String] = []

    @Option(help: ArgumentHelp("The rules file for every test file given.", valueName: "file"))
    var rules: String?

    /// The test files and the rules file of each.
    func pairs() throws -> [(tests: String, rules: String)] {
        var tests = files
        if tests.isEmpty {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: "rules")) ?? []
            tests = names.filter { $0.hasSuffix(".tests.json") }.sorted().map { "rules/\($0)" }
            guard !tests.isEmpty else { throw CLIError("no rules/*.tests.json here; give test files, or run `flint init`") }
        }
        return try tests.map { file in
            if let rules { return (file, rules) }
            guard file.hasSuffix(".tests.json") else {
                throw CLIError("\(file) is not named X.tests.json, so its rules file is unknown; give it with --rules")
            }
            return (file, String(file.dropLast(".tests.json".count)) + ".rules")
        }
    }

    func run() async throws {
        let output = options.output
        let errorColours = Terminal.colours(Terminal.standardError)
        var passed = 0
        var failed = 0
        var broken = 0
        var reports: [JSON] = []
        for (testsFile, rulesFile) in try pairs() {
            var entry: [String: JSON] = ["file": .string(testsFile), "rules": .string(rulesFile)]
            output.line(output.styled(testsFile, .bold) + output.styled(" (\(rulesFile))", .dim))
            do {
                let source = try readTextFile(rulesFile)
                let ruleset: Ruleset
                do {
                    ruleset = try Ruleset.compile(source)
                } catch {
                    for diagnostic in error.diagnostics {
                        Terminal.err(Diagnostics.render(
                            file: rulesFile, source: source, line: diagnostic.line, column: diagnostic.column, message: diagnostic.message,
                            colours: errorColours))
                    }
                    throw CLIError("\(rulesFile) does not compile (\(error.diagnostics.count) error\(error.diagnostics.count == 1 ? "" : "s"))")
                }
                let cases = try readTextFile(testsFile)
                let report: RulesTestReport
                do {
                    report = try await RulesTestRunner.run(ruleset, cases: cases)
                } catch {
                    throw CLIError("\(testsFile): \(error.message)")
                }
                for result in report.results {
                    if result.passed {
                        passed += 1
                        output.line("  " + output.styled("PASS", .green) + " \(result.name)")
                    } else {
                        failed += 1
                        output.line(
                            "  " + output.styled("FAIL", .red) + " \(result.name): expected \(result.expected ? "allow" : "deny"), got "
                                + "\(result.decision.allowed ? "allow" : "deny") " + output.styled("(\(result.decision.explanation))", .dim))
                    }
                }
                let fileFailures = report.results.filter { !$0.passed }.count
                output.line("  \(report.results.count - fileFailures) of \(report.results.count) cases passed" + (fileFailures > 0 ? "; \(fileFailures) failed" : ""))
                entry["cases"] = .array(report.results.map { result in
                    .object([
                        "name": .string(result.name), "passed": .bool(result.passed),
                        "expected": .string(result.expected ? "allow" : "deny"), "actual": .string(result.decision.allowed ? "allow" : "deny"),
                        "explanation": .string(result.decision.explanation),
                    ])
                })
                entry["passed"] = .bool(report.passed)
            } catch let error as CLIError {
                broken += 1
                output.line("  " + output.styled("ERROR", .red) + " \(error.message)")
                entry["error"] = .string(error.message)
                entry["passed"] = .bool(false)
            }
            reports.append(.object(entry))
        }
        let total = passed + failed
        output.document(.object([
            "files": .array(reports), "passed": .integer(Int64(passed)), "failed": .integer(Int64(failed)),
            "brokenFiles": .integer(Int64(broken)), "ok": .bool(failed == 0 && broken == 0),
        ]))
        let summary = "\(passed) of \(total) cases passed in \(reports.count) file\(reports.count == 1 ? "" : "s")"
            + (failed > 0 ? "; \(failed) failed" : "") + (broken > 0 ? "; \(broken) file\(broken == 1 ? "" : "s") could not run" : "")
        output.line()
        output.line(output.styled(summary, failed == 0 && broken == 0 ? .green : .red))
        if failed > 0 || broken > 0 {
            throw CommandFailed(summary: broken > 0 && failed == 0 ? "\(broken) test file\(broken == 1 ? "" : "s") could not run" : "\(failed) of \(total) cases failed")
        }
    }
}
