import FlintTestSupport
import FlintCore
import Hummingbird
import HummingbirdTesting
import Testing

/// Bad input gets a 4xx JSON error that says what to fix, never a 500, and writes nothing.
@Suite struct BadInputTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var method: HTTPRequest.Method
        var uri: String
        var body: String?
        var status: HTTPResponse.Status
        var code: String
        /// A phrase the message must contain, so the message says what is wrong.
        var mentions: String

        var testDescription: String { "\(method) \(uri) \(body ?? "")" }
    }

    static let cases: [Case] = [
        Case(method: .put, uri: "/v1/documents/rooms/r1", body: "{bad", status: .badRequest, code: "invalid-argument", mentions: "invalid JSON"),
        Case(method: .put, uri: "/v1/documents/rooms/r1", body: "", status: .badRequest, code: "invalid-argument", mentions: "empty"),
        Case(method: .put, uri: "/v1/documents/rooms/r1", body: "[1]", status: .badRequest, code: "invalid-argument", mentions: "JSON object"),
        Case(method: .put, uri: "/v1/documents/rooms", body: "{}", status: .badRequest, code: "invalid-argument", mentions: "document path"),
        Case(method: .put, uri: "/v1/documents/rooms/__x__", body: "{}", status: .badRequest, code: "invalid-argument", mentions: "reserved"),
        Case(method: .put, uri: "/v1/documents/rooms/..", body: "{}", status: .badRequest, code: "invalid-argument", mentions: "not allowed"),
        Case(method: .put, uri: "/v1/documents/rooms//r1", body: "{}", status: .badRequest, code: "invalid-argument", mentions: "empty segment"),
        Case(method: .put, uri: "/v1/documents/rooms/r1", body: #"{"n": 99999999999999999999}"#, status: .badRequest, code: "invalid-argument", mentions: "64 bits"),
        Case(method: .put, uri: "/v1/documents/rooms/r1", body: #"{"t": {"$timestamp": "yesterday"}}"#, status: .badRequest, code: "invalid-argument", mentions: "RFC 3339"),
        Case(method: .put, uri: "/v1/documents/rooms/r1", body: #"{"t": {"$nope": 1}}"#, status: .badRequest, code: "invalid-argument", mentions: "unknown tag"),
        Case(method: .put, uri: "/v1/documents/rooms/r1", body: #"{"g": {"$geo": [91, 0]}}"#, status: .badRequest, code: "invalid-argument", mentions: "latitude"),
        Case(method: .put, uri: "/v1/documents/rooms/r1", body: #"{"a": 1, "a": 2}"#, status: .badRequest, code: "invalid-argument", mentions: "twice"),
        Case(method: .put, uri: "/v1/documents/rooms/r1", body: #"{"": 1}"#, status: .badRequest, code: "invalid-argument", mentions: "empty"),
        Case(method: .put, uri: "/v1/documents/rooms/r1", body: String(repeating: #"{"a":"#, count: 22) + "1" + String(repeating: "}", count: 22), status: .badRequest, code: "invalid-argument", mentions: "levels deep"),
        Case(method: .put, uri: "/v1/documents/rooms/r1", body: String(repeating: "[", count: 5000), status: .badRequest, code: "invalid-argument", mentions: "nesting"),
        Case(method: .put, uri: "/v1/documents/rooms/r1", body: #"{"big": ""# + String(repeating: "x", count: 1_100_000) + #""}"#, status: .badRequest, code: "invalid-argument", mentions: "at most 1048576 bytes"),
        Case(method: .patch, uri: "/v1/documents/rooms/r1?mask=a..b", body: "{}", status: .badRequest, code: "invalid-argument", mentions: "mask"),
        Case(method: .patch, uri: "/v1/documents/rooms/r1", body: #"{"a": 1, "a.b": 2}"#, status: .badRequest, code: "invalid-argument", mentions: "overlap"),
        Case(method: .post, uri: "/v1/documents/rooms/r1", body: "{}", status: .badRequest, code: "invalid-argument", mentions: "PUT"),
        Case(method: .get, uri: "/v1/documents/rooms?pageSize=0", body: nil, status: .badRequest, code: "invalid-argument", mentions: "pageSize"),
        Case(method: .get, uri: "/v1/documents/rooms?pageToken=%%%", body: nil, status: .badRequest, code: "invalid-argument", mentions: "pageToken"),
        Case(method: .post, uri: "/v1/query", body: #"{"collection": "rooms", "wher": {}}"#, status: .badRequest, code: "invalid-argument", mentions: "unknown field \"wher\""),
        Case(method: .post, uri: "/v1/query", body: #"{"collection": "rooms/r1"}"#, status: .badRequest, code: "invalid-argument", mentions: "collection"),
        Case(method: .post, uri: "/v1/query", body: #"{"collection": "rooms", "where": {"field": "a", "op": "~", "value": 1}}"#, status: .badRequest, code: "invalid-argument", mentions: "array-contains"),
        Case(method: .post, uri: "/v1/query", body: #"{"collection": "rooms", "where": {"field": "a", "op": "in", "value": 1}}"#, status: .badRequest, code: "invalid-argument", mentions: "non-empty array"),
        Case(method: .post, uri: "/v1/query", body: #"{"collection": "rooms", "limit": -1}"#, status: .badRequest, code: "invalid-argument", mentions: "limit"),
        Case(method: .post, uri: "/v1/query", body: #"{"collection": "rooms", "limitToLast": 3}"#, status: .badRequest, code: "invalid-argument", mentions: "orderBy"),
        Case(method: .post, uri: "/v1/query", body: #"{"collection": "rooms", "startAt": [1]}"#, status: .badRequest, code: "invalid-argument", mentions: "__name__"),
        Case(method: .post, uri: "/v1/commit", body: #"{"writes": []}"#, status: .badRequest, code: "invalid-argument", mentions: "at least one write"),
        Case(method: .post, uri: "/v1/commit", body: #"{"writes": [{"op": "upsert", "path": "a/b"}]}"#, status: .badRequest, code: "invalid-argument", mentions: "\"set\""),
        Case(method: .post, uri: "/v1/commit", body: #"{"writes": [{"op": "set", "path": "a/b", "data": {}, "precondition": {"exists": true, "version": 1}}]}"#, status: .badRequest, code: "invalid-argument", mentions: "exactly one"),
        Case(method: .post, uri: "/v1/commit", body: #"{"writes": [{"op": "set", "path": "a/b", "transforms": [{"field": "n", "increment": "1"}]}]}"#, status: .badRequest, code: "invalid-argument", mentions: "number"),
        Case(method: .post, uri: "/v1/commit", body: #"{"writes": [{"op": "delete", "path": "a/b", "data": {}}]}"#, status: .badRequest, code: "invalid-argument", mentions: "unknown field \"data\""),
        Case(method: .get, uri: "/v1/nothing-here", body: nil, status: .notFound, code: "not-found", mentions: "no route"),
        Case(method: .get, uri: "/v1/realtime", body: nil, status: .badRequest, code: "invalid-argument", mentions: "WebSocket"),
    ]

    @Test(arguments: cases)
    func badInputIsAClearClientErrorAndWritesNothing(_ testCase: Case) async throws {
        try await TestServer.run { http in
            let reply = try await http.send(testCase.method, testCase.uri, body: testCase.body)
            #expect(reply.status == testCase.status, "\(reply.text.prefix(300))")
            #expect(reply.headers[.contentType]?.hasPrefix("application/json") == true)
            #expect(reply.errorCode == testCase.code)
            #expect(reply.errorMessage?.contains(testCase.mentions) == true, "message: \(reply.errorMessage ?? reply.text)")
            // Nothing was written: the change log is empty.
            let listing = try await http.send(.get, "/v1/documents/rooms")
            #expect(try listing.json["documents"]?.arrayCount == 0)
        }
    }

    @Test func aBodyOverTheConfiguredLimitIsRefusedWith413() async throws {
        try await TestServer.run(configure: { $0.maximumBodySize = 2048 }) { http in
            let reply = try await http.send(.put, "/v1/documents/rooms/r1", body: #"{"a": ""# + String(repeating: "x", count: 4096) + #""}"#)
            #expect(reply.status == .contentTooLarge)
            #expect(reply.errorCode == "resource-exhausted")
            #expect(try await http.send(.get, "/v1/documents/rooms/r1").status == .notFound)
        }
    }
}
