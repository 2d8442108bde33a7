/// The compiled form of a ruleset: names resolved to slots, functions to indices, literal regexes compiled.
/// Immutable and shared by every evaluation.
struct Program: Sendable {
    var service: RulesService
    var functions: [CompiledFunction]
    var matches: [CompiledMatch]
}

struct CompiledFunction: Sendable {
    var name: String
    var parameterCount: Int
    /// The `let` values, evaluated lazily in frame slots `parameterCount...`.
    var lets: [Node]
    var body: Node
}

struct CompiledMatch: Sendable {
    var pattern: [PatternSegment]
    var allows: [CompiledAllow]
    var children: [CompiledMatch]
}

enum PatternSegment: Sendable {
    case literal(String)
    /// `{name}`: one segment, bound as a string in the slot.
    case single(slot: Int)
    /// `{name=**}`: zero or more segments, bound as a path in the slot.
    case recursive(slot: Int)
}

struct CompiledAllow: Sendable {
    /// A bit per `RulesMethod`.
    var methods: UInt8
    /// Nil for an unconditional `allow`.
    var condition: Node?
    /// `line 7: allow read, write`.
    var label: String
}

/// The fields of `request`, read without building the whole request object.
enum RequestField: String, Sendable, CaseIterable {
    case auth, method, path, time, resource, query
}

indirect enum Node: Sendable {
    case constant(RulesValue)
    /// A parameter or `let` of the enclosing function, by frame slot.
    case local(Int)
    /// A match variable, by binding slot.
    case wildcard(Int)
    case request
    case requestField(RequestField)
    case resource
    case list([Node], SourcePosition)
    case map([(key: Node, value: Node)], SourcePosition)
    case path([[PathPart]], SourcePosition)
    case unary(UnaryOperator, Node, SourcePosition)
    case binary(BinaryOperator, Node, Node, SourcePosition)
    case ternary(Node, Node, Node, SourcePosition)
    case member(Node, String, SourcePosition)
    case index(Node, Node, SourcePosition)
    case slice(Node, Node?, Node?, SourcePosition)
    case isType(Node, RulesType, SourcePosition)
    case call(function: Int, arguments: [Node], SourcePosition)
    case builtin(Builtin, [Node], SourcePosition)
    case method(Node, Method, [Node], CompiledRegex?, SourcePosition)
}

enum PathPart: Sendable {
    case text(String)
    case interpolation(Node)
}

/// The type names `is` accepts.
enum RulesType: String, Sendable, CaseIterable {
    case string, int, float, number, bool, map, list, timestamp, duration, path, latlng, bytes, set, constraint
}

/// Global functions, plain (`get`) and namespaced (`math.abs`).
enum Builtin: String, Sendable, CaseIterable {
    case get, exists, getAfter, existsAfter, debug, string, int, float, path
    case mathAbs = "math.abs", mathCeil = "math.ceil", mathFloor = "math.floor", mathRound = "math.round"
    case mathSqrt = "math.sqrt", mathPow = "math.pow", mathIsInfinite = "math.isInfinite", mathIsNaN = "math.isNaN"
    case timestampValue = "timestamp.value", timestampDate = "timestamp.date"
    case durationValue = "duration.value", durationTime = "duration.time", durationAbs = "duration.abs"
    case hashingMD5 = "hashing.md5", hashingSHA256 = "hashing.sha256"
    case hashingCRC32 = "hashing.crc32", hashingCRC32C = "hashing.crc32c"
    case latlngValue = "latlng.value"
    case firestoreGet = "firestore.get", firestoreExists = "firestore.exists"

    static let namespaces: Set<String> = ["math", "timestamp", "duration", "hashing", "latlng", "firestore"]

    var arity: Int {
        switch self {
        case .mathPow, .durationValue, .latlngValue: 2
        case .timestampDate: 3
        case .durationTime: 4
        default: 1
        }
    }
}

/// Methods on values; which types have each is decided at evaluation.
enum Method: String, Sendable, CaseIterable {
    case size, matches, lower, upper, split, trim, replace, toUtf8, toBase64, toHexString
    case hasAll, hasAny, hasOnly, join, concat, removeAll, toSet
    case keys, values, get, diff
    case affectedKeys, addedKeys, changedKeys, removedKeys, unchangedKeys
    case difference, intersection, union
    case year, month, day, hours, minutes, seconds, nanos, toMillis, date, time, dayOfWeek, dayOfYear
    case bind, latitude, longitude, distance

    var arity: ClosedRange<Int> {
        switch self {
        case .join: 0...1
        case .get, .replace: 2...2
        case .matches, .split, .hasAll, .hasAny, .hasOnly, .concat, .removeAll, .diff, .difference, .intersection,
            .union, .bind, .distance:
            1...1
        default: 0...0
        }
    }

    /// Whether the first argument is a regular expression (compiled once when it is a literal).
    var takesPattern: Bool { self == .matches || self == .split || self == .replace }
}

/// A regular expression compiled once and shared read-only.
///
/// `Regex` is not marked Sendable; it is immutable once built, and the one lazy part (its lowered program) is
/// created by a first match in `init`, so concurrent evaluations only read it.
final class CompiledRegex: @unchecked Sendable {
    let regex: Regex<AnyRegexOutput>

    init(_ pattern: String) throws {
        regex = try Regex(pattern).matchingSemantics(.unicodeScalar)
        _ = "".wholeMatch(of: regex)
    }
}
