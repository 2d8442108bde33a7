import FlintCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Global functions: documents, conversions, `math.`, `latlng.`, `hashing.`, and the latlng methods.
extension Evaluation {
    func callBuiltin(_ builtin: Builtin, _ arguments: [RulesValue], at position: SourcePosition) async throws(EvalError) -> RulesValue {
        switch builtin {
        case .get, .getAfter, .firestoreGet:
            let after = builtin == .getAfter
            let (path, data) = try await readDocument(arguments[0], after: after, function: builtin.rawValue, at: position)
            guard let data else { throw EvalError("\(builtin.rawValue)(): no document at /\((RulesPath.firestoreRoot + path.segments).joined(separator: "/"))", at: position) }
            return documentObject(path, data)
        case .exists, .existsAfter, .firestoreExists:
            let after = builtin == .existsAfter
            return .bool(try await readDocument(arguments[0], after: after, function: builtin.rawValue, at: position).1 != nil)
        case .debug: return arguments[0]
        case .string: return try toString(arguments[0], at: position)
        case .int: return try toInt(arguments[0], at: position)
        case .float: return try toFloat(arguments[0], at: position)
        case .path:
            guard case .string(let text) = arguments[0] else { throw EvalError("path() needs a string, not \(arguments[0].typeName)", at: position) }
            return .path(RulesPath(segments: text.split(separator: "/").map(String.init)))
        case .timestampValue, .timestampDate: return try timestampFunction(builtin, arguments, at: position)
        case .durationValue, .durationTime, .durationAbs: return try durationFunction(builtin, arguments, at: position)
        case .hashingMD5, .hashingSHA256, .hashingCRC32, .hashingCRC32C:
            let input: [UInt8]
            switch arguments[0] {
            case .string(let s): input = Array(s.utf8)
            case .bytes(let b): input = b
            default: throw EvalError("\(builtin.rawValue)() needs a string or bytes, not \(arguments[0].typeName)", at: position)
            }
            switch builtin {
            case .hashingMD5: return .bytes(Hashing.md5(input))
            case .hashingSHA256: return .bytes(Hashing.sha256(input))
            case .hashingCRC32: return .bytes(Hashing.bigEndian(Hashing.crc32(input)))
            default: return .bytes(Hashing.bigEndian(Hashing.crc32c(input)))
            }
        case .latlngValue:
            let lat = try numeric(arguments[0], "latlng.value()", at: position)
            let lng = try numeric(arguments[1], "latlng.value()", at: position)
            guard (-90...90).contains(lat), (-180...180).contains(lng) else {
                throw EvalError("latlng.value(\(lat), \(lng)): latitude must be in [-90, 90] and longitude in [-180, 180]", at: position)
            }
            return .latlng(latitude: lat, longitude: lng)
        default:
            return try math(builtin, arguments[0], arguments.count > 1 ? arguments[1] : .null, at: position)
        }
    }

    func numeric(_ value: RulesValue, _ what: String, at position: SourcePosition) throws(EvalError) -> Double {
        switch value {
        case .int(let i): return Double(i)
        case .float(let d): return d
        default: throw EvalError("\(what) needs a number, not \(value.typeName)", at: position)
        }
    }

    func math(_ builtin: Builtin, _ value: RulesValue, _ second: RulesValue, at position: SourcePosition) throws(EvalError) -> RulesValue {
        let name = builtin.rawValue + "()"
        if case .int(let i) = value {
            switch builtin {
            case .mathAbs:
                guard i != .min else { throw EvalError("integer overflow in \(name)", at: position) }
                return .int(Swift.abs(i))
            case .mathCeil, .mathFloor, .mathRound: return .int(i)
            case .mathIsNaN, .mathIsInfinite: return .bool(false)
            default: break
            }
        }
        let x = try numeric(value, name, at: position)
        func integral(_ d: Double) throws(EvalError) -> RulesValue {
            guard let i = Int64(exactly: d) else { throw EvalError("\(name) of \(x) does not fit in an int", at: position) }
            return .int(i)
        }
        switch builtin {
        case .mathAbs: return .float(Swift.abs(x))
        case .mathCeil: return try integral(x.rounded(.up))
        case .mathFloor: return try integral(x.rounded(.down))
        case .mathRound: return try integral(x.rounded(.toNearestOrAwayFromZero))
        case .mathSqrt: return .float(x.squareRoot())
        case .mathIsNaN: return .bool(x.isNaN)
        case .mathIsInfinite: return .bool(x.isInfinite)
        case .mathPow: return .float(pow(x, try numeric(second, name, at: position)))
        default: throw EvalError("internal: \(name) is not a math function", at: position)
        }
    }

    func toString(_ value: RulesValue, at position: SourcePosition) throws(EvalError) -> RulesValue {
        switch value {
        case .string: return value
        case .bool(let b): return .string(b ? "true" : "false")
        case .int(let i): return .string(String(i))
        case .float(let d): return .string(d.isNaN ? "NaN" : (d.isInfinite ? (d > 0 ? "Infinity" : "-Infinity") : d.description))
        case .null: return .string("null")
        case .path(let p): return .string(p.description)
        default: throw EvalError("string() cannot convert \(value.typeName)", at: position)
        }
    }

    func toInt(_ value: RulesValue, at position: SourcePosition) throws(EvalError) -> RulesValue {
        switch value {
        case .int: return value
        case .float(let d):
            guard d.isFinite, let i = Int64(exactly: d.rounded(.towardZero)) else {
                throw EvalError("int() cannot convert \(d)", at: position)
            }
            return .int(i)
        case .string(let s):
            guard let i = Int64(s) else { throw EvalError("int() cannot convert the string '\(s.prefix(40))'", at: position) }
            return .int(i)
        default: throw EvalError("int() cannot convert \(value.typeName)", at: position)
        }
    }

    func toFloat(_ value: RulesValue, at position: SourcePosition) throws(EvalError) -> RulesValue {
        switch value {
        case .float: return value
        case .int(let i): return .float(Double(i))
        case .string(let s):
            guard let d = Double(s) else { throw EvalError("float() cannot convert the string '\(s.prefix(40))'", at: position) }
            return .float(d)
        default: throw EvalError("float() cannot convert \(value.typeName)", at: position)
        }
    }

    func latlngMethod(_ method: Method, _ lat: Double, _ lng: Double, _ arguments: [RulesValue], at position: SourcePosition) throws(EvalError) -> RulesValue? {
        switch method {
        case .latitude: return .float(lat)
        case .longitude: return .float(lng)
        case .distance:
            guard case .latlng(let lat2, let lng2) = arguments[0] else {
                throw EvalError("distance() needs a latlng, not \(arguments[0].typeName)", at: position)
            }
            return .float(haversineMeters(lat, lng, lat2, lng2))
        default: return nil
        }
    }
}

/// Great-circle distance in meters on a sphere of the Earth's mean radius.
func haversineMeters(_ lat1: Double, _ lng1: Double, _ lat2: Double, _ lng2: Double) -> Double {
    let radius = 6_371_008.8
    let toRadians = Double.pi / 180
    let dLat = (lat2 - lat1) * toRadians
    let dLng = (lng2 - lng1) * toRadians
    let sinLat: Double = sin(dLat / 2)
    let sinLng: Double = sin(dLng / 2)
    let cosines: Double = cos(lat1 * toRadians) * cos(lat2 * toRadians)
    let a: Double = sinLat * sinLat + cosines * sinLng * sinLng
    return 2 * radius * atan2(a.squareRoot(), (1 - a).squareRoot())
}
