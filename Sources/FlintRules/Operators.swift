import FlintCore

/// Unary and binary operators other than `&&` and `||`.
extension Evaluation {
    func unary(_ op: UnaryOperator, _ value: RulesValue, at position: SourcePosition) throws(EvalError) -> RulesValue {
        switch (op, value) {
        case (.not, .bool(let b)): return .bool(!b)
        case (.negate, .int(let i)):
            guard i != .min else { throw EvalError("integer overflow in -\(i)", at: position) }
            return .int(-i)
        case (.negate, .float(let d)): return .float(-d)
        case (.negate, .duration(let d)): return .duration(RulesDuration(nanoseconds: -d.totalNanoseconds)!)
        default: throw EvalError("'\(op.rawValue)' does not apply to \(value.typeName)", at: position)
        }
    }

    func binary(_ op: BinaryOperator, _ a: RulesValue, _ b: RulesValue, at position: SourcePosition) throws(EvalError) -> RulesValue {
        switch op {
        case .equal: return .bool(a == b)
        case .notEqual: return .bool(a != b)
        case .less, .lessEqual, .greater, .greaterEqual:
            guard let order = compare(a, b) else {
                throw EvalError("cannot compare \(a.typeName) with \(b.typeName) using '\(op.rawValue)'", at: position)
            }
            // A NaN is unordered: every ordering comparison with it is false.
            guard let order else { return .bool(false) }
            switch op {
            case .less: return .bool(order < 0)
            case .lessEqual: return .bool(order <= 0)
            case .greater: return .bool(order > 0)
            default: return .bool(order >= 0)
            }
        case .in:
            switch b {
            case .list(let items): return .bool(items.contains(a))
            case .set(let items): return .bool(items.contains(a))
            case .map(let fields):
                guard case .string(let key) = a else { return .bool(false) }
                return .bool(fields[key] != nil)
            default: throw EvalError("'in' needs a list, set or map on its right, not \(b.typeName)", at: position)
            }
        case .add: return try add(a, b, at: position)
        case .subtract, .multiply, .divide, .remainder: return try arithmetic(op, a, b, at: position)
        case .and, .or: throw EvalError("internal: logical operator evaluated eagerly", at: position)
        }
    }

    /// -1, 0 or 1 for comparable values; `.some(nil)` when a NaN makes them unordered; nil when they are not comparable.
    func compare(_ a: RulesValue, _ b: RulesValue) -> Int?? {
        switch (a, b) {
        case (.int(let x), .int(let y)): return x == y ? 0 : (x < y ? -1 : 1)
        case (.float(let x), .float(let y)):
            if x.isNaN || y.isNaN { return .some(nil) }
            return x == y ? 0 : (x < y ? -1 : 1)
        case (.int(let x), .float(let y)):
            if y.isNaN { return .some(nil) }
            return Value.compare(.integer(x), .double(y))
        case (.float(let x), .int(let y)):
            if x.isNaN { return .some(nil) }
            return Value.compare(.double(x), .integer(y))
        case (.string(let x), .string(let y)): return Value.compare(.string(x), .string(y))
        case (.bytes(let x), .bytes(let y)): return Value.compare(.bytes(x), .bytes(y))
        case (.timestamp(let x), .timestamp(let y)): return x == y ? 0 : (x < y ? -1 : 1)
        case (.duration(let x), .duration(let y)): return x == y ? 0 : (x < y ? -1 : 1)
        default: return nil
        }
    }

    func add(_ a: RulesValue, _ b: RulesValue, at position: SourcePosition) throws(EvalError) -> RulesValue {
        switch (a, b) {
        case (.string(let x), .string(let y)):
            guard x.utf8.count + y.utf8.count <= Evaluation.maximumStringBytes else {
                throw EvalError("the string would be longer than \(Evaluation.maximumStringBytes) bytes", at: position)
            }
            return .string(x + y)
        case (.list(let x), .list(let y)):
            guard x.count + y.count <= Evaluation.maximumCollectionCount else {
                throw EvalError("the list would have more than \(Evaluation.maximumCollectionCount) elements", at: position)
            }
            return .list(x + y)
        case (.timestamp(let t), .duration(let d)), (.duration(let d), .timestamp(let t)):
            return try shift(t, by: d.totalNanoseconds, at: position)
        case (.duration(let x), .duration(let y)):
            return try duration(x.totalNanoseconds + y.totalNanoseconds, at: position)
        default:
            return try arithmetic(.add, a, b, at: position)
        }
    }

    func arithmetic(_ op: BinaryOperator, _ a: RulesValue, _ b: RulesValue, at position: SourcePosition) throws(EvalError) -> RulesValue {
        switch (a, b) {
        case (.int(let x), .int(let y)):
            let result: (partialValue: Int64, overflow: Bool)
            switch op {
            case .add: result = x.addingReportingOverflow(y)
            case .subtract: result = x.subtractingReportingOverflow(y)
            case .multiply: result = x.multipliedReportingOverflow(by: y)
            case .divide, .remainder:
                guard y != 0 else { throw EvalError("division by zero", at: position) }
                result = op == .divide ? x.dividedReportingOverflow(by: y) : x.remainderReportingOverflow(dividingBy: y)
            default: result = (0, true)
            }
            guard !result.overflow else { throw EvalError("integer overflow in \(x) \(op.rawValue) \(y)", at: position) }
            return .int(result.partialValue)
        case (.int, .float), (.float, .int), (.float, .float):
            let x = number(a), y = number(b)
            switch op {
            case .add: return .float(x + y)
            case .subtract: return .float(x - y)
            case .multiply: return .float(x * y)
            case .divide: return .float(x / y)
            case .remainder: return .float(x.truncatingRemainder(dividingBy: y))
            default: break
            }
        case (.timestamp(let t), .duration(let d)) where op == .subtract:
            return try shift(t, by: -d.totalNanoseconds, at: position)
        case (.timestamp(let x), .timestamp(let y)) where op == .subtract:
            return try duration((Int128(x.microseconds) - Int128(y.microseconds)) * 1000, at: position)
        case (.duration(let x), .duration(let y)) where op == .subtract:
            return try duration(x.totalNanoseconds - y.totalNanoseconds, at: position)
        default: break
        }
        throw EvalError("'\(op.rawValue)' does not apply to \(a.typeName) and \(b.typeName)", at: position)
    }

    func number(_ value: RulesValue) -> Double {
        switch value {
        case .int(let i): Double(i)
        case .float(let d): d
        default: .nan
        }
    }

    func shift(_ t: Timestamp, by nanoseconds: Int128, at position: SourcePosition) throws(EvalError) -> RulesValue {
        let micros = Int128(t.microseconds) + nanoseconds / 1000
        guard micros >= Int128(Timestamp.min.microseconds), micros <= Int128(Timestamp.max.microseconds) else {
            throw EvalError("the timestamp would be outside years 1 to 9999", at: position)
        }
        return .timestamp(Timestamp(microseconds: Int64(micros)))
    }

    func duration(_ nanoseconds: Int128, at position: SourcePosition) throws(EvalError) -> RulesValue {
        guard let d = RulesDuration(nanoseconds: nanoseconds) else {
            throw EvalError("the duration is out of range (about ±10,000 years)", at: position)
        }
        return .duration(d)
    }
}
