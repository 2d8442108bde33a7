import FlintTestSupport
import FlintCore
import Hummingbird
import HummingbirdTesting
import Testing

/// `POST /v1/query` over a live server.
@Suite struct QueryAPITests {
    static let seed = #"""
        {"writes": [
          {"op": "set", "path": "rooms/r1/messages/m1", "data": {"author": "alice", "n": 1, "tags": ["x"], "sent": {"$timestamp": "2026-11-24T10:00:01Z"}}},
          {"op": "set", "path": "rooms/r1/messages/m2", "data": {"author": "bob", "n": 5, "tags": ["y"], "sent": {"$timestamp": "2026-11-24T10:00:02Z"}}},
          {"op": "set", "path": "rooms/r1/messages/m3", "data": {"author": "alice", "n": 7, "tags": ["x", "y"], "sent": {"$timestamp": "2026-11-24T10:00:03Z"}}},
          {"op": "set", "path": "rooms/r1/messages/m4", "data": {"author": "alice", "n": 2.5, "sent": {"$timestamp": "2026-11-24T10:00:04Z"}}},
          {"op": "set", "path": "rooms/r1/messages/m5", "data": {"author": "carol", "n": "seven"}},
          {"op": "set", "path": "rooms/r2/messages/m6", "data": {"author": "alice", "n": 9}}]}
        """#

    func ids(_ reply: HTTPTestClient.Reply) throws -> [String] {
        let documents = try reply.json["documents"]
        return (0..<(documents?.arrayCount ?? 0)).compactMap {
            if case .string(let id)? = documents?[$0]?["id"] { id } else { nil }
        }
    }

    @Test(arguments: [
        (#"{"collection": "rooms/r1/messages", "where": {"field": "author", "op": "==", "value": "alice"}}"#, ["m1", "m3", "m4"]),
        (#"{"collection": "rooms/r1/messages", "where": {"field": "n", "op": ">", "value": 2}}"#, ["m4", "m2", "m3"]),
        (#"{"collection": "rooms/r1/messages", "where": {"field": "n", "op": "!=", "value": 5}}"#, ["m1", "m4", "m3", "m5"]),
        (#"{"collection": "rooms/r1/messages", "where": {"field": "tags", "op": "array-contains", "value": "y"}}"#, ["m2", "m3"]),
        (#"{"collection": "rooms/r1/messages", "where": {"field": "tags", "op": "array-contains-any", "value": ["x", "y"]}}"#, ["m1", "m2", "m3"]),
        (#"{"collection": "rooms/r1/messages", "where": {"field": "author", "op": "in", "value": ["bob", "carol"]}}"#, ["m2", "m5"]),
        (#"{"collection": "rooms/r1/messages", "where": {"field": "author", "op": "not-in", "value": ["alice"]}}"#, ["m2", "m5"]),
        (#"{"collection": "rooms/r1/messages", "where": {"or": [{"field": "n", "op": "==", "value": 1}, {"field": "author", "op": "==", "value": "bob"}]}}"#, ["m1", "m2"]),
        (#"{"collection": "rooms/r1/messages", "where": {"field": "author", "op": "==", "value": "alice"}, "orderBy": [{"field": "sent", "direction": "desc"}], "limit": 2}"#, ["m4", "m3"]),
        (#"{"collection": "rooms/r1/messages", "orderBy": [{"field": "sent"}], "limitToLast": 2}"#, ["m3", "m4"]),
        (#"{"collection": "rooms/r1/messages", "orderBy": [{"field": "sent"}], "startAfter": [{"$timestamp": "2026-11-24T10:00:02Z"}]}"#, ["m3", "m4"]),
        (#"{"collection": "rooms/r1/messages", "orderBy": [{"field": "n"}], "endBefore": [5]}"#, ["m1", "m4"]),
        (#"{"collection": "messages", "allDescendants": true, "where": {"field": "n", "op": ">=", "value": 7}}"#, ["m3", "m6"]),
        (#"{"collection": "rooms/r1/messages", "orderBy": [{"field": "n"}]}"#, ["m1", "m4", "m2", "m3", "m5"]),
    ])
    func queriesSelectAndOrderAsFirestoreDoes(query: String, expected: [String]) async throws {
        try await TestServer.run { http in
            try await http.send(.post, "/v1/commit", body: Self.seed)
            let reply = try await http.send(.post, "/v1/query", body: query)
            #expect(reply.status == .ok, "\(reply.text)")
            #expect(try ids(reply) == expected)
        }
    }
}
