import Testing
@testable import FlintCore

@Suite struct WriteParsingTests {
    func commit(_ text: String) throws -> Commit { try Commit(json: JSON(parsing: text)) }
    func write(_ text: String) throws -> Write { try Write(json: JSON(parsing: text), context: "writes[0]") }

    @Test func theDesignExampleParses() throws {
        let c = try commit(
            #"""
            {"writes": [
              {"op": "set",    "path": "rooms/r1", "data": {"name": "Lobby"}, "merge": false},
              {"op": "update", "path": "rooms/r1", "data": {"topic": "hi"}, "mask": ["topic"], "precondition": {"exists": true}},
              {"op": "update", "path": "rooms/r1", "transforms": [{"field": "count", "increment": 1}, {"field": "seen", "serverTimestamp": true}]},
              {"op": "delete", "path": "rooms/r0", "precondition": {"version": 41}}]}
            """#)
        let r1 = try DocumentPath("rooms/r1")
        #expect(c.writes == [
            Write(path: r1, operation: .set(data: ["name": "Lobby"], merge: false)),
            Write(path: r1, operation: .update(data: ["topic": "hi"], mask: [try field("topic")]), precondition: .exists(true)),
            Write(
                path: r1, operation: .update(data: [:], mask: []),
                transforms: [
                    .init(field: try field("count"), kind: .increment(1)), .init(field: try field("seen"), kind: .serverTimestamp),
                ]),
            Write(path: try DocumentPath("rooms/r0"), operation: .delete, precondition: .version(41)),
        ])
    }

    @Test func setDefaultsToEmptyDataWithoutMerge() throws {
        #expect(try write(#"{"op": "set", "path": "c/d"}"#).operation == .set(data: [:], merge: false))
        #expect(try write(#"{"op": "set", "path": "c/d", "merge": true}"#).operation == .set(data: [:], merge: true))
    }

    @Test func setDataKeysAreFieldNamesNotPaths() throws {
        #expect(try write(#"{"op": "set", "path": "c/d", "data": {"a.b": 1, "$$x": 2}}"#).operation == .set(data: ["a.b": 1, "$x": 2], merge: false))
    }

    @Test func updateDataKeysArePaths() throws {
        #expect(try write(#"{"op": "update", "path": "c/d", "data": {"a.b": 1}}"#).operation == .update(data: ["a": ["b": 1]], mask: [try field("a.b")]))
    }

    @Test func updateMasksAreFieldPaths() throws {
        let w = try write(#"{"op": "update", "path": "c/d", "mask": ["a.b", "`x.y`"]}"#)
        #expect(w.operation == .update(data: [:], mask: [try field("a.b"), try FieldPath(segments: ["x.y"])]))
    }

    @Test(arguments: [
        (#"{"op": "set", "path": "c/d", "mask": ["a"]}"#, ["unknown field \"mask\""]),
        (#"{"op": "update", "path": "c/d", "merge": true}"#, ["unknown field \"merge\""]),
        (#"{"op": "delete", "path": "c/d", "data": {}}"#, ["unknown field \"data\""]),
        (#"{"op": "delete", "path": "c/d", "transforms": []}"#, ["unknown field \"transforms\""]),
        (#"{"op": "create", "path": "c/d"}"#, ["writes[0].op must be \"set\", \"update\" or \"delete\""]),
        (#"{"path": "c/d"}"#, ["writes[0].op is missing"]),
        (#"{"op": "set"}"#, ["writes[0].path is missing"]),
        (#"{"op": "set", "path": "c"}"#, ["writes[0].path", "names a collection"]),
        (#"{"op": "set", "path": "c/__d__"}"#, ["writes[0].path", "reserved"]),
        (#"{"op": "set", "path": "c/d", "data": [1]}"#, ["writes[0].data must be a JSON object"]),
        (#"{"op": "set", "path": "c/d", "data": {"$timestamp": "2026-11-24T10:00:00Z"}}"#, ["not a tagged value"]),
        (#"{"op": "set", "path": "c/d", "data": {"a": {"$bytes": "!"}}}"#, ["writes[0].data.a"]),
        (#"{"op": "set", "path": "c/d", "merge": 1}"#, ["writes[0].merge must be true or false"]),
        (#"{"op": "update", "path": "c/d", "mask": "a"}"#, ["writes[0].mask must be an array"]),
        (#"{"op": "update", "path": "c/d", "mask": [1]}"#, ["writes[0].mask[0] must be a string"]),
        (#"{"op": "update", "path": "c/d", "mask": ["a..b"]}"#, ["writes[0].mask[0]"]),
        (#"{"op": "update", "path": "c/d", "mask": ["__name__"]}"#, ["writes[0].mask[0]", "__name__"]),
        (#"{"op": "update", "path": "c/d", "data": {"__name__": {"$ref": "c/e"}}}"#, ["writes[0].data", "__name__"]),
        (#"{"op": "update", "path": "c/d", "data": {"a": 1, "a.b": 2}}"#, ["overlap"]),
        (#"{"op": "set", "path": "c/d", "transforms": {}}"#, ["writes[0].transforms must be an array"]),
        ("[]", ["writes[0] must be a JSON object"]),
    ] as [(String, [String])])
    func malformedWritesAreRejectedNamingTheProblem(text: String, fragments: [String]) {
        expectFlintError(.invalidArgument, mentioningAll: fragments) { try write(text) }
    }

    @Test(arguments: [
        (#"{"field": "n", "increment": 2}"#, Write.FieldTransform.Kind.increment(2)),
        (#"{"field": "n", "increment": -0.5}"#, .increment(-0.5)),
        (#"{"field": "n", "maximum": {"$double": "NaN"}}"#, .maximum(.double(.nan))),
        (#"{"field": "n", "minimum": 3}"#, .minimum(3)),
        (#"{"field": "n", "arrayUnion": [1, "a"]}"#, .arrayUnion([1, "a"])),
        (#"{"field": "n", "arrayRemove": []}"#, .arrayRemove([])),
        (#"{"field": "n", "serverTimestamp": true}"#, .serverTimestamp),
        (#"{"field": "n", "delete": true}"#, .delete),
    ])
    func everyTransformParses(text: String, kind: Write.FieldTransform.Kind) throws {
        let t = try Write.FieldTransform(json: json(text), context: "t")
        #expect(t == Write.FieldTransform(field: try field("n"), kind: kind))
    }

    @Test(arguments: [
        (#"{"field": "n"}"#, "exactly one of"),
        (#"{"field": "n", "increment": 1, "maximum": 2}"#, "exactly one of"),
        (#"{"increment": 1}"#, "t.field is missing"),
        (#"{"field": "n", "increment": "1"}"#, "t.increment takes a number, not string"),
        (#"{"field": "n", "maximum": null}"#, "t.maximum takes a number"),
        (#"{"field": "n", "minimum": [1]}"#, "t.minimum takes a number"),
        (#"{"field": "n", "serverTimestamp": false}"#, "t.serverTimestamp must be true"),
        (#"{"field": "n", "delete": 1}"#, "t.delete must be true"),
        (#"{"field": "n", "arrayUnion": 1}"#, "t.arrayUnion takes an array"),
        (#"{"field": "n", "arrayRemove": {"a": 1}}"#, "t.arrayRemove takes an array"),
        (#"{"field": "__name__", "delete": true}"#, "__name__ cannot be transformed"),
        (#"{"field": "n", "increment": 1, "extra": 1}"#, "unknown field \"extra\""),
        (#"{"field": "a..b", "delete": true}"#, "t.field"),
        (#"{"field": "n", "arrayUnion": [{"$geo": [100, 0]}]}"#, "t.arrayUnion[0]"),
    ])
    func malformedTransformsAreRejected(text: String, fragment: String) {
        expectFlintError(.invalidArgument, mentioning: fragment) { try Write.FieldTransform(json: json(text), context: "t") }
    }

    @Test(arguments: [
        (#"{"exists": true}"#, Write.Precondition.exists(true)),
        (#"{"exists": false}"#, .exists(false)),
        (#"{"version": 41}"#, .version(41)),
        (#"{"updateTime": "2026-11-24T10:00:00.5+01:00"}"#, .updateTime(Timestamp(rfc3339: "2026-11-24T09:00:00.5Z")!)),
    ])
    func preconditionsParse(text: String, expected: Write.Precondition) throws {
        #expect(try Write.Precondition(json: json(text), context: "p") == expected)
    }

    @Test(arguments: [
        (#"{}"#, "exactly one of"),
        (#"{"exists": true, "version": 1}"#, "exactly one of"),
        (#"{"exists": "yes"}"#, "p.exists must be true or false"),
        (#"{"version": 1.0}"#, "p.version must be an integer"),
        (#"{"updateTime": "yesterday"}"#, "p.updateTime must be an RFC 3339 timestamp"),
        (#"{"updateTime": 5}"#, "p.updateTime must be a string"),
        (#"{"etag": "1"}"#, "unknown field \"etag\""),
    ])
    func malformedPreconditionsAreRejected(text: String, fragment: String) {
        expectFlintError(.invalidArgument, mentioning: fragment) { try Write.Precondition(json: json(text), context: "p") }
    }

    @Test func writeErrorsNameTheirIndexInTheCommit() {
        expectFlintError(.invalidArgument, mentioning: "writes[1].path") {
            try commit(#"{"writes": [{"op": "delete", "path": "c/d"}, {"op": "delete", "path": "c"}]}"#)
        }
    }

    @Test(arguments: [
        (#"{"writes": []}"#, "at least one write"),
        (#"{}"#, "commit.writes must be an array"),
        (#"{"writes": {}}"#, "commit.writes must be an array"),
        (#"{"writes": [], "atomic": true}"#, "unknown field \"atomic\""),
        (#"[]"#, "commit must be a JSON object"),
    ])
    func malformedCommitsAreRejected(text: String, fragment: String) {
        expectFlintError(.invalidArgument, mentioning: fragment) { try commit(text) }
    }

    @Test func commitsAcceptUpTo500Writes() throws {
        func body(_ count: Int) -> String {
            #"{"writes": ["# + Array(repeating: #"{"op": "delete", "path": "c/d"}"#, count: count).joined(separator: ",") + "]}"
        }
        #expect(try commit(body(500)).writes.count == 500)
        expectFlintError(.invalidArgument, mentioning: "501 writes") { try commit(body(501)) }
    }
}
