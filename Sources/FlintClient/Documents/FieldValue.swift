public import FlintCore

/// A value to write into a field: a plain `Value`, a map of further field values, or a transform the server computes
/// (`serverTimestamp()`, `increment(_:)`, `arrayUnion(_:)`, `arrayRemove(_:)`, `maximum(_:)`, `minimum(_:)`) or the
/// removal of the field (`delete()`). Literals work as in `Value`: `["name": "Lobby", "count": .increment(1)]`.
public indirect enum FieldValue: Sendable, Equatable {
    case value(FlintCore.Value)
    case map([String: FieldValue])
    case transform(Write.FieldTransform.Kind)

    /// The commit's time, set by the server (a pending write shows the local time until then).
    public static func serverTimestamp() -> FieldValue { .transform(.serverTimestamp) }
    /// Adds `amount` to the field (integers saturate at the int64 limits); a missing or non-numeric field becomes `amount`.
    public static func increment(_ amount: Int64) -> FieldValue { .transform(.increment(.integer(amount))) }
    @_disfavoredOverload public static func increment(_ amount: Double) -> FieldValue { .transform(.increment(.double(amount))) }
    /// The larger of the field and `value`.
    public static func maximum(_ value: FlintCore.Value) -> FieldValue { .transform(.maximum(value)) }
    /// The smaller of the field and `value`.
    public static func minimum(_ value: FlintCore.Value) -> FieldValue { .transform(.minimum(value)) }
    /// Appends each element not already in the array (a missing or non-array field becomes an array of them).
    public static func arrayUnion(_ elements: [FlintCore.Value]) -> FieldValue { .transform(.arrayUnion(elements)) }
    /// Removes every occurrence of each element.
    public static func arrayRemove(_ elements: [FlintCore.Value]) -> FieldValue { .transform(.arrayRemove(elements)) }
    /// Removes the field (in `updateData`, or in `setData` with `merge: true`).
    public static func delete() -> FieldValue { .transform(.delete) }

    /// Splits a field value at `path` into the plain value to write there (nil when there is none) and the transforms
    /// inside it, in path order.
    func split(at path: [String]) -> (value: FlintCore.Value?, transforms: [Write.FieldTransform]) {
        switch self {
        case .value(let value):
            return (value, [])
        case .transform(let kind):
            return (nil, [Write.FieldTransform(field: FieldPath(uncheckedSegments: path), kind: kind)])
        case .map(let fields):
            var values: [String: FlintCore.Value] = [:]
            var transforms: [Write.FieldTransform] = []
            for key in fields.keys.sorted(by: JSON.utf8Less) {
                let (value, inner) = fields[key]!.split(at: path + [key])
                if let value { values[key] = value }
                transforms += inner
            }
            // A map of transforms only writes no value of its own (an empty map literal does: `[:]`).
            return (fields.isEmpty || !values.isEmpty ? .map(values) : nil, transforms)
        }
    }

    /// Splits top-level fields into plain fields and transforms, checking the field names.
    static func split(_ data: [String: FieldValue]) throws(FlintError) -> (fields: [String: FlintCore.Value], transforms: [Write.FieldTransform]) {
        try checkNames(data)
        var fields: [String: FlintCore.Value] = [:]
        var transforms: [Write.FieldTransform] = []
        for key in data.keys.sorted(by: JSON.utf8Less) {
            let (value, inner) = data[key]!.split(at: [key])
            if let value { fields[key] = value }
            transforms += inner
        }
        return (fields, transforms)
    }

    private static func checkNames(_ data: [String: FieldValue]) throws(FlintError) {
        for (key, value) in data {
            try FieldPath.validateFieldName(key, in: "data")
            if case .map(let inner) = value { try checkNames(inner) }
        }
    }
}

extension FieldValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .value(.string(value)) }
    public init(integerLiteral value: Int64) { self = .value(.integer(value)) }
    public init(floatLiteral value: Double) { self = .value(.double(value)) }
    public init(booleanLiteral value: Bool) { self = .value(.bool(value)) }
    public init(arrayLiteral elements: FlintCore.Value...) { self = .value(.array(elements)) }
    public init(dictionaryLiteral elements: (String, FieldValue)...) {
        self = .map(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
    public init(nilLiteral: ()) { self = .value(.null) }
}

extension Dictionary where Key == String, Value == FlintCore.Value {
    /// The fields as field values, to write them back: `ref.setData(snapshot.data()!.fieldValues)`.
    public var fieldValues: [String: FieldValue] { mapValues { .value($0) } }
}
