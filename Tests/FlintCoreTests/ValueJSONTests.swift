import FlintTestSupport
import Testing
@testable import FlintCore

@Suite struct ValueJSONTests {
    @Test func plainJSONReadsAsPlainValues() throws {
        let v = try value(#"{"n": null, "b": true, "i": 7, "d": 7.0, "s": "hi", "a": [1, "x"], "m": {"k": false}}"#)
        let expected: Value = ["n": nil, "b": true, "i": 7, "d": 7.0, "s": "hi", "a": [1, "x"], "m": ["k": false]]
        #expect(v == expected)
    }

    @Test func integersAndDoublesStayApartInValues() throws {
        #expect(try value("1") == .integer(1))
        #expect(try value("1.0") == .double(1))
        #expect(try value("1e2") == .double(100))
        #expect(Value.integer(1).json == .integer(1))
        #expect(Value.double(1).json == .double(1))
    }

    @Test func timestampTagRoundTrips() throws {
        let v = try value(#"{"$timestamp": "2026-11-24T10:00:00.123456Z"}"#)
        #expect(v == .timestamp(Timestamp(rfc3339: "2026-11-24T10:00:00.123456Z")!))
        #expect(v.json == .object(["$timestamp": .string("2026-11-24T10:00:00.123456Z")]))
        // Any RFC 3339 form reads; the canonical form is written.
        let offset = try value(#"{"$timestamp": "2026-11-24T12:00:00.123456+02:00"}"#)
        #expect(offset == v)
        #expect(try Value(json: offset.json) == v)
    }

    @Test func bytesTagRoundTrips() throws {
        let v = try value(#"{"$bytes": "AAEC/w=="}"#)
        #expect(v == .bytes([0, 1, 2, 255]))
        #expect(v.json == .object(["$bytes": .string("AAEC/w==")]))
        #expect(try value(#"{"$bytes": ""}"#) == .bytes([]))
        #expect(try value(#"{"$bytes": "AAEC/w"}"#) == .bytes([0, 1, 2, 255]))  // unpadded is accepted
    }

    @Test func referenceTagRoundTrips() throws {
        let v = try value(#"{"$ref": "users/alice/posts/p1"}"#)
        #expect(v == .reference(try DocumentPath("users/alice/posts/p1")))
        #expect(v.json == .object(["$ref": .string("users/alice/posts/p1")]))
    }

    @Test func geoTagRoundTrips() throws {
        let v = try value(#"{"$geo": [59.91, 10.75]}"#)
        #expect(v == .geoPoint(try GeoPoint(latitude: 59.91, longitude: 10.75)))
        #expect(v.json == .object(["$geo": .array([.double(59.91), .double(10.75)])]))
        #expect(try value(#"{"$geo": [-90, 180]}"#) == .geoPoint(try GeoPoint(latitude: -90, longitude: 180)))
    }

    @Test(arguments: [("NaN", Double.nan), ("Infinity", .infinity), ("-Infinity", -.infinity)])
    func doublesThatJSONCannotWriteUseTheDoubleTag(name: String, d: Double) throws {
        let v = try value(#"{"$double": "\#(name)"}"#)
        #expect(v == .double(d))
        #expect(Value.double(d).json == .object(["$double": .string(name)]))
        #expect(try Value(json: JSON(parsing: Value.double(d).json.serialized)) == .double(d))
    }

    @Test func finiteDoublesAreNeverTagged() {
        #expect(Value.double(1.5).json == .double(1.5))
        #expect(Value.double(-0.0).json.text == "-0.0")
        #expect(Value.double(.greatestFiniteMagnitude).json == .double(.greatestFiniteMagnitude))
    }

    @Test(arguments: [
        (#"{"$timestamp": 5}"#, "$timestamp takes a string, not an integer"),
        (#"{"$timestamp": "yesterday"}"#, "RFC 3339"),
        (#"{"$timestamp": "2026-02-30T00:00:00Z"}"#, "RFC 3339"),
        (#"{"$bytes": "***"}"#, "base64"),
        (#"{"$bytes": "A"}"#, "base64"),
        (#"{"$bytes": ["AA=="]}"#, "$bytes takes a string"),
        (#"{"$ref": "users"}"#, "$ref must be a document path"),
        (#"{"$ref": "users//alice"}"#, "$ref must be a document path"),
        (#"{"$ref": 1}"#, "$ref takes a string"),
        (#"{"$geo": [1]}"#, "$geo must be [latitude, longitude]"),
        (#"{"$geo": [1, 2, 3]}"#, "$geo must be [latitude, longitude]"),
        (#"{"$geo": [1, "2"]}"#, "$geo must be [latitude, longitude]"),
        (#"{"$geo": [91, 0]}"#, "latitude"),
        (#"{"$geo": [0, -180.5]}"#, "longitude"),
        (#"{"$geo": "0,0"}"#, "$geo takes [latitude, longitude]"),
        (#"{"$double": "nan"}"#, "$double must be"),
        (#"{"$double": "1.5"}"#, "$double must be"),
        (#"{"$double": 1.5}"#, "$double takes a string"),
        (#"{"$unknown": 1}"#, "unknown tag \"$unknown\""),
        (#"{"$": 1}"#, "unknown tag"),
        (#"{"$timestamp": "2026-11-24T10:00:00Z", "x": 1}"#, "only key"),
        (#"{"$bytes": "", "$ref": "a/b"}"#, "only key"),
    ])
    func badTagsAreInvalidArgumentsNamingTheField(text: String, fragment: String) {
        expectFlintError(.invalidArgument, mentioning: "data.where", fragment) {
            try value(text, field: "data.where")
        }
    }

    @Test func errorsNameTheNestedField() {
        expectFlintError(.invalidArgument, mentioning: "data.a.b[1]") {
            try value(#"{"a": {"b": [1, {"$bytes": "!"}]}}"#, field: "data")
        }
        expectFlintError(.invalidArgument, mentioning: "data[0].x") {
            try value(#"[{"x": {"$geo": 1}}]"#, field: "data")
        }
    }

    @Test func mapKeysStartingWithDollarAreEscapedWithOneMoreDollar() throws {
        let v: Value = ["$x": 1, "$$y": 2, "$": 3, "a$": 4, "$timestamp": "not a tag"]
        guard case .object(let members) = v.json else {
            Issue.record("a map should be written as an object")
            return
        }
        #expect(Set(members.keys) == ["$$x", "$$$y", "$$", "a$", "$$timestamp"])
        #expect(try Value(json: v.json) == v)
        #expect(try Value(json: JSON(parsing: v.json.serialized)) == v)
    }

    @Test func escapedTagNamesReadAsPlainMapKeys() throws {
        #expect(try value(#"{"$$timestamp": "x"}"#) == ["$timestamp": "x"])
        #expect(try value(#"{"$$ref": {"$ref": "a/b"}}"#) == ["$ref": .reference(try DocumentPath("a/b"))])
        #expect(try value(#"{"$$$$": 1, "b": 2}"#) == ["$$$": 1, "b": 2])
    }

    @Test func emptyObjectIsAnEmptyMap() throws {
        #expect(try value("{}") == .map([:]))
        #expect(Value.map([:]).json == .object([:]))
    }

    @Test(arguments: [#"{"": 1}"#, #"{"__x__": 1}"#, #"{"a": {"__name__": 1}}"#, #"{"a\u0000b": 1}"#])
    func reservedOrEmptyFieldNamesAreRejected(text: String) {
        expectFlintError(.invalidArgument) { try value(text) }
    }

    @Test func fieldNamesThatMerelyLookReservedAreAllowed() throws {
        #expect(try value(#"{"__": 1, "___": 2, "__x": 3, "x__": 4}"#) == ["__": 1, "___": 2, "__x": 3, "x__": 4])
    }

    @Test func nestingTwentyLevelsDeepIsAccepted() throws {
        #expect(try value(nestedArrayText(Value.maximumDepth)) == nestedArrays(Value.maximumDepth))
        var text = "1"
        for level in 0..<Value.maximumDepth { text = level % 2 == 0 ? "[\(text)]" : #"{"k":\#(text)}"# }
        #expect(try value(text).depth == Value.maximumDepth)
    }

    @Test func nestingDeeperThanTwentyLevelsIsRejected() {
        expectFlintError(.invalidArgument, mentioning: "more than \(Value.maximumDepth) levels") {
            try value(nestedArrayText(Value.maximumDepth + 1))
        }
        var text = "1"
        for _ in 0...Value.maximumDepth { text = #"{"k":\#(text)}"# }
        expectFlintError(.invalidArgument, mentioning: "more than \(Value.maximumDepth) levels") { try value(text) }
    }

    @Test func aTaggedValueAtTheDepthLimitIsAScalar() throws {
        let v = try value(nestedArrayText(Value.maximumDepth, around: #"{"$geo": [1, 2]}"#))
        #expect(v.depth == Value.maximumDepth)
        expectFlintError(.invalidArgument) { try value(nestedArrayText(Value.maximumDepth, around: "[]")) }
        expectFlintError(.invalidArgument) { try value(nestedArrayText(Value.maximumDepth, around: "{}")) }
    }

    @Test func structuralIdentityKeepsTypesAndBitsApart() throws {
        #expect(Value.integer(1) != .double(1))
        #expect(Value.double(0) != .double(-0.0))
        #expect(Value.double(.nan) == .double(.nan))
        #expect(Value.string("é") != .string("e\u{301}"))  // Swift's String == would say equal
        #expect(Value.array([1, 2]) != .array([2, 1]))
        #expect(Value.map(["a": 1]) != .map(["a": 1.0]))
        #expect(Value.map(["a": 1]) != .map(["a": 1, "b": 2]))
        #expect(try ref("a/b") != ref("a/c"))
    }

    @Test func structuralIdentityComparesMapKeysByTheirBytes() {
        // Canonically equivalent keys are one key to a Swift dictionary, but not the same bytes.
        let precomposed: Value = ["é": 1]
        let decomposed: Value = ["e\u{301}": 1]
        #expect(precomposed != decomposed)
        #expect(precomposed.json.serialized != decomposed.json.serialized)
        #expect(Value.compare(precomposed, decomposed) != 0)
    }

    @Test(arguments: [
        ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ])
    func base64MatchesRFC4648TestVectors(plain: String, encoded: String) {
        #expect(Base64.encode(Array(plain.utf8)) == encoded)
        #expect(Base64.decode(encoded) == Array(plain.utf8))
    }

    @Test(arguments: ["Zg=", "Zg", "Zm8", "Zm9vYg"])
    func base64DecodesWithOrWithoutPadding(text: String) {
        #expect(Base64.decode(text) != nil)
    }

    @Test(arguments: ["Z", "Zm9vY", "Zm9v YmFy", "Zm9v\nYmFy", "Zm9v-_", "Zg==Zg==", "é"])
    func base64RejectsOtherCharactersAndImpossibleLengths(text: String) {
        #expect(Base64.decode(text) == nil)
    }

    @Test func base64RoundTripsAllByteValues() {
        let all = (0...255).map { UInt8($0) }
        for count in [0, 1, 2, 3, 4, 255, 256] {
            let bytes = Array(all.prefix(count))
            #expect(Base64.decode(Base64.encode(bytes)) == bytes)
        }
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func randomValuesRoundTripThroughJSONText(seed: UInt64) throws {
        var generator = ValueGenerator(seed: seed, maxDepth: 5)
        for _ in 0..<60 {
            let original = generator.value()
            let text = original.json.serialized
            let back = try Value(json: JSON(parsing: text))
            #expect(back == original, "\(String(decoding: text, as: UTF8.self))")
            #expect(Value.compare(back, original) == 0)
            #expect(back.json.serialized == text)
        }
    }

    @Test(arguments: [11, 12] as [UInt64])
    func deeplyNestedRandomValuesRoundTripUpToTheLimit(seed: UInt64) throws {
        var generator = ValueGenerator(seed: seed)
        for levels in 0...Value.maximumDepth {
            let original = generator.deepValue(levels: levels)
            #expect(try Value(json: JSON(parsing: original.json.serialized)) == original)
        }
        let tooDeep = generator.deepValue(levels: Value.maximumDepth + 1)
        expectFlintError(.invalidArgument) { try Value(json: JSON(parsing: tooDeep.json.serialized)) }
    }

    @Test func typeNamesAndNumberChecks() {
        #expect(Value.geoPoint(try! GeoPoint(latitude: 0, longitude: 0)).typeName == "geopoint")
        #expect(Value.integer(1).isNumber && Value.double(1).isNumber && !Value.string("1").isNumber)
    }

    @Test func valueAtFollowsMaps() {
        let v: Value = ["a": ["b": ["c": 1]], "x": [1]]
        #expect(v.value(at: ["a", "b", "c"]) == 1)
        #expect(v.value(at: ["a", "b"]) == ["c": 1])
        #expect(v.value(at: []) == v)
        #expect(v.value(at: ["a", "z"]) == nil)
        #expect(v.value(at: ["x", "0"]) == nil)  // arrays are not traversed
    }

    @Test(arguments: [(90.0001, 0.0), (-91, 0), (0, 180.0001), (0, -181), (.nan, 0), (0, .nan), (.infinity, 0)] as [(Double, Double)])
    func geoPointsOutsideTheirRangeAreRejected(latitude: Double, longitude: Double) {
        expectFlintError(.invalidArgument) { try GeoPoint(latitude: latitude, longitude: longitude) }
    }
}
