import FlintTestSupport
import Testing
@testable import FlintCore

@Suite struct ValueOrderingTests {
    /// One value of each type, in Firestore's cross-type order.
    static let oneOfEachType: [Value] = [
        .null,
        .bool(true),
        .integer(1),
        .timestamp(Timestamp(microseconds: 0)),
        .string("a"),
        .bytes([1]),
        .reference(try! DocumentPath("a/b")),
        .geoPoint(try! GeoPoint(latitude: 0, longitude: 0)),
        .array([]),
        .map([:]),
    ]

    @Test func typesFollowFirestoresOrder() {
        let values = Self.oneOfEachType
        for (i, a) in values.enumerated() {
            #expect(a.typeOrder == i)
            for (j, b) in values.enumerated() {
                let expected = i == j ? 0 : (i < j ? -1 : 1)
                #expect(Value.compare(a, b) == expected, "\(a) vs \(b)")
            }
        }
    }

    @Test func typeOrderWinsOverContent() {
        // The "largest" value of a lower type still sorts before the "smallest" of a higher type.
        #expect(Value.compare(.bool(true), .double(-.infinity)) < 0)
        #expect(Value.compare(.integer(.max), .timestamp(.min)) < 0)
        #expect(Value.compare(.double(.nan), .timestamp(.min)) < 0)
        #expect(Value.compare(.timestamp(.max), .string("")) < 0)
        #expect(Value.compare(.string("\u{10FFFF}"), .bytes([])) < 0)
        #expect(Value.compare(.bytes([255, 255]), .reference(try! DocumentPath("a/a"))) < 0)
        #expect(Value.compare(.geoPoint(try! GeoPoint(latitude: 90, longitude: 180)), .array([])) < 0)
        #expect(Value.compare(.array([.map(["z": 1])]), .map([:])) < 0)
    }

    @Test(arguments: [
        (Value.integer(1), Value.double(1), 0),
        (.integer(1), .double(1.5), -1),
        (.integer(2), .double(1.5), 1),
        (.integer(-1), .double(-1.5), 1),
        (.integer(-2), .double(-1.5), -1),
        (.integer(0), .double(-0.0), 0),
        (.double(0), .double(-0.0), 0),
        (.integer(0), .double(.leastNonzeroMagnitude), -1),
        (.integer(0), .double(-.leastNonzeroMagnitude), 1),
        (.integer(1 << 53), .double(9_007_199_254_740_992), 0),
        (.integer((1 << 53) + 1), .double(9_007_199_254_740_992), 1),
        (.integer((1 << 53) + 1), .double(9_007_199_254_740_994), -1),
        (.integer(-(1 << 53) - 1), .double(-9_007_199_254_740_992), -1),
        (.integer(.max), .double(9.223372036854775807e18), -1),  // the double is 2^63, one above Int64.max
        (.integer(.max - 1023), .double(9.223372036854774784e18), 0),  // 2^63 - 1024, the largest double below 2^63
        (.integer(.max - 1022), .double(9.223372036854774784e18), 1),
        (.integer(.min), .double(-9.223372036854775808e18), 0),
        (.integer(.min), .double(-9.223372036854777856e18), 1),
        (.integer(.max), .double(.infinity), -1),
        (.integer(.min), .double(-.infinity), 1),
        (.integer(.min), .double(.nan), 1),
        (.double(.nan), .double(-.infinity), -1),
        (.double(.nan), .double(.nan), 0),
        (.double(-.infinity), .double(-.greatestFiniteMagnitude), -1),
        (.double(.infinity), .double(.greatestFiniteMagnitude), 1),
        (.integer(3), .integer(-3), 1),
        (.integer(.min), .integer(.max), -1),
    ] as [(Value, Value, Int)])
    func numbersCompareByNumericValueAcrossIntegersAndDoubles(a: Value, b: Value, expected: Int) {
        #expect(Value.compare(a, b) == expected)
        #expect(Value.compare(b, a) == -expected)
    }

    @Test func nanIsTheSmallestNumberAndEqualsItself() {
        #expect(Value.double(.nan).isEqual(to: .double(.nan)))
        #expect(Value.double(.nan).isEqual(to: .double(-.nan)))
        #expect(Value.compare(.double(.nan), .integer(.min)) < 0)
        #expect(Value.compare(.double(.nan), .bool(true)) > 0)  // still a number
    }

    @Test func integerAndDoubleAreEqualButNotIdentical() {
        #expect(Value.integer(1).isEqual(to: .double(1.0)))
        #expect(Value.integer(1) != .double(1.0))
    }

    @Test(arguments: [
        ("", "a", -1),
        ("a", "aa", -1),
        ("a", "b", -1),
        ("B", "a", -1),  // byte order, not case-insensitive
        ("z", "é", -1),
        ("\u{FFFF}", "\u{10000}", -1),  // UTF-8 order; UTF-16 order would say the opposite
        ("\u{FF61}", "😀", -1),
        ("e\u{301}", "é", -1),  // decomposed 0x65… before precomposed 0xC3…
        ("abc", "abc", 0),
        ("a\u{0}", "a", 1),
    ])
    func stringsCompareByTheirUTF8Bytes(a: String, b: String, expected: Int) {
        #expect(Value.compare(.string(a), .string(b)) == expected)
        #expect(Value.compare(.string(b), .string(a)) == -expected)
    }

    @Test func precomposedAndDecomposedAccentsAreDifferentStrings() {
        #expect("é" == "e\u{301}")  // Swift's own comparison normalises …
        #expect(!Value.string("é").isEqual(to: .string("e\u{301}")))  // … Firestore's does not
    }

    @Test func bytesCompareLexicographically() {
        let ordered: [[UInt8]] = [[], [0], [0, 0], [0, 255], [1], [255]]
        for (i, a) in ordered.enumerated() {
            for (j, b) in ordered.enumerated() {
                #expect(Value.compare(.bytes(a), .bytes(b)) == (i == j ? 0 : (i < j ? -1 : 1)))
            }
        }
    }

    @Test func timestampsCompareChronologically() {
        #expect(Value.compare(.timestamp(.min), .timestamp(.max)) < 0)
        #expect(Value.compare(.timestamp(Timestamp(microseconds: -1)), .timestamp(Timestamp(microseconds: 0))) < 0)
        #expect(Value.compare(.timestamp(Timestamp(microseconds: 5)), .timestamp(Timestamp(microseconds: 5))) == 0)
    }

    @Test func referencesCompareSegmentBySegment() throws {
        // As whole strings "a!/b" < "a/b" ('!' < '/'), but by segments "a" < "a!".
        #expect(Value.compare(try ref("a/b"), try ref("a!/b")) < 0)
        #expect(Value.compare(try ref("a/b"), try ref("a/b/c/d")) < 0)
        #expect(Value.compare(try ref("a/b/c/d"), try ref("a/c")) < 0)
        #expect(Value.compare(try ref("a/b"), try ref("a/b")) == 0)
    }

    @Test func geoPointsCompareByLatitudeThenLongitude() throws {
        func geo(_ lat: Double, _ lng: Double) throws -> Value { .geoPoint(try GeoPoint(latitude: lat, longitude: lng)) }
        #expect(Value.compare(try geo(1, 100), try geo(2, -100)) < 0)
        #expect(Value.compare(try geo(1, 1), try geo(1, 2)) < 0)
        #expect(Value.compare(try geo(-0.0, 0), try geo(0, 0)) == 0)
    }

    @Test(arguments: [
        (Value.array([]), Value.array([.null]), -1),
        (.array([1]), .array([1, 0]), -1),
        (.array([2]), .array([1, 5]), 1),
        (.array([1, 2]), .array([1.0, 2.0]), 0),
        (.array([.null]), .array([false]), -1),
        (.array(["a", 1]), .array(["a", "b"]), -1),
        (.map([:]), .map(["a": 1]), -1),
        (.map(["a": 1]), .map(["a": 2]), -1),
        (.map(["a": 9]), .map(["b": 0]), -1),
        (.map(["a": 1, "b": 2]), .map(["a": 1, "c": 0]), -1),
        (.map(["a": 1]), .map(["a": 1, "b": 0]), -1),
        (.map(["b": 1, "a": 2]), .map(["a": 2, "b": 1]), 0),
        (.map(["a": 1]), .map(["a": 1.0]), 0),
        (.map(["B": 1]), .map(["a": 0]), -1),
        (.map(["\u{FFFF}": 0]), .map(["\u{10000}": 0]), -1),
    ] as [(Value, Value, Int)])
    func arraysAndMapsCompareLexicographically(a: Value, b: Value, expected: Int) {
        #expect(Value.compare(a, b) == expected)
        #expect(Value.compare(b, a) == -expected)
    }

    @Test(arguments: [21, 22, 23, 24] as [UInt64])
    func compareIsATotalOrderOnRandomValues(seed: UInt64) {
        var generator = ValueGenerator(seed: seed, maxDepth: 3, small: true)
        let values = (0..<150).map { _ in generator.value() }
        func sign(_ x: Int) -> Int { x == 0 ? 0 : (x < 0 ? -1 : 1) }
        var violations: [String] = []

        for a in values {
            if Value.compare(a, a) != 0 { violations.append("not reflexive: \(a)") }
            for b in values {
                let ab = Value.compare(a, b)
                if sign(ab) != -sign(Value.compare(b, a)) { violations.append("not antisymmetric: \(a) vs \(b)") }
                if a == b, ab != 0 { violations.append("identical but compare is \(ab): \(a), \(b)") }
            }
        }
        for _ in 0..<5000 {
            let a = generator.pick(values), b = generator.pick(values), c = generator.pick(values)
            let ab = Value.compare(a, b), bc = Value.compare(b, c), ac = Value.compare(a, c)
            if ab <= 0, bc <= 0, ac > 0 { violations.append("not transitive: \(a) <= \(b) <= \(c)") }
            if ab == 0, bc == 0, ac != 0 { violations.append("equality not transitive: \(a), \(b), \(c)") }
            if ab < 0, bc <= 0, ac >= 0 { violations.append("strict order not transitive: \(a) < \(b) <= \(c)") }
        }
        let sorted = values.sorted { Value.compare($0, $1) < 0 }
        for i in sorted.indices {
            for j in sorted.indices where i < j && Value.compare(sorted[i], sorted[j]) > 0 {
                violations.append("sorted out of order: \(sorted[i]) before \(sorted[j])")
            }
        }
        #expect(violations.isEmpty, "\(violations.prefix(5))")
    }

    @Test(arguments: [31, 32] as [UInt64])
    func numericComparisonIsTransitiveNearTheEdgesOfPrecision(seed: UInt64) {
        // Integers and doubles clustered around 2^53 and 2^63, where converting one to the other loses precision.
        var rng = SplitMix64(seed: seed)
        var numbers: [Value] = []
        for centre in [Int64(1) << 53, Int64.max - 2048, Int64.min + 2048, 0] {
            for _ in 0..<25 {
                let i = centre + Int64.random(in: -2048...2048, using: &rng)
                numbers.append(.integer(i))
                numbers.append(.double(Double(i)))
                numbers.append(.double(Double(i).nextUp))
                numbers.append(.double(Double(i).nextDown))
            }
        }
        numbers += [.double(9.223372036854775807e18), .double(-9.223372036854775808e18), .integer(.max), .integer(.min)]
        var violations: [String] = []
        let sorted = numbers.sorted { Value.compare($0, $1) < 0 }
        for i in sorted.indices {
            for j in sorted.indices where i < j {
                if Value.compare(sorted[i], sorted[j]) > 0 || Value.compare(sorted[j], sorted[i]) < 0 {
                    violations.append("\(sorted[i]) sorted before \(sorted[j])")
                }
            }
        }
        #expect(violations.isEmpty, "\(violations.prefix(5))")
    }
}
