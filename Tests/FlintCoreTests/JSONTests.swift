import Testing
@testable import FlintCore

@Suite struct JSONTests {
    @Test func integersAndDoublesStayApartThroughJSON() throws {
        #expect(try json("1") == .integer(1))
        #expect(try json("1.0") == .double(1))
        #expect(try json("1e2") == .double(100))
        #expect(JSON.integer(1).text == "1")
        #expect(JSON.double(1).text == "1.0")
        #expect(try JSON(parsing: JSON.double(1).serialized) == .double(1))
        #expect(try JSON(parsing: JSON.integer(1).serialized) == .integer(1))
        #expect(try json("[1, 1.0]") == .array([.integer(1), .double(1)]))
    }

    @Test(arguments: [
        ("0", JSON.integer(0)),
        ("-0", .integer(0)),
        ("42", .integer(42)),
        ("-17", .integer(-17)),
        ("9223372036854775807", .integer(.max)),
        ("-9223372036854775808", .integer(.min)),
        ("0.5", .double(0.5)),
        ("-2.25", .double(-2.25)),
        ("1E2", .double(100)),
        ("1e+2", .double(100)),
        ("1e-2", .double(0.01)),
        ("2.5e3", .double(2500)),
        ("10.0", .double(10)),
        ("9223372036854775808.0", .double(9_223_372_036_854_775_808.0)),
    ])
    func numbersWithoutFractionOrExponentAreIntegers(text: String, expected: JSON) throws {
        #expect(try json(text) == expected)
    }

    @Test func negativeZeroDoubleKeepsItsSign() throws {
        guard case .double(let d) = try json("-0.0") else {
            Issue.record("-0.0 should parse as a double")
            return
        }
        #expect(d == 0 && d.sign == .minus)
        #expect(JSON.double(-0.0).text == "-0.0")
    }

    @Test(arguments: ["9223372036854775808", "-9223372036854775809", "123456789012345678901234567890"])
    func integersBeyondInt64AreAClearInvalidArgument(text: String) {
        expectFlintError(.invalidArgument, mentioning: "64 bits", text) { try json(text) }
    }

    @Test(arguments: ["1e400", "-1e400", "1.5e309"])
    func doublesBeyondTheRangeAreRejected(text: String) {
        expectFlintError(.invalidArgument, mentioning: "range") { try json(text) }
    }

    @Test(arguments: [
        0.1, 1e-300, .leastNonzeroMagnitude, 1.7976931348623157e308, 123_456_789.125, 1e16, 1e21, 9_007_199_254_740_993.0, -3.5,
        2.2250738585072014e-308, 100.0,
    ])
    func finiteDoublesRoundTripExactly(d: Double) throws {
        let text = JSON.double(d).text
        guard case .double(let back) = try json(text) else {
            Issue.record("\(text) should read back as a double")
            return
        }
        #expect(back.bitPattern == d.bitPattern, "\(text)")
    }

    @Test func duplicateKeysAreRejected() {
        expectFlintError(.invalidArgument, mentioning: "\"a\" appears twice") { try json(#"{"a": 1, "a": 2}"#) }
        expectFlintError(.invalidArgument, mentioning: "appears twice") { try json(#"{"x": {"b": 1, "c": 2, "b": 1}}"#) }
        // Escapes are decoded before comparing keys.
        expectFlintError(.invalidArgument, mentioning: "appears twice") { try json(#"{"a": 1, "\u0061": 2}"#) }
    }

    @Test func keysEqualOnlyUnderUnicodeNormalisationAreRejectedNotMerged() {
        // A Swift dictionary cannot hold both "é" and "e\u{301}"; refusing is better than losing one silently.
        expectFlintError(.invalidArgument, mentioning: "appears twice") { try json("{\"é\": 1, \"e\u{301}\": 2}") }
    }

    @Test func sameKeyInDifferentObjectsIsFine() throws {
        #expect(try json(#"[{"a": 1}, {"a": 2}]"#) == .array([.object(["a": .integer(1)]), .object(["a": .integer(2)])]))
    }

    @Test(arguments: [
        [0x22, 0xFF, 0x22],  // never valid in UTF-8
        [0x22, 0xC0, 0xAF, 0x22],  // overlong '/'
        [0x22, 0xED, 0xA0, 0x80, 0x22],  // an encoded surrogate
        [0x22, 0xE2, 0x82, 0x22],  // truncated sequence
        [0x22, 0x80, 0x22],  // lone continuation byte
        [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22],  // above U+10FFFF
        [0x22, 0x5C, 0x6E, 0xFF, 0x22],  // invalid after an escape (the slow path)
        [0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D],  // invalid in a key
    ] as [[UInt8]])
    func invalidUTF8IsRejected(bytes: [UInt8]) {
        expectFlintError(.invalidArgument, mentioning: "UTF-8") { try JSON(parsing: bytes) }
    }

    @Test func invalidBytesOutsideStringsAreRejected() {
        expectFlintError(.invalidArgument) { try JSON(parsing: [0xEF, 0xBB, 0xBF, 0x31] as [UInt8]) }  // a BOM
        expectFlintError(.invalidArgument) { try JSON(parsing: [0x5B, 0xFF, 0x5D] as [UInt8]) }
    }

    @Test func validUTF8AndEscapesDecode() throws {
        #expect(try json(#""é😀中""#) == .string("é😀中"))
        #expect(try json(#""\u00e9\u00E9""#) == .string("éé"))
        #expect(try json(#""\"\\\/\b\f\n\r\t""#) == .string("\"\\/\u{8}\u{C}\n\r\t"))
        #expect(try json(#""\u0000""#) == .string("\u{0}"))
        #expect(try json(#""a\u0062c""#) == .string("abc"))
    }

    @Test func surrogatePairEscapesDecodeToOneScalar() throws {
        #expect(try json(#""\ud83d\ude00""#) == .string("😀"))
        #expect(try json(#""\uD83D\uDE00!""#) == .string("😀!"))
        #expect(try json(#""\udbff\udfff""#) == .string("\u{10FFFF}"))
        #expect(try json(#""\ud800\udc00""#) == .string("\u{10000}"))
    }

    @Test(arguments: [#""\ud83d""#, #""\ude00""#, #""\ud83d\u0041""#, #""\ud83dx""#, #""\ud83d\ud83d""#, #""\udfff\ud800""#])
    func loneSurrogatesAreRejected(text: String) {
        expectFlintError(.invalidArgument, mentioning: "surrogate") { try json(text) }
    }

    @Test func nestingUpToTheMaximumDepthIsAccepted() throws {
        _ = try json(nestedArrayText(JSON.maximumDepth))
        var text = ""
        for _ in 0..<JSON.maximumDepth { text += #"{"a":"# }
        text += "1" + String(repeating: "}", count: JSON.maximumDepth)
        _ = try json(text)
    }

    @Test func nestingBeyondTheMaximumDepthIsRejectedWithoutCrashing() {
        expectFlintError(.invalidArgument, mentioning: "nesting deeper than \(JSON.maximumDepth)") {
            try json(nestedArrayText(JSON.maximumDepth + 1))
        }
        // Far deeper than any stack would survive with unbounded recursion; the input needn't even be closed.
        expectFlintError(.invalidArgument, mentioning: "nesting") { try json(String(repeating: "[", count: 200_000)) }
        expectFlintError(.invalidArgument, mentioning: "nesting") {
            try json(String(repeating: #"{"a":"#, count: 100_000))
        }
        expectFlintError(.invalidArgument, mentioning: "nesting") {
            try json(String(repeating: #"[{"a":"#, count: 100_000))
        }
    }

    @Test func depthCountsOnlyOpenContainers() throws {
        // Many sibling containers at the limit do not add up.
        let item = nestedArrayText(JSON.maximumDepth - 1)
        _ = try json("[" + Array(repeating: item, count: 50).joined(separator: ",") + "]")
    }

    @Test(arguments: ["1 2", "{}x", "[1]]", "nullx", "truee", "\"a\"\"b\"", "{} {}", "1,", "0x1F", "[] ]"])
    func trailingGarbageIsRejected(text: String) {
        expectFlintError(.invalidArgument) { try json(text) }
    }

    @Test(arguments: ["", " ", "\n\t\r "])
    func anEmptyBodyIsRejected(text: String) {
        expectFlintError(.invalidArgument, mentioning: "empty") { try json(text) }
    }

    @Test(arguments: [
        "[1,]", "{,}", #"{"a"}"#, #"{"a":}"#, #"{"a":1,}"#, "{1:2}", "{'a':1}", "01", "-01", "1.", ".5", "+1", "1e", "1e+",
        "--1", "-", "NaN", "Infinity", "-Infinity", "'a'", "\"abc", "\"a\tb\"", "\"a\nb\"", #""\x""#, #""\u12""#,
        #""\u12g4""#, "[1 2]", #"{"a":1 "b":2}"#, "tru", "nul", "fals", "/* */1", "[", "]", "{", "}", "[1", #"{"a":1"#,
        #"{"a" 1}"#, "\"\\", "True", "NULL",
    ])
    func malformedJSONIsRejected(text: String) {
        expectFlintError(.invalidArgument, mentioning: "invalid JSON at byte") { try json(text) }
    }

    @Test func errorsGiveTheByteOffset() {
        expectFlintError(.invalidArgument, mentioning: "at byte 4") { try json("[1, ?]") }
    }

    @Test func whitespaceAroundTokensIsAllowed() throws {
        #expect(try json(" \n\t{ \"a\" : [ 1 , true , null ] } \r\n") == .object(["a": .array([.integer(1), .bool(true), .null])]))
    }

    @Test func bytesAndStringInputsParseAlike() throws {
        let text = #"{"k": ["v", 1, 2.5, false]}"#
        #expect(try JSON(parsing: text) == JSON(parsing: Array(text.utf8)))
        #expect(try JSON(parsing: text.utf8) == JSON(parsing: Array(text.utf8)[...]))
    }

    @Test func serializationIsCompactWithKeysSortedByUTF8() {
        let object = JSON.object([
            "b": .integer(1), "a": .array([.null, .bool(true), .bool(false)]), "é": .string("x"), "Z": .double(0.5),
            "\u{10000}": .null, "\u{FFFF}": .null,
        ])
        #expect(object.text == #"{"Z":0.5,"a":[null,true,false],"b":1,"é":"x","\#u{FFFF}":null,"\#u{10000}":null}"#)
    }

    @Test func serializationEscapesWhatJSONRequires() throws {
        let s = "q\"b\\n\nr\rt\t\u{0}\u{1F}\u{7F}é/"
        #expect(JSON.string(s).text == #""q\"b\\n\nr\rt\t\u0000\u001f"# + "\u{7F}é/\"")
        #expect(try json(JSON.string(s).text) == .string(s))
    }

    @Test func aDocumentRoundTripsThroughText() throws {
        let text = #"{"a":[1,2.5,-3,"x",{"b":null}],"c":{"d":true,"e":[]},"f":{},"g":"\u0001\"","h":-0.0,"i":1e300}"#
        let parsed = try json(text)
        #expect(try json(parsed.text) == parsed)
        #expect(try JSON(parsing: parsed.serialized).serialized == parsed.serialized)
    }

    @Test func equalValuesSerializeToEqualBytes() throws {
        let a = try json(#"{"x": 1, "y": {"p": [1, 2], "q": "s"}}"#)
        let b = try json(#"{"y": {"q": "s", "p": [1, 2]}, "x": 1}"#)
        #expect(a.serialized == b.serialized)
    }

    @Test func typeNamesDescribeTheKind() {
        #expect(JSON.integer(1).typeName == "an integer")
        #expect(JSON.double(1).typeName == "a number")
        #expect(JSON.object([:]).typeName == "an object")
        #expect(JSON.array([]).typeName == "an array")
    }

    @Test func numberReadsIntegersAndDoubles() {
        #expect(JSON.integer(3).number == 3)
        #expect(JSON.double(2.5).number == 2.5)
        #expect(JSON.string("3").number == nil)
    }
}
