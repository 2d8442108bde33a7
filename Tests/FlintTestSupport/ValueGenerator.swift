public import FlintCore

/// SplitMix64: a tiny, fast, seedable generator, so that property tests are reproducible.
public struct SplitMix64: RandomNumberGenerator {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random `Value`s for property tests.
///
/// With `small`, scalars come from small pools so that equal and near-equal values meet often
/// (what an ordering property test needs); otherwise they range widely (what a round trip needs).
public struct ValueGenerator {
    public var rng: SplitMix64
    public var maxDepth: Int
    public var small: Bool

    public init(seed: UInt64, maxDepth: Int = 4, small: Bool = false) {
        rng = SplitMix64(seed: seed)
        self.maxDepth = maxDepth
        self.small = small
    }

    public mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }
    public mutating func chance(_ percent: Int) -> Bool { int(0...99) < percent }
    public mutating func pick<T>(_ items: [T]) -> T { items[int(0...items.count - 1)] }

    /// String pieces that exercise escaping, the `$` tags, code point order and normalisation.
    public static let stringPieces = [
        "a", "b", "Z", "0", " ", "$", "$$", "$timestamp", "$ref", "é", "e\u{301}", "\u{FFFF}", "\u{10000}", "😀",
        "\u{0}", "\n", "\t", "\u{1F}", "\"", "\\", "/", ".", "`", "\u{7F}", "\u{2028}", "__", "中文",
    ]

    public mutating func string() -> String {
        if small { return pick(["", "a", "b", "é", "e\u{301}", "\u{FFFF}", "\u{10000}", "ab"]) }
        var s = ""
        for _ in 0..<int(0...4) { s += pick(Self.stringPieces) }
        return s
    }

    public mutating func fieldName() -> String {
        while true {
            let name = small ? pick(["a", "b", "c", "$x"]) : string()
            if (try? FieldPath.validateFieldName(name, in: "test")) != nil { return name }
        }
    }

    public mutating func id() -> String {
        while true {
            let id = small ? pick(["a", "b", "a!", "é"]) : string()
            if (try? PathSegments.validateID(id)) != nil { return id }
        }
    }

    public static let interestingIntegers: [Int64] = [
        0, 1, -1, 2, 42, Int64.max, Int64.min, Int64.max - 1, Int64.min + 1, 1 << 53, (1 << 53) + 1, -(1 << 53) - 1,
    ]
    public static let interestingDoubles: [Double] = [
        0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 1.5, 2.0, 42.0, .nan, .infinity, -.infinity, .leastNonzeroMagnitude,
        -.leastNonzeroMagnitude, .greatestFiniteMagnitude, 9_007_199_254_740_992.0, 9_007_199_254_740_994.0,
        9.223372036854775807e18, -9.223372036854775808e18, 0.1, 1e21, 1e-7,
    ]

    public mutating func integer() -> Int64 {
        if small || chance(40) { return pick(Self.interestingIntegers) }
        return Int64(bitPattern: rng.next()) >> Int64(int(0...63))
    }

    public mutating func double() -> Double {
        if small || chance(40) { return pick(Self.interestingDoubles) }
        if chance(50) { return Double(bitPattern: rng.next()) }  // any double, NaN payloads and subnormals included
        return Double.random(in: -1e6...1e6, using: &rng)
    }

    public mutating func timestamp() -> Timestamp {
        if small { return Timestamp(microseconds: pick([0, 1, -1, Timestamp.min.microseconds, Timestamp.max.microseconds])) }
        if chance(10) { return pick([Timestamp.min, Timestamp.max, Timestamp(microseconds: 0)]) }
        return Timestamp(microseconds: Int64.random(in: Timestamp.min.microseconds...Timestamp.max.microseconds, using: &rng))
    }

    public mutating func bytes() -> [UInt8] {
        if small { return pick([[], [0], [0, 0], [1], [255]]) }
        return (0..<int(0...12)).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    public mutating func path() -> DocumentPath {
        let pairs = small ? int(1...2) : int(1...3)
        return try! DocumentPath(segments: (0..<pairs * 2).map { _ in id() })
    }

    public mutating func geoPoint() -> GeoPoint {
        if small {
            return try! GeoPoint(latitude: pick([-90, 0, 1.5, 90]), longitude: pick([-180, 0, 2.5, 180]))
        }
        return try! GeoPoint(
            latitude: Double.random(in: -90...90, using: &rng), longitude: Double.random(in: -180...180, using: &rng))
    }

    public mutating func scalar() -> Value {
        switch int(0...9) {
        case 0: .null
        case 1: .bool(chance(50))
        case 2: .integer(integer())
        case 3: .double(double())
        case 4: .timestamp(timestamp())
        case 5: .string(string())
        case 6: .bytes(bytes())
        case 7: .reference(path())
        case 8: .geoPoint(geoPoint())
        default: chance(50) ? .integer(integer()) : .double(double())
        }
    }

    /// A value whose maps and arrays nest at most `maxDepth - depth` levels.
    public mutating func value(depth: Int = 0) -> Value {
        guard depth < maxDepth, chance(35) else { return scalar() }
        let count = int(0...(small ? 2 : 4))
        if chance(50) {
            return .array((0..<count).map { _ in value(depth: depth + 1) })
        }
        var fields: [String: Value] = [:]
        for _ in 0..<count { fields[fieldName()] = value(depth: depth + 1) }
        return .map(fields)
    }

    /// A value nested exactly `levels` deep in alternating arrays and maps.
    public mutating func deepValue(levels: Int) -> Value {
        var v = scalar()
        for level in 0..<levels {
            v = level % 2 == 0 ? .array([v]) : .map([fieldName(): v])
        }
        return v
    }
}
