import FlintTestSupport
import Testing
@testable import FlintCore

@Suite struct FieldPathTests {
    @Test(arguments: [
        ("a", ["a"]),
        ("a.b.c", ["a", "b", "c"]),
        ("address.city", ["address", "city"]),
        ("`a.b`.c", ["a.b", "c"]),
        ("c.`a.b`", ["c", "a.b"]),
        ("`with space`", ["with space"]),
        (#"`a\`b`"#, ["a`b"]),
        (#"`a\\b`"#, [#"a\b"#]),
        ("`é`.ü", ["é", "ü"]),
        ("1a.-x", ["1a", "-x"]),  // unquoted segments need not be identifiers
        ("`$x`", ["$x"]),
        ("__name__", ["__name__"]),
        ("`__name__`", ["__name__"]),
        ("`a`.`b`", ["a", "b"]),
    ])
    func dottedAndBacktickQuotedFormsParse(text: String, segments: [String]) throws {
        #expect(try FieldPath(text).segments == segments)
    }

    @Test(arguments: [
        ["a"], ["a", "b"], ["a.b"], ["1a"], ["é"], ["a`b"], [#"a\b"#], [" "], ["_x9"], ["A_z"], ["a-b", "c"], ["$"],
        ["`"], [#"\"#], ["😀", "x.y", "z"], ["__"], ["a", "__name__x"],
        ["`\u{301}"], ["\\\u{301}"], ["a`\u{301}b"],  // a combining mark joins the backtick or backslash into one Character
    ])
    func descriptionRoundTrips(segments: [String]) throws {
        let path = try FieldPath(segments: segments)
        #expect(try FieldPath(path.description) == path, "\(path.description)")
    }

    @Test(arguments: [
        (["a", "b"], "a.b"), (["a.b", "c"], "`a.b`.c"), (["a`b"], #"`a\`b`"#), ([#"a\b"#], #"`a\\b`"#), (["1a"], "`1a`"),
        (["_x9"], "_x9"), (["é"], "`é`"), (["__name__"], "__name__"),
    ])
    func descriptionQuotesOnlySegmentsThatAreNotIdentifiers(segments: [String], text: String) throws {
        #expect(try FieldPath(segments: segments).description == text)
    }

    @Test(arguments: [51, 52] as [UInt64])
    func randomFieldPathsRoundTripThroughDescription(seed: UInt64) throws {
        var generator = ValueGenerator(seed: seed)
        for _ in 0..<200 {
            let segments = (0..<generator.int(1...4)).map { _ in generator.fieldName() }
            let path = try FieldPath(segments: segments)
            #expect(try FieldPath(path.description).segments == segments, "\(path.description)")
        }
    }

    @Test(arguments: [
        "", "a..b", ".a", "a.", "`a", "`a`b", "a`b`", "`a`.`", "``", "a.``", "`a\\", "a.__x__", "__x__", "a.__name__",
        "__name__.a", "``.a",
    ])
    func malformedFieldPathsAreRejected(text: String) {
        expectFlintError(.invalidArgument) { try FieldPath(text) }
    }

    @Test func fieldPathsMayBeTwentyLevelsDeep() throws {
        let twenty = (0..<20).map { "f\($0)" }
        #expect(try FieldPath(twenty.joined(separator: ".")).segments.count == 20)
        expectFlintError(.invalidArgument, mentioning: "21 levels") {
            try FieldPath((twenty + ["x"]).joined(separator: "."))
        }
        expectFlintError(.invalidArgument, mentioning: "empty") { try FieldPath(segments: []) }
    }

    @Test func fieldNamesAreLimitedTo1500Bytes() throws {
        _ = try FieldPath(segments: [String(repeating: "x", count: 1500)])
        expectFlintError(.invalidArgument, mentioning: "1500 bytes") {
            try FieldPath(segments: [String(repeating: "x", count: 1501)])
        }
        expectFlintError(.invalidArgument, mentioning: "1500 bytes") {
            try FieldPath(segments: [String(repeating: "é", count: 751)])
        }
    }

    @Test func documentNameIsTheReservedNameField() throws {
        #expect(try FieldPath("__name__") == .documentName)
        #expect(FieldPath.documentName.isDocumentName)
        #expect(try !FieldPath("name").isDocumentName)
        #expect(try !FieldPath("a.b").isDocumentName)
    }

    @Test func prefixesAreWholeSegments() throws {
        #expect(try field("a").isPrefix(of: field("a.b")))
        #expect(try field("a").isPrefix(of: field("a")))
        #expect(try field("a.b").isPrefix(of: field("a.b.c")))
        #expect(try !field("a.b").isPrefix(of: field("a")))
        #expect(try !field("a").isPrefix(of: field("ab")))
        #expect(try !field("a.b").isPrefix(of: field("`a.b`")))
    }
}
