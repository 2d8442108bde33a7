import FlintCore

/// Encodes values into byte strings whose bytewise order (`memcmp`, SQLite's BLOB order) is Firestore's value order,
/// so that an index over the bytes can answer equality, ranges and ordering.
///
/// Layout: one type byte (≥ 0x05, so that 0x00 can end arrays and maps), then the type's content:
/// numbers as an order-preserving double plus a 2-byte correction for integers beyond 2^53; strings, bytes and
/// reference segments with 0x00 escaped as 0x00 0xFF and ended by 0x00 0x01; arrays and maps as their elements
/// followed by 0x00. Keys longer than `maximumLength` are cut there: the index then yields a superset, and
/// the exact check in Swift (`Query.matches`, `Query.compare`) decides.
enum IndexKey {
    /// Keys are cut at this many bytes, as Firestore cuts indexed values at 1,500 bytes.
    static let maximumLength = 1500

    static func encode(_ value: Value) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(16)
        append(value, to: &out)
        if out.count > maximumLength { out.removeLast(out.count - maximumLength) }
        return out
    }

    /// The key of a document name, used as the documents' primary key and for ordering by `__name__`.
    static func name(_ path: DocumentPath) -> [UInt8] {
        var out: [UInt8] = []
        appendSegments(path.segments, to: &out)
        return out
    }

    /// The ids of the path a document-name key encodes (the inverse of `name(_:)`); nil when the bytes are not one.
    static func segments(fromName key: [UInt8]) -> [String]? {
        var segments: [String] = []
        var current: [UInt8] = []
        var index = 0
        while index < key.count {
            let byte = key[index]
            guard byte == 0 else {
                current.append(byte)
                index += 1
                continue
            }
            // 0x00 0xFF is a NUL inside an id, 0x00 0x01 ends an id, a lone 0x00 at the end ends the name.
            guard index + 1 < key.count else { return index == key.count - 1 && current.isEmpty ? segments : nil }
            switch key[index + 1] {
            case 0xFF: current.append(0)
            case 0x01:
                guard let id = String(validating: current, as: UTF8.self) else { return nil }
                segments.append(id)
                current = []
            default: return nil
            }
            index += 2
        }
        return nil
    }

    /// The bytes that the name of every document below `segments` (a collection's or a document's) starts with.
    /// Every such name sorts after the prefix and before the prefix followed by 0xFF: UTF-8 never contains 0xFF, and
    /// an escaped 0x00 inside an id is 0x00 0xFF.
    static func namePrefix(_ segments: [String]) -> [UInt8] {
        var out: [UInt8] = []
        for segment in segments { appendEscaped(segment.utf8, to: &out) }
        return out
    }

    /// The smallest and (exclusive) largest key of a type order, for range scans limited to one type.
    static func typeBounds(of value: Value) -> (lower: [UInt8], upper: [UInt8]) {
        let t = typeByte(value)
        return ([t], [t + 1])
    }

    private static func typeByte(_ value: Value) -> UInt8 {
        switch value {
        case .null: 0x05
        case .bool: 0x10
        case .integer, .double: 0x20
        case .timestamp: 0x30
        case .string: 0x40
        case .bytes: 0x50
        case .reference: 0x60
        case .geoPoint: 0x70
        case .array: 0x80
        case .map: 0x90
        }
    }

    private static func append(_ value: Value, to out: inout [UInt8]) {
        out.append(typeByte(value))
        switch value {
        case .null: break
        case .bool(let b): out.append(b ? 1 : 0)
        case .integer(let i):
            let d = Double(i)
            appendOrderedDouble(d, to: &out)
            // The exact integer minus its nearest double: non-zero only beyond 2^53, and then small.
            let exact: Int64 = d >= 9_223_372_036_854_775_808.0 ? Int64.min : Int64(d)  // 2^63 wraps to Int64.min
            let correction = Int64(i &- exact)
            appendUInt16(UInt16(truncatingIfNeeded: correction + 0x8000), to: &out)
        case .double(let d):
            appendOrderedDouble(d, to: &out)
            appendUInt16(0x8000, to: &out)
        case .timestamp(let t):
            appendUInt64(UInt64(bitPattern: t.microseconds) ^ (1 << 63), to: &out)
        case .string(let s): appendEscaped(s.utf8, to: &out)
        case .bytes(let b): appendEscaped(b, to: &out)
        case .reference(let p): appendSegments(p.segments, to: &out)
        case .geoPoint(let g):
            appendOrderedDouble(g.latitude, to: &out)
            appendOrderedDouble(g.longitude, to: &out)
        case .array(let items):
            for item in items { append(item, to: &out) }
            out.append(0)
        case .map(let fields):
            for key in fields.keys.sorted(by: JSON.utf8Less) {
                appendEscaped(key.utf8, to: &out)
                append(fields[key]!, to: &out)
            }
            out.append(0)
        }
    }

    /// NaN first, then -∞ … +∞; -0 and +0 equal.
    private static func appendOrderedDouble(_ d: Double, to out: inout [UInt8]) {
        if d.isNaN {
            appendUInt64(0, to: &out)
            return
        }
        let normalized = d == 0 ? 0.0 : d
        let bits = normalized.bitPattern
        // Negative numbers flip every bit, positive ones the sign bit. -∞ becomes 0x000F…, above NaN's 0.
        appendUInt64(bits & (1 << 63) != 0 ? ~bits : bits | (1 << 63), to: &out)
    }

    private static func appendUInt64(_ v: UInt64, to out: inout [UInt8]) {
        for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: v >> UInt64(shift))) }
    }

    private static func appendUInt16(_ v: UInt16, to out: inout [UInt8]) {
        out.append(UInt8(v >> 8))
        out.append(UInt8(v & 0xFF))
    }

    private static func appendEscaped(_ bytes: some Sequence<UInt8>, to out: inout [UInt8]) {
        for b in bytes {
            out.append(b)
            if b == 0 { out.append(0xFF) }
        }
        out.append(0)
        out.append(1)
    }

    private static func appendSegments(_ segments: [String], to out: inout [UInt8]) {
        for segment in segments { appendEscaped(segment.utf8, to: &out) }
        out.append(0)
    }
}
