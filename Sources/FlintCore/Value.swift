/// A field value of a document: Firestore's value types.
public indirect enum Value: Sendable {
    case null
    case bool(Bool)
    case integer(Int64)
    case double(Double)
    case timestamp(Timestamp)
    case string(String)
    case bytes([UInt8])
    case reference(DocumentPath)
    case geoPoint(GeoPoint)
    case array([Value])
    case map([String: Value])

    /// The deepest nesting of maps and arrays a value may have, as in Firestore.
    public static let maximumDepth = 20

    /// The type's name as users know it, for error messages.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .integer: "integer"
        case .double: "double"
        case .timestamp: "timestamp"
        case .string: "string"
        case .bytes: "bytes"
        case .reference: "reference"
        case .geoPoint: "geopoint"
        case .array: "array"
        case .map: "map"
        }
    }

    /// Whether the value is an integer or a double.
    public var isNumber: Bool {
        switch self {
        case .integer, .double: true
        default: false
        }
    }

    /// The value at a field path inside this value, if this is a map that has it.
    public func value(at path: some Collection<String>) -> Value? {
        guard let first = path.first else { return self }
        guard case .map(let fields) = self, let child = fields[first] else { return nil }
        return child.value(at: path.dropFirst())
    }
}

/// A latitude and longitude in degrees.
public struct GeoPoint: Sendable, Hashable {
    public var latitude: Double
    public var longitude: Double

    /// Makes a point, checking that latitude is in [-90, 90] and longitude in [-180, 180].
    public init(latitude: Double, longitude: Double) throws(FlintError) {
        guard (-90...90).contains(latitude) else { throw .invalidArgument("latitude \(latitude) is outside [-90, 90]") }
        guard (-180...180).contains(longitude) else { throw .invalidArgument("longitude \(longitude) is outside [-180, 180]") }
        self.latitude = latitude
        self.longitude = longitude
    }
}

/// Structural identity: the same type and the same content, strings by their bytes, doubles by their bits.
/// `integer(1)` and `double(1)` are different values here; queries compare them with `Value.compare`.
extension Value: Equatable {
    public static func == (lhs: Value, rhs: Value) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.integer(let a), .integer(let b)): a == b
        case (.double(let a), .double(let b)): a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN)
        case (.timestamp(let a), .timestamp(let b)): a == b
        case (.string(let a), .string(let b)): a.utf8.elementsEqual(b.utf8)
        case (.bytes(let a), .bytes(let b)): a == b
        case (.reference(let a), .reference(let b)): PathSegments.compare(a.segments, b.segments) == 0
        case (.geoPoint(let a), .geoPoint(let b)): a == b
        case (.array(let a), .array(let b)): a == b
        case (.map(let a), .map(let b)):
            // Keys by their bytes too: a dictionary finds "é" under "e\u{301}", but they are different keys.
            a.count == b.count
                && a.allSatisfy { key, value in
                    guard let i = b.index(forKey: key) else { return false }
                    return b[i].key.utf8.elementsEqual(key.utf8) && b[i].value == value
                }
        default: false
        }
    }
}

extension Value: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: Value...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, Value)...) {
        self = .map(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
    public init(nilLiteral: ()) { self = .null }
}
