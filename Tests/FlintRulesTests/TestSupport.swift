import FlintCore
import Testing

@testable import FlintRules

/// Documents in a dictionary, for get()/exists() in tests; counts the reads that reach it.
struct MemoryDocuments: RulesDocumentSource {
    var before: [String: [String: Value]] = [:]
    var after: [String: [String: Value]]?

    func document(at path: DocumentPath) async throws -> [String: Value]? { before[path.description] }
    func documentAfter(at path: DocumentPath) async throws -> [String: Value]? { (after ?? before)[path.description] }
}

/// A source whose reads fail, as a database error would.
struct FailingDocuments: RulesDocumentSource {
    struct Broken: Error {}
    func document(at path: DocumentPath) async throws -> [String: Value]? { throw Broken() }
    func documentAfter(at path: DocumentPath) async throws -> [String: Value]? { throw Broken() }
}

func compile(_ source: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Ruleset {
    do {
        return try Ruleset.compile(source)
    } catch {
        Issue.record("unexpected diagnostics:\n\(error)", sourceLocation: sourceLocation)
        throw error
    }
}

/// The diagnostics of a source that must not compile.
func diagnostics(_ source: String, sourceLocation: SourceLocation = #_sourceLocation) -> [RulesDiagnostic] {
    do {
        _ = try Ruleset.compile(source)
        Issue.record("compiled, but diagnostics were expected", sourceLocation: sourceLocation)
        return []
    } catch {
        return error.diagnostics
    }
}

func firestore(_ body: String) -> String {
    """
    rules_version = '2';
    service cloud.firestore {
      match /databases/{database}/documents {
    \(body)
      }
    }
    """
}

func path(_ text: String) -> DocumentPath { try! DocumentPath(text) }

extension Ruleset {
    /// Decides a Firestore request on `documentPath` with `existing` as the stored documents.
    func decide(
        _ method: RulesMethod, _ documentPath: String, auth: RulesAuth? = nil, existing: [String: [String: Value]] = [:],
        writing data: [String: Value]? = nil, query: RulesQuery? = nil,
        time: Timestamp = Timestamp(rfc3339: "2026-11-26T10:00:00Z")!,
        budget: RulesReadBudget = RulesReadBudget(limit: 10)
    ) async -> RulesDecision {
        let target = path(documentPath)
        var after = existing
        if method == .delete { after[documentPath] = nil } else if let data { after[documentPath] = data }
        let request = RulesRequest(
            method: method, path: target.segments, auth: auth, time: time,
            resource: existing[documentPath].map { .document(path: target, data: $0) },
            requestResource: data.map { .document(path: target, data: $0) }, query: query)
        return await evaluate(request, documents: MemoryDocuments(before: existing, after: after), budget: budget)
    }
}

/// What one condition evaluates to.
enum Outcome: Equatable, CustomStringConvertible {
    case value(RulesValue)
    case error(String)

    var description: String {
        switch self {
        case .value(let v): "\(v)"
        case .error(let message): "error: \(message)"
        }
    }

    var isError: Bool { if case .error = self { true } else { false } }
}

/// Evaluates one expression as the condition of `allow get` on `/databases/(default)/documents/things/t1`, with
/// alice signed in (admin claim), `resource.data` = `{"owner": "alice", "tags": ["a", "b"], "n": 3}`.
func outcome(_ expression: String, sourceLocation: SourceLocation = #_sourceLocation) async -> Outcome {
    let source = firestore("match /things/{thing} { allow get: if \(expression); }")
    let ruleset: Ruleset
    do {
        ruleset = try Ruleset.compile(source)
    } catch {
        Issue.record("\(expression) does not compile:\n\(error)", sourceLocation: sourceLocation)
        return .error("compile")
    }
    let fullPath = RulesPath.firestoreRoot + ["things", "t1"]
    let request = RulesRequest(
        method: .get, path: ["things", "t1"], auth: RulesAuth(uid: "alice", token: ["admin": true, "email": "a@example.com"]),
        time: Timestamp(rfc3339: "2026-11-26T10:00:00Z")!,
        resource: .document(path: path("things/t1"), data: ["owner": "alice", "tags": ["a", "b"], "n": 3]))
    let evaluation = Evaluation(
        program: ruleset.program, request: request, fullPath: fullPath,
        documents: MemoryDocuments(before: ["users/alice": ["role": "admin"]]), budget: RulesReadBudget(limit: 10))
    let (match, bindings) = ruleset.program.candidates(for: fullPath)[0]
    evaluation.bindings = bindings
    do {
        return .value(try await evaluation.evaluate(match.allows[0].condition!, nil))
    } catch {
        return .error(error.message)
    }
}
