import FlintCore

/// Why an expression has no value: the rules' equivalent of an exception, which makes its `allow` false.
struct EvalError: Error, Sendable {
    var position: SourcePosition
    var message: String

    init(_ message: String, at position: SourcePosition) {
        self.message = message
        self.position = position
    }

    /// `line 9:20: null value has no field 'uid'`.
    var description: String { position == .none ? message : "line \(position): \(message)" }
}

/// The state of one `Ruleset.evaluate` call: the request, its lazily built objects, the match variables of the
/// rule being tried, and the counters that bound the work. Used by one task only.
final class Evaluation {
    /// The most expression nodes one request may evaluate, so that chains of functions cannot blow up.
    static let maximumSteps = 10_000
    /// The deepest user functions may call each other.
    static let maximumCallDepth = 20
    /// The longest string an operation may produce, in UTF-8 bytes (Firestore's document size).
    static let maximumStringBytes = 1 << 20
    /// The most elements a list, map or set an operation produces may have.
    static let maximumCollectionCount = 100_000
    /// The deepest a list or map built by the rules may nest.
    static let maximumValueDepth = 100

    let program: Program
    let request: RulesRequest
    let fullPath: [String]
    let documents: any RulesDocumentSource
    let budget: RulesReadBudget

    /// The match variables of the rule being evaluated, by slot.
    var bindings: [RulesValue] = []
    var steps = 0
    var callDepth = 0
    var requestFields: [RequestField: RulesValue] = [:]
    var resourceValue: RulesValue?
    var regexes: [String: CompiledRegex] = [:]
    var documentsBefore: [DocumentPath: [String: Value]?] = [:]
    var documentsAfter: [DocumentPath: [String: Value]?] = [:]

    init(program: Program, request: RulesRequest, fullPath: [String], documents: any RulesDocumentSource, budget: RulesReadBudget) {
        self.program = program
        self.request = request
        self.fullPath = fullPath
        self.documents = documents
        self.budget = budget
    }

    /// A function call's parameters and lazily evaluated `let`s.
    final class Frame {
        enum Slot {
            case value(RulesValue)
            case pending
            case failed(EvalError)
        }

        let function: CompiledFunction
        var slots: [Slot]

        init(function: CompiledFunction, arguments: [RulesValue]) {
            self.function = function
            slots = arguments.map(Slot.value) + Array(repeating: .pending, count: function.lets.count)
        }
    }

    func evaluate(_ node: Node, _ frame: Frame?) async throws(EvalError) -> RulesValue {
        steps += 1
        if steps > Evaluation.maximumSteps {
            throw EvalError("the rules evaluated more than \(Evaluation.maximumSteps) expressions for this request", at: node.position)
        }
        switch node {
        case .constant(let value):
            return value
        case .local(let slot):
            return try await local(slot, frame)
        case .wildcard(let slot):
            guard slot < bindings.count else { throw EvalError("match variable out of scope", at: .none) }
            return bindings[slot]
        case .request:
            return requestObject()
        case .requestField(let field):
            return requestField(field)
        case .resource:
            if let resourceValue { return resourceValue }
            let value = resourceObject(request.resource)
            resourceValue = value
            return value
        case .list(let nodes, let position):
            var items: [RulesValue] = []
            items.reserveCapacity(nodes.count)
            for item in nodes { items.append(try await evaluate(item, frame)) }
            let value = RulesValue.list(items)
            try checkDepth(value, at: position)
            return value
        case .map(let entries, let position):
            var fields: [String: RulesValue] = [:]
            for entry in entries {
                let key = try await evaluate(entry.key, frame)
                guard case .string(let name) = key else { throw EvalError("map keys must be strings, not \(key.typeName)", at: position) }
                fields[name] = try await evaluate(entry.value, frame)
            }
            let value = RulesValue.map(fields)
            try checkDepth(value, at: position)
            return value
        case .path(let segments, let position):
            return try await path(segments, frame, at: position)
        case .unary(let op, let operand, let position):
            return try unary(op, try await evaluate(operand, frame), at: position)
        case .binary(.and, let left, let right, let position):
            return try await logical(isAnd: true, left, right, frame, at: position)
        case .binary(.or, let left, let right, let position):
            return try await logical(isAnd: false, left, right, frame, at: position)
        case .binary(let op, let left, let right, let position):
            let a = try await evaluate(left, frame)
            let b = try await evaluate(right, frame)
            return try binary(op, a, b, at: position)
        case .ternary(let condition, let whenTrue, let whenFalse, let position):
            switch try await evaluate(condition, frame) {
            case .bool(true): return try await evaluate(whenTrue, frame)
            case .bool(false): return try await evaluate(whenFalse, frame)
            case let other: throw EvalError("the condition of '?:' is \(other.typeName), not bool", at: position)
            }
        case .member(let target, let name, let position):
            return try member(try await evaluate(target, frame), name, at: position)
        case .index(let target, let index, let position):
            let container = try await evaluate(target, frame)
            return try self.index(container, try await evaluate(index, frame), at: position)
        case .slice(let target, let start, let end, let position):
            let container = try await evaluate(target, frame)
            let from = try await start.asyncMap { node throws(EvalError) in try await evaluate(node, frame) }
            let to = try await end.asyncMap { node throws(EvalError) in try await evaluate(node, frame) }
            return try slice(container, from, to, at: position)
        case .isType(let operand, let type, _):
            return .bool(value(try await evaluate(operand, frame), isOf: type))
        case .call(let function, let arguments, let position):
            return try await call(function, arguments, frame, at: position)
        case .builtin(let builtin, let arguments, let position):
            var values: [RulesValue] = []
            values.reserveCapacity(arguments.count)
            for argument in arguments { values.append(try await evaluate(argument, frame)) }
            return try await callBuiltin(builtin, values, at: position)
        case .method(let target, let method, let arguments, let regex, let position):
            let receiver = try await evaluate(target, frame)
            var values: [RulesValue] = []
            values.reserveCapacity(arguments.count)
            for argument in arguments { values.append(try await evaluate(argument, frame)) }
            return try callMethod(method, on: receiver, values, regex: regex, at: position)
        }
    }

    func local(_ slot: Int, _ frame: Frame?) async throws(EvalError) -> RulesValue {
        guard let frame, slot < frame.slots.count else { throw EvalError("variable out of scope", at: .none) }
        switch frame.slots[slot] {
        case .value(let value): return value
        case .failed(let error): throw error
        case .pending:
            do throws(EvalError) {
                let value = try await evaluate(frame.function.lets[slot - frame.function.parameterCount], frame)
                frame.slots[slot] = .value(value)
                return value
            } catch {
                frame.slots[slot] = .failed(error)
                throw error
            }
        }
    }

    /// `&&` and `||` as Firebase has them: the left side first; a side that decides (false for `&&`, true for `||`)
    /// decides even when the other side is an error; otherwise an error on either side is the result.
    func logical(isAnd: Bool, _ left: Node, _ right: Node, _ frame: Frame?, at position: SourcePosition) async throws(EvalError) -> RulesValue {
        let decisive = !isAnd
        /// The side's bool, or the error it gave.
        func side(_ node: Node) async -> Result<Bool, EvalError> {
            do throws(EvalError) {
                let value = try await evaluate(node, frame)
                guard case .bool(let truth) = value else {
                    throw EvalError("'\(isAnd ? "&&" : "||")' needs bools, not \(value.typeName)", at: position)
                }
                return .success(truth)
            } catch {
                return .failure(error)
            }
        }
        let first = await side(left)
        if case .success(decisive) = first { return .bool(decisive) }
        let second = await side(right)
        if case .success(decisive) = second { return .bool(decisive) }
        if case .failure(let error) = first { throw error }
        if case .failure(let error) = second { throw error }
        return .bool(!decisive)
    }

    func call(_ index: Int, _ arguments: [Node], _ frame: Frame?, at position: SourcePosition) async throws(EvalError) -> RulesValue {
        let function = program.functions[index]
        guard callDepth < Evaluation.maximumCallDepth else {
            throw EvalError("functions call each other more than \(Evaluation.maximumCallDepth) levels deep", at: position)
        }
        var values: [RulesValue] = []
        values.reserveCapacity(arguments.count)
        for argument in arguments { values.append(try await evaluate(argument, frame)) }
        callDepth += 1
        defer { callDepth -= 1 }
        return try await evaluate(function.body, Frame(function: function, arguments: values))
    }

    func checkDepth(_ value: RulesValue, at position: SourcePosition) throws(EvalError) {
        if value.nestingDepth(limit: Evaluation.maximumValueDepth) > Evaluation.maximumValueDepth {
            throw EvalError("the value nests lists and maps more than \(Evaluation.maximumValueDepth) levels deep", at: position)
        }
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws(EvalError) -> T) async throws(EvalError) -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}

extension Node {
    /// The position an error in this node points at.
    var position: SourcePosition {
        switch self {
        case .constant, .local, .wildcard, .request, .requestField, .resource: .none
        case .list(_, let p), .map(_, let p), .path(_, let p), .unary(_, _, let p), .binary(_, _, _, let p),
            .ternary(_, _, _, let p), .member(_, _, let p), .index(_, _, let p), .slice(_, _, _, let p),
            .isType(_, _, let p), .call(_, _, let p), .builtin(_, _, let p), .method(_, _, _, _, let p):
            p
        }
    }
}
