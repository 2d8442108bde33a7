public import FlintCore
public import Foundation

/// Encodes `Encodable` values into document fields: structs and dictionaries become maps, arrays arrays,
/// `Date` and `Timestamp` timestamps, `Data` bytes, `GeoPoint` geopoints, `DocumentPath` and `DocumentReference`
/// references, and a `Value` itself. Optionals that are nil are left out (as synthesized `Codable` does).
public struct FlintEncoder: Sendable {
    public init() {}

    /// The fields of a document: `value` must encode as a keyed container (a struct, class or dictionary).
    public func encode<T: Encodable>(_ value: T) throws -> [String: Value] {
        guard case .map(let fields) = try encodeValue(value) else {
            throw EncodingError.invalidValue(
                value, .init(codingPath: [], debugDescription: "a document encodes as a struct, a class or a dictionary"))
        }
        return fields
    }

    /// Any encodable value as a `Value`.
    public func encodeValue<T: Encodable>(_ value: T) throws -> Value {
        if let special = Self.special(value) { return special }
        let node = EncodingNode()
        try value.encode(to: ValueEncoder(node: node, codingPath: []))
        return node.resolve()
    }

    static func special(_ value: Any) -> Value? {
        switch value {
        case let value as Value: value
        case let date as Date: .timestamp(Timestamp(date: date))
        case let timestamp as Timestamp: .timestamp(timestamp)
        case let data as Data: .bytes(Array(data))
        case let point as GeoPoint: .geoPoint(point)
        case let path as DocumentPath: .reference(path)
        case let reference as DocumentReference: (try? reference.resolvedPath()).map(Value.reference)
        case let url as URL: .string(url.absoluteString)
        case let decimal as Decimal: .double(NSDecimalNumber(decimal: decimal).doubleValue)
        default: nil
        }
    }
}

extension Timestamp {
    /// The timestamp of a `Date`, to the microsecond.
    public init(date: Date) {
        self.init(microseconds: Int64((date.timeIntervalSince1970 * 1_000_000).rounded()))
    }

    /// The `Date` of this timestamp.
    public var date: Date { Date(timeIntervalSince1970: Double(microseconds) / 1_000_000) }
}

/// What one encoder, container slot or element has written.
final class EncodingNode {
    enum Content {
        case empty
        case value(Value)
        case keyed([String: EncodingNode])
        case unkeyed([EncodingNode])
    }

    var content = Content.empty

    func resolve() -> Value {
        switch content {
        case .empty: .map([:])
        case .value(let value): value
        case .keyed(let children): .map(children.mapValues { $0.resolve() })
        case .unkeyed(let children): .array(children.map { $0.resolve() })
        }
    }

    func child(_ key: String) -> EncodingNode {
        let node = EncodingNode()
        if case .keyed(var children) = content {
            children[key] = node
            content = .keyed(children)
        } else {
            content = .keyed([key: node])
        }
        return node
    }

    func append() -> EncodingNode {
        let node = EncodingNode()
        if case .unkeyed(var children) = content {
            children.append(node)
            content = .unkeyed(children)
        } else {
            content = .unkeyed([node])
        }
        return node
    }

    func encode<T: Encodable>(_ value: T, codingPath: [any CodingKey]) throws {
        if let special = FlintEncoder.special(value) {
            content = .value(special)
        } else {
            try value.encode(to: ValueEncoder(node: self, codingPath: codingPath))
        }
    }
}

struct ValueEncoder: Encoder {
    let node: EncodingNode
    var codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .keyed = node.content {} else { node.content = .keyed([:]) }
        return KeyedEncodingContainer(KeyedValueEncoder<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .unkeyed = node.content {} else { node.content = .unkeyed([]) }
        return UnkeyedValueEncoder(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { SingleValueEncoder(node: node, codingPath: codingPath) }
}

struct KeyedValueEncoder<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: EncodingNode
    var codingPath: [any CodingKey]

    mutating func encodeNil(forKey key: Key) throws { node.child(key.stringValue).content = .value(.null) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try node.child(key.stringValue).encode(value, codingPath: codingPath + [key])
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let child = node.child(key.stringValue)
        child.content = .keyed([:])
        return KeyedEncodingContainer(KeyedValueEncoder<NestedKey>(node: child, codingPath: codingPath + [key]))
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let child = node.child(key.stringValue)
        child.content = .unkeyed([])
        return UnkeyedValueEncoder(node: child, codingPath: codingPath + [key])
    }
    mutating func superEncoder() -> any Encoder { ValueEncoder(node: node.child("super"), codingPath: codingPath) }
    mutating func superEncoder(forKey key: Key) -> any Encoder { ValueEncoder(node: node.child(key.stringValue), codingPath: codingPath + [key]) }
}

struct UnkeyedValueEncoder: UnkeyedEncodingContainer {
    let node: EncodingNode
    var codingPath: [any CodingKey]
    var count: Int {
        if case .unkeyed(let children) = node.content { return children.count }
        return 0
    }

    mutating func encodeNil() throws { node.append().content = .value(.null) }
    mutating func encode<T: Encodable>(_ value: T) throws { try node.append().encode(value, codingPath: codingPath) }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let child = node.append()
        child.content = .keyed([:])
        return KeyedEncodingContainer(KeyedValueEncoder<NestedKey>(node: child, codingPath: codingPath))
    }
    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let child = node.append()
        child.content = .unkeyed([])
        return UnkeyedValueEncoder(node: child, codingPath: codingPath)
    }
    mutating func superEncoder() -> any Encoder { ValueEncoder(node: node.append(), codingPath: codingPath) }
}

struct SingleValueEncoder: SingleValueEncodingContainer {
    let node: EncodingNode
    var codingPath: [any CodingKey]

    mutating func encodeNil() throws { node.content = .value(.null) }
    mutating func encode(_ value: Bool) throws { node.content = .value(.bool(value)) }
    mutating func encode(_ value: String) throws { node.content = .value(.string(value)) }
    mutating func encode(_ value: Double) throws { node.content = .value(.double(value)) }
    mutating func encode(_ value: Float) throws { node.content = .value(.double(Double(value))) }
    mutating func encode(_ value: Int) throws { node.content = .value(.integer(Int64(value))) }
    mutating func encode(_ value: Int8) throws { node.content = .value(.integer(Int64(value))) }
    mutating func encode(_ value: Int16) throws { node.content = .value(.integer(Int64(value))) }
    mutating func encode(_ value: Int32) throws { node.content = .value(.integer(Int64(value))) }
    mutating func encode(_ value: Int64) throws { node.content = .value(.integer(value)) }
    mutating func encode(_ value: UInt) throws { try encodeUnsigned(UInt64(value)) }
    mutating func encode(_ value: UInt8) throws { node.content = .value(.integer(Int64(value))) }
    mutating func encode(_ value: UInt16) throws { node.content = .value(.integer(Int64(value))) }
    mutating func encode(_ value: UInt32) throws { node.content = .value(.integer(Int64(value))) }
    mutating func encode(_ value: UInt64) throws { try encodeUnsigned(value) }
    mutating func encode<T: Encodable>(_ value: T) throws { try node.encode(value, codingPath: codingPath) }

    private func encodeUnsigned(_ value: UInt64) throws {
        guard let integer = Int64(exactly: value) else {
            throw EncodingError.invalidValue(value, .init(codingPath: codingPath, debugDescription: "\(value) does not fit in a 64-bit integer"))
        }
        node.content = .value(.integer(integer))
    }
}
