import FlintCore

/// A value while rules evaluate: Flint's data types plus the rule-only ones (path, duration, set, map diff).
///
/// Equality is Firebase's `==`: integers and floats compare by numeric value (`1 == 1.0`), strings by their UTF-8
/// bytes, lists element by element, maps key by key, sets as sets; values of different types are unequal.
/// NaN equals NaN, as in Flint's query order, so that sets and `in` behave.
enum RulesValue: Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case timestamp(Timestamp)
    case duration(RulesDuration)
    case latlng(latitude: Double, longitude: Double)
    case path(RulesPath)
    case list([RulesValue])
    case map([String: RulesValue])
    case set(Set<RulesValue>)
    case mapDiff(MapDiff)

    /// The type's name as rules write it after `is`, for messages.
    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "bool"
        case .int: "int"
        case .float: "float"
        case .string: "string"
        case .bytes: "bytes"
        case .timestamp: "timestamp"
        case .duration: "duration"
        case .latlng: "latlng"
        case .path: "path"
        case .list: "list"
        case .map: "map"
        case .set: "set"
        case .mapDiff: "map diff"
        }
    }

    /// Converts a stored value; references become paths under `/databases/(default)/documents`.
    init(_ value: Value) {
        switch value {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .integer(let i): self = .int(i)
        case .double(let d): self = .float(d)
        case .timestamp(let t): self = .timestamp(t)
        case .string(let s): self = .string(s)
        case .bytes(let b): self = .bytes(b)
        case .reference(let p): self = .path(RulesPath(segments: RulesPath.firestoreRoot + p.segments))
        case .geoPoint(let g): self = .latlng(latitude: g.latitude, longitude: g.longitude)
        case .array(let items): self = .list(items.map(RulesValue.init))
        case .map(let fields): self = .map(fields.mapValues(RulesValue.init))
        }
    }

    static func map(_ fields: [String: Value]) -> RulesValue { .map(fields.mapValues(RulesValue.init)) }

    /// How deeply lists, maps and sets nest inside this value, counting up to `limit` + 1 at most.
    func nestingDepth(limit: Int) -> Int {
        guard limit >= 0 else { return 1 }
        var deepest = 0
        switch self {
        case .list(let items): for item in items { deepest = max(deepest, item.nestingDepth(limit: limit - 1)) }
        case .map(let fields): for item in fields.values { deepest = max(deepest, item.nestingDepth(limit: limit - 1)) }
        case .set(let items): for item in items { deepest = max(deepest, item.nestingDepth(limit: limit - 1)) }
        default: return 0
        }
        return deepest + 1
    }
}

extension RulesValue: Hashable {
    static func == (lhs: RulesValue, rhs: RulesValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.int(let a), .int(let b)): a == b
        case (.float(let a), .float(let b)): a == b || (a.isNaN && b.isNaN)
        case (.int(let a), .float(let b)), (.float(let b), .int(let a)): Value.compare(.integer(a), .double(b)) == 0
        case (.string(let a), .string(let b)): a.utf8.elementsEqual(b.utf8)
        case (.bytes(let a), .bytes(let b)): a == b
        case (.timestamp(let a), .timestamp(let b)): a == b
        case (.duration(let a), .duration(let b)): a == b
        case (.latlng(let a1, let a2), .latlng(let b1, let b2)): a1 == b1 && a2 == b2
        case (.path(let a), .path(let b)): a == b
        case (.list(let a), .list(let b)): a == b
        case (.map(let a), .map(let b)): a == b
        case (.set(let a), .set(let b)): a == b
        case (.mapDiff(let a), .mapDiff(let b)): a.left == b.left && a.right == b.right
        default: false
        }
    }

    func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .bool(let b): hasher.combine(b)
        case .int(let i):
            // Equal numbers hash alike whatever their type: an integer a double can hold hashes as that double.
            if let d = Double(exactly: i) { hasher.combine(d) } else { hasher.combine(i) }
        case .float(let d): if d.isNaN { hasher.combine(Double.nan.bitPattern) } else { hasher.combine(d) }
        case .string(var s): s.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        case .bytes(let b): hasher.combine(b)
        case .timestamp(let t): hasher.combine(t)
        case .duration(let d): hasher.combine(d)
        case .latlng(let a, let b): hasher.combine(a); hasher.combine(b)
        case .path(let p): hasher.combine(p)
        case .list(let items): hasher.combine(items)
        case .map(let fields): hasher.combine(fields)
        case .set(let items): hasher.combine(items)
        case .mapDiff(let d): hasher.combine(d.left); hasher.combine(d.right)
        }
    }
}

/// A path value: `/databases/(default)/documents/users/alice`, as segments.
struct RulesPath: Sendable, Hashable, CustomStringConvertible {
    static let firestoreRoot = ["databases", "(default)", "documents"]

    var segments: [String]

    var description: String { "/" + segments.joined(separator: "/") }

    static func == (a: RulesPath, b: RulesPath) -> Bool { PathSegments.equal(a.segments, b.segments) }

    func hash(into hasher: inout Hasher) {
        hasher.combine(segments.count)
        for segment in segments { for byte in segment.utf8 { hasher.combine(byte) } }
    }
}

/// A duration with nanosecond precision: whole seconds and nanoseconds of the same sign, as protobuf's Duration.
struct RulesDuration: Sendable, Hashable, Comparable {
    /// About 10,000 years either way, protobuf's range for durations.
    static let maximumSeconds: Int64 = 315_576_000_000

    var seconds: Int64
    var nanos: Int32

    var totalNanoseconds: Int128 { Int128(seconds) * 1_000_000_000 + Int128(nanos) }

    /// Nil when out of range.
    init?(nanoseconds total: Int128) {
        let seconds = total / 1_000_000_000
        guard seconds >= -Int128(RulesDuration.maximumSeconds), seconds <= Int128(RulesDuration.maximumSeconds) else { return nil }
        self.seconds = Int64(seconds)
        self.nanos = Int32(total % 1_000_000_000)
    }

    static func < (a: RulesDuration, b: RulesDuration) -> Bool { a.totalNanoseconds < b.totalNanoseconds }
}

/// The difference between two maps, from `a.diff(b)`: `left` is `a` (the new data), `right` is `b` (the old).
struct MapDiff: Sendable {
    var left: [String: RulesValue]
    var right: [String: RulesValue]

    /// Keys in `left` but not in `right`.
    var addedKeys: Set<RulesValue> { Set(left.keys.filter { right[$0] == nil }.map(RulesValue.string)) }
    /// Keys in `right` but not in `left`.
    var removedKeys: Set<RulesValue> { Set(right.keys.filter { left[$0] == nil }.map(RulesValue.string)) }
    /// Keys in both whose values differ.
    var changedKeys: Set<RulesValue> {
        Set(left.compactMap { key, value in right[key].map { $0 == value ? nil : RulesValue.string(key) } ?? nil })
    }
    /// Keys in both whose values are equal.
    var unchangedKeys: Set<RulesValue> {
        Set(left.compactMap { key, value in right[key].map { $0 == value ? RulesValue.string(key) : nil } ?? nil })
    }
    /// Added, removed or changed keys.
    var affectedKeys: Set<RulesValue> { addedKeys.union(removedKeys).union(changedKeys) }
}
