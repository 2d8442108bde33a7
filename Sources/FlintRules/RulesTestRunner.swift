import FlintCore

/// Runs rules test cases without a server, for `flint rules test` and for the tests of every ruleset in `rules/`.
///
/// The cases are JSON (values in `data`, tokens and properties in Flint's tagged form, `{"$timestamp": "…"}`):
/// ```json
/// {"cases": [
///   {"name": "owner can read own profile",
///    "auth": {"uid": "alice", "token": {"email": "a@example.com", "admin": true}},
///    "method": "get",
///    "path": "users/alice",
///    "existing": {"users/alice": {"name": "Alice"}, "rooms/r1": {"members": ["alice"]}},
///    "request": {"data": {"name": "Alice 2"}},
///    "query": {"limit": 20},
///    "time": "2026-11-26T10:00:00Z",
///    "expect": "allow"}
/// ]}
/// ```
/// - `name`, `method` (get, list, create, update, delete), `path` and `expect` (allow or deny) are required.
/// - `auth` omitted or null: signed out. `token` defaults to `{}`.
/// - `time` is `request.time` (RFC 3339); without it, the time the case runs.
/// - Firestore: `path` is a document path; `existing` maps document paths to their data; `resource` is
///   `existing[path]`; for create and update `request.data` is the whole document after the write
///   (`request.resource.data`, default `{}`); `getAfter()` sees `existing` with the write applied at `path`
///   (the document removed for delete). `query` gives `request.query` (`limit`, `offset`, `orderBy`).
/// - Storage: `path` is the object name; `existing` maps object names to their properties (`size`,
///   `contentType`, `metadata`, …); `request` holds request.resource's properties for create and update;
///   `bucket` names the bucket (default "default"); `firestore` maps document paths to the data that
///   `firestore.get()` and `firestore.exists()` read.
/// Each case gets its own read budget of 10 documents.
public enum RulesTestRunner {
    /// Parses every case first (so that a malformed file runs nothing), then evaluates each.
    /// - Throws: `RulesTestError` naming the case, the field and what was expected, when the file is malformed.
    public static func run(_ ruleset: Ruleset, cases json: String) async throws(RulesTestError) -> RulesTestReport {
        let document: JSON
        do {
            document = try JSON(parsing: json)
        } catch {
            throw RulesTestError("the test file is not valid JSON: \(error.message)")
        }
        guard case .object(let top) = document else { throw RulesTestError("the test file must be an object {\"cases\": [...]}") }
        for key in top.keys where key != "cases" && key != "description" {
            throw RulesTestError("unknown top-level key \"\(key)\"; expected \"cases\"")
        }
        guard case .array(let items)? = top["cases"] else { throw RulesTestError("the test file needs \"cases\": an array of cases") }
        var cases: [TestCase] = []
        for (index, item) in items.enumerated() {
            cases.append(try TestCase(item, index: index, service: ruleset.service))
        }
        var results: [RulesTestResult] = []
        for testCase in cases {
            let budget = RulesReadBudget(limit: RulesReadBudget.singleDocumentLimit)
            let decision = await ruleset.evaluate(testCase.request, documents: testCase.documents, budget: budget)
            results.append(RulesTestResult(name: testCase.name, expected: testCase.expectAllow, decision: decision))
        }
        return RulesTestReport(results: results)
    }
}

/// What is wrong with a rules test file.
public struct RulesTestError: Error, Sendable, CustomStringConvertible {
    /// Which case and field, and what was expected there.
    public var message: String

    /// Makes an error.
    public init(_ message: String) { self.message = message }

    /// The message.
    public var description: String { message }
}

/// The outcome of one test case.
public struct RulesTestResult: Sendable {
    /// The case's name.
    public var name: String
    /// Whether the case expects the request to be allowed.
    public var expected: Bool
    /// What the rules decided, with the explanation.
    public var decision: RulesDecision
    /// Whether the decision is the expected one.
    public var passed: Bool

    /// Makes a result; `passed` follows from the expectation and the decision.
    public init(name: String, expected: Bool, decision: RulesDecision) {
        self.name = name
        self.expected = expected
        self.decision = decision
        self.passed = expected == decision.allowed
    }
}

/// The outcome of a test file: a line per case and a summary.
public struct RulesTestReport: Sendable, CustomStringConvertible {
    /// One result per case, in file order.
    public var results: [RulesTestResult]

    /// Makes a report.
    public init(results: [RulesTestResult]) { self.results = results }

    /// Whether every case passed.
    public var passed: Bool { results.allSatisfy(\.passed) }

    /// `PASS name` or `FAIL name: expected allow, got deny (explanation)` per case, then a summary line.
    public var description: String {
        var lines = results.map { result in
            result.passed
                ? "PASS \(result.name)"
                : "FAIL \(result.name): expected \(result.expected ? "allow" : "deny"), got \(result.decision.allowed ? "allow" : "deny") (\(result.decision.explanation))"
        }
        let failed = results.filter { !$0.passed }.count
        lines.append("\(results.count - failed) of \(results.count) cases passed" + (failed > 0 ? "; \(failed) failed" : ""))
        return lines.joined(separator: "\n")
    }
}
