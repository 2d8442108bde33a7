import FlintCore

/// A compiled ruleset: parsed and checked once, then evaluated many times. Immutable, Sendable.
public struct Ruleset: Sendable {
    /// The product the rules are for, from the `service` line.
    public let service: RulesService
    /// The rules file as compiled.
    public let source: String
    let program: Program

    /// Parses and checks a rules file. Throws every error found (not just the first), each with 1-based line and column.
    public static func compile(_ source: String) throws(RulesCompileError) -> Ruleset {
        var parser = Parser(source)
        let file = parser.parseFile()
        var checker = Checker()
        checker.functionsThatFailedToParse = parser.functionsThatFailedToParse
        let program = checker.check(file)
        var diagnostics: [RulesDiagnostic] = []
        for diagnostic in (parser.diagnostics + checker.diagnostics).sorted(by: { ($0.line, $0.column) < ($1.line, $1.column) })
        where !diagnostics.contains(diagnostic) {
            diagnostics.append(diagnostic)
        }
        guard diagnostics.isEmpty else { throw RulesCompileError(diagnostics: Array(diagnostics.prefix(Parser.maximumDiagnostics))) }
        return Ruleset(service: program.service, source: source, program: program)
    }

    /// A ruleset with no rules for `service`: it denies every request.
    public static func locked(_ service: RulesService) -> Ruleset {
        Ruleset(service: service, source: "", program: Program(service: service, functions: [], matches: []))
    }

    /// Whether some `allow` for `method` applies to `path` and is not literally `false`, whatever its condition
    /// would say. The server uses it for a query that returns no documents: with nothing to check, the query is
    /// allowed when the rules could allow listing that collection at all.
    /// - Parameter path: segments under the service root, as in `RulesRequest.path`.
    public func mayGrant(_ method: RulesMethod, path: [String], bucket: String = "default") -> Bool {
        let root = service == .firestore ? RulesPath.firestoreRoot : ["b", bucket, "o"]
        return program.candidates(for: root + path).contains { match, _ in
            match.allows.contains { allow in
                guard allow.methods & method.bit != 0 else { return false }
                if case .constant(.bool(false))? = allow.condition { return false }
                return true
            }
        }
    }

    /// Decides one request. Never throws and never crashes: any evaluation error makes that `allow` expression false.
    ///
    /// Every `allow` for the request's method in every match block whose path fits is tried, in source order,
    /// until one is true.
    /// - Parameters:
    ///   - documents: where `get()`, `exists()`, `getAfter()` and `existsAfter()` read.
    ///   - budget: the document reads left for the whole request; share one across the writes of a batch.
    public func evaluate(_ request: RulesRequest, documents: any RulesDocumentSource, budget: RulesReadBudget) async -> RulesDecision {
        let root = service == .firestore ? RulesPath.firestoreRoot : ["b", request.bucket, "o"]
        let fullPath = root + request.path
        let evaluation = Evaluation(program: program, request: request, fullPath: fullPath, documents: documents, budget: budget)
        var tried: [String] = []
        for (match, bindings) in program.candidates(for: fullPath) {
            for allow in match.allows where allow.methods & request.method.bit != 0 {
                guard let condition = allow.condition else { return RulesDecision(allowed: true, explanation: allow.label) }
                evaluation.bindings = bindings
                do {
                    switch try await evaluation.evaluate(condition, nil) {
                    case .bool(true): return RulesDecision(allowed: true, explanation: allow.label)
                    case .bool(false): tried.append("\(allow.label): false")
                    case let other: tried.append("\(allow.label): the condition is \(other.typeName), not bool")
                    }
                } catch {
                    tried.append("\(allow.label): \(error.description)")
                }
            }
        }
        let where_ = RulesPath(segments: fullPath).description
        guard !tried.isEmpty else {
            return RulesDecision(allowed: false, explanation: "no rule matches \(where_) for \(request.method.rawValue)")
        }
        return RulesDecision(allowed: false, explanation: "denied \(request.method.rawValue) on \(where_): " + tried.joined(separator: "; "))
    }
}
