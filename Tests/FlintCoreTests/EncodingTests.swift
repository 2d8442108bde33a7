import Testing
@testable import FlintCore

/// Commits and queries written to JSON read back as the same values.
@Suite struct EncodingTests {
    @Test(arguments: [
        #"{"writes": [{"op": "set", "path": "rooms/r1", "data": {"name": "Lobby", "$$odd": {"$ref": "a/b"}}, "merge": true}], "mutationId": "m1"}"#,
        #"{"writes": [{"op": "update", "path": "rooms/r1", "data": {"topic": "hi", "a.b": 1, "`x.y`.z": [1.5, null]}, "mask": ["topic", "a.b", "`x.y`.z", "gone"], "precondition": {"exists": true}}]}"#,
        #"{"writes": [{"op": "update", "path": "rooms/r1", "transforms": [{"field": "count", "increment": 1}, {"field": "seen", "serverTimestamp": true}, {"field": "tags", "arrayUnion": ["a", 2]}, {"field": "old", "arrayRemove": [true]}, {"field": "x", "delete": true}, {"field": "hi", "maximum": 2.5}, {"field": "lo", "minimum": -1}]}]}"#,
        #"{"writes": [{"op": "delete", "path": "rooms/r0", "precondition": {"version": 41}}, {"op": "set", "path": "a/b", "data": {"t": {"$timestamp": "2026-11-24T10:00:00.123456Z"}}, "precondition": {"updateTime": "2026-11-24T10:00:00.000001Z"}}]}"#,
    ])
    func aCommitReadsBackFromItsJSON(_ text: String) throws {
        let commit = try Commit(json: JSON(parsing: text))
        #expect(try Commit(json: commit.json) == commit)
    }

    @Test func anUpdateWithoutMaskIsWrittenWithItsLeafPaths() throws {
        let write = Write(
            path: try DocumentPath("a/b"), operation: .update(data: ["m": .map(["x": 1, "y": .map([:])])], mask: nil))
        let back = try Write(json: write.json, context: "w")
        #expect(try back.apply(to: nil, commitTime: .now()) == write.apply(to: nil, commitTime: .now()))
    }

    @Test(arguments: [
        #"{"collection": "rooms/r1/messages", "where": {"and": [{"field": "author", "op": "==", "value": "alice"}, {"or": [{"field": "n", "op": ">", "value": 3}, {"field": "tags", "op": "array-contains", "value": "x"}]}]}, "orderBy": [{"field": "sent", "direction": "desc"}], "limit": 20, "startAfter": [{"$timestamp": "2026-11-24T10:00:00Z"}]}"#,
        #"{"collection": "messages", "allDescendants": true, "where": {"field": "n", "op": "not-in", "value": [1, 2]}, "orderBy": [{"field": "n"}], "limitToLast": 3, "startAt": [1], "endBefore": [9, {"$ref": "rooms/r1/messages/m"}]}"#,
        #"{"collection": "c", "where": {"field": "__name__", "op": "in", "value": ["a", "b"]}, "endAt": ["z"]}"#,
    ])
    func aQueryReadsBackFromItsJSON(_ text: String) throws {
        let query = try Query(json: JSON(parsing: text))
        #expect(try Query(json: query.json) == query)
    }
}
