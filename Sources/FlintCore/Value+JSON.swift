/// Flint's JSON form of values (DESIGN.md, "Data model"):
/// plain JSON for null, booleans, integers, doubles, strings, arrays and maps; the other types tagged —
/// `{"$timestamp": "…"}`, `{"$bytes": "<base64>"}`, `{"$ref": "users/alice"}`, `{"$geo": [lat, lng]}`,
/// `{"$double": "NaN" | "Infinity" | "-Infinity"}`. A map key that starts with `$` is written with one more `$`.
extension Value {
    /// Reads a value from its JSON form.
    /// - Parameter field: where the value sits, for error messages (`data.a.b`).
    public init(json: JSON, field: String = "value") throws(FlintError) {
        try self.init(json: json, field: field, depth: 0)
    }

    private init(json: JSON, field: String, depth: Int) throws(FlintError) {
        switch json {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .integer(let i): self = .integer(i)
        case .double(let d): self = .double(d)
        case .string(let s): self = .string(s)
        case .array(let items):
            guard depth < Value.maximumDepth else {
                throw .invalidArgument("\(field) nests arrays and maps more than \(Value.maximumDepth) levels deep")
            }
            var values: [Value] = []
            values.reserveCapacity(items.count)
            for (i, item) in items.enumerated() {
                values.append(try Value(json: item, field: "\(field)[\(i)]", depth: depth + 1))
            }
            self = .array(values)
        case .object(let members):
            if let tagged = try Value.tagged(members, field: field) {
                self = tagged
                return
            }
            guard depth < Value.maximumDepth else {
                throw .invalidArgument("\(field) nests arrays and maps more than \(Value.maximumDepth) levels deep")
            }
            var fields: [String: Value] = [:]
            fields.reserveCapacity(members.count)
            for (rawKey, member) in members {
                let key = rawKey.hasPrefix("$$") ? String(rawKey.dropFirst()) : rawKey
                try FieldPath.validateFieldName(key, in: field)
                fields[key] = try Value(json: member, field: "\(field).\(key)", depth: depth + 1)
            }
            self = .map(fields)
        }
    }

    /// The tagged value an object stands for, nil for a plain map.
    private static func tagged(_ members: [String: JSON], field: String) throws(FlintError) -> Value? {
        let tags = members.keys.filter { $0.hasPrefix("$") && !$0.hasPrefix("$$") }
        guard let tag = tags.first else { return nil }
        guard members.count == 1 else {
            throw .invalidArgument(
                "\(field): the tag \"\(tag)\" must be the object's only key; escape a map key that starts with $ as $$")
        }
        let payload = members[tag]!
        switch (tag, payload) {
        case ("$timestamp", .string(let text)):
            guard let ts = Timestamp(rfc3339: text) else {
                throw .invalidArgument(
                    "\(field): \"\(text)\" is not an RFC 3339 timestamp between years 1 and 9999, such as \"2026-11-24T10:00:00.123456Z\"")
            }
            return .timestamp(ts)
        case ("$bytes", .string(let text)):
            guard let bytes = Base64.decode(text) else { throw .invalidArgument("\(field): $bytes must be standard base64") }
            return .bytes(bytes)
        case ("$ref", .string(let text)):
            do {
                return .reference(try DocumentPath(text))
            } catch {
                throw .invalidArgument("\(field): $ref must be a document path: \(error.message)")
            }
        case ("$geo", .array(let pair)):
            guard pair.count == 2, let lat = pair[0].number, let lng = pair[1].number else {
                throw .invalidArgument("\(field): $geo must be [latitude, longitude]")
            }
            do {
                return .geoPoint(try GeoPoint(latitude: lat, longitude: lng))
            } catch {
                throw .invalidArgument("\(field): \(error.message)")
            }
        case ("$double", .string(let text)):
            switch text {
            case "NaN": return .double(.nan)
            case "Infinity": return .double(.infinity)
            case "-Infinity": return .double(-.infinity)
            default: throw .invalidArgument("\(field): $double must be \"NaN\", \"Infinity\" or \"-Infinity\"")
            }
        case ("$timestamp", _), ("$bytes", _), ("$ref", _), ("$double", _):
            throw .invalidArgument("\(field): \(tag) takes a string, not \(payload.typeName)")
        case ("$geo", _):
            throw .invalidArgument("\(field): $geo takes [latitude, longitude], not \(payload.typeName)")
        default:
            throw .invalidArgument(
                "\(field): unknown tag \"\(tag)\"; the tags are $timestamp, $bytes, $ref, $geo and $double, and a map key that starts with $ is written $$")
        }
    }

    /// The value's JSON form.
    public var json: JSON {
        switch self {
        case .null: .null
        case .bool(let b): .bool(b)
        case .integer(let i): .integer(i)
        case .double(let d):
            if d.isFinite {
                .double(d)
            } else {
                .object(["$double": .string(d.isNaN ? "NaN" : (d > 0 ? "Infinity" : "-Infinity"))])
            }
        case .string(let s): .string(s)
        case .timestamp(let t): .object(["$timestamp": .string(t.description)])
        case .bytes(let b): .object(["$bytes": .string(Base64.encode(b))])
        case .reference(let p): .object(["$ref": .string(p.description)])
        case .geoPoint(let g): .object(["$geo": .array([.double(g.latitude), .double(g.longitude)])])
        case .array(let items): .array(items.map(\.json))
        case .map(let fields):
            .object(Dictionary(uniqueKeysWithValues: fields.map { key, value in
                (key.hasPrefix("$") ? "$" + key : key, value.json)
            }))
        }
    }
}

extension JSON {
    /// The number as a double, for fields that take any number.
    public var number: Double? {
        switch self {
        case .integer(let i): Double(i)
        case .double(let d): d
        default: nil
        }
    }
}

/// Standard base64 (RFC 4648 §4) with padding.
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let reverse: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = UInt8(i) }
        return table
    }()

    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i + 3 <= bytes.count {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out += [alphabet[Int(n >> 18)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], alphabet[Int(n & 63)]]
            i += 3
        }
        let rest = bytes.count - i
        if rest == 1 {
            let n = UInt32(bytes[i]) << 16
            out += [alphabet[Int(n >> 18)], alphabet[Int(n >> 12 & 63)], 61, 61]
        } else if rest == 2 {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
            out += [alphabet[Int(n >> 18)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], 61]
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes padded or unpadded standard base64; nil on any other character.
    public static func decode(_ text: String) -> [UInt8]? {
        var chars = Array(text.utf8)
        while chars.last == 61 { chars.removeLast() }
        guard chars.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count * 3 / 4)
        var buffer: UInt32 = 0
        var bits = 0
        for c in chars {
            let v = reverse[Int(c)]
            guard v != 0xFF else { return nil }
            buffer = buffer << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
        }
        return out
    }
}
