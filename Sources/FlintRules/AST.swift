/// The syntax tree the parser builds and the checker compiles. Positions are those of the token a message should
/// point at.

/// A parsed rules file.
struct FileSyntax {
    var version: (value: String, position: SourcePosition)?
    var service: (name: String, position: SourcePosition)?
    var body: BlockSyntax
}

/// The contents of a `service` or `match` block.
struct BlockSyntax {
    var functions: [FunctionSyntax] = []
    var matches: [MatchSyntax] = []
    var allows: [AllowSyntax] = []
}

/// `match /a/{b}/{c=**} { ... }`.
struct MatchSyntax {
    var segments: [MatchSegmentSyntax]
    var position: SourcePosition
    var body: BlockSyntax
}

/// One segment of a match path.
enum MatchSegmentSyntax {
    case literal(String)
    case single(String, SourcePosition)
    case recursive(String, SourcePosition)
}

/// `allow read, update: if condition;`.
struct AllowSyntax {
    var methods: [(name: String, position: SourcePosition)]
    var condition: ExprSyntax?
    var position: SourcePosition
}

/// `function name(a, b) { let x = ...; return ...; }`.
struct FunctionSyntax {
    var name: String
    var position: SourcePosition
    var parameters: [(name: String, position: SourcePosition)]
    var lets: [(name: String, position: SourcePosition, value: ExprSyntax)]
    var body: ExprSyntax
}

/// An expression with its position and the depth of its tree (for the nesting limit).
struct ExprSyntax {
    var kind: ExprKind
    var position: SourcePosition
    var depth: Int

    init(_ kind: ExprKind, at position: SourcePosition) {
        self.kind = kind
        self.position = position
        var childDepth = 0
        kind.forEachChild { childDepth = max(childDepth, $0.depth) }
        depth = childDepth + 1
    }
}

indirect enum ExprKind {
    case null
    case bool(Bool)
    case integer(Int64)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case identifier(String)
    case list([ExprSyntax])
    case map([(key: ExprSyntax, value: ExprSyntax)])
    /// A path literal: each segment is a concatenation of text and `$(…)` parts.
    case path([[PathPartSyntax]])
    case unary(UnaryOperator, ExprSyntax)
    case binary(BinaryOperator, ExprSyntax, ExprSyntax)
    case ternary(ExprSyntax, ExprSyntax, ExprSyntax)
    case member(ExprSyntax, String)
    case index(ExprSyntax, ExprSyntax)
    case slice(ExprSyntax, ExprSyntax?, ExprSyntax?)
    /// `name(args)` when target is nil, `target.name(args)` otherwise.
    case call(target: ExprSyntax?, name: String, arguments: [ExprSyntax])
    case isType(ExprSyntax, String)

    func forEachChild(_ body: (ExprSyntax) -> Void) {
        switch self {
        case .null, .bool, .integer, .float, .string, .bytes, .identifier: break
        case .list(let items): items.forEach(body)
        case .map(let entries): for entry in entries { body(entry.key); body(entry.value) }
        case .path(let segments):
            for segment in segments {
                for case .interpolation(let e) in segment { body(e) }
            }
        case .unary(_, let e), .member(let e, _), .isType(let e, _): body(e)
        case .binary(_, let a, let b), .index(let a, let b): body(a); body(b)
        case .ternary(let a, let b, let c): body(a); body(b); body(c)
        case .slice(let a, let b, let c): body(a); b.map(body); c.map(body)
        case .call(let target, _, let arguments): target.map(body); arguments.forEach(body)
        }
    }
}

enum PathPartSyntax {
    case text(String)
    case interpolation(ExprSyntax)
}

enum UnaryOperator: String, Sendable {
    case not = "!", negate = "-"
}

enum BinaryOperator: String, Sendable {
    case or = "||", and = "&&"
    case equal = "==", notEqual = "!=", less = "<", lessEqual = "<=", greater = ">", greaterEqual = ">=", `in` = "in"
    case add = "+", subtract = "-", multiply = "*", divide = "/", remainder = "%"
}
