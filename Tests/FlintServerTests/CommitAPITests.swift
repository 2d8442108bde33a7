import AsyncHTTPClient
import FlintTestSupport
import FlintCore
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// `POST /v1/commit`: atomic batches with transforms and preconditions.
@Suite struct CommitAPITests {
    @Test(arguments: StoreKind.available)
    func aCommitReportsItsVersionAndEachWriteResult(store: StoreKind) async throws {
        try await TestServer.run(store: store) { http in
            let reply = try await http.send(.post, "/v1/commit", body: #"""
                {"writes": [
                  {"op": "set", "path": "rooms/r1", "data": {"name": "Lobby"}},
                  {"op": "set", "path": "rooms/r2", "data": {"name": "Den"}},
                  {"op": "delete", "path": "rooms/r3"}]}
                """#)
            #expect(reply.status == .ok)
            let json = try reply.json
            #expect(json["version"] == .integer(1))
            #expect(json["writeResults"]?.arrayCount == 3)
            #expect(json["writeResults"]?[0]?["version"] == .integer(1))
            #expect(json["writeResults"]?[2]?["exists"] == .bool(false))
            let next = try await http.send(.post, "/v1/commit", body: #"{"writes": [{"op": "set", "path": "rooms/r1", "data": {}}]}"#)
            #expect(try next.json["version"] == .integer(2))
        }
    }

    @Test(arguments: StoreKind.available)
    func aFailingWriteLeavesNoneOfTheCommitApplied(store: StoreKind) async throws {
        try await TestServer.run(store: store) { http in
            try await http.send(.put, "/v1/documents/rooms/r1", body: #"{"n": 1}"#)
            let reply = try await http.send(.post, "/v1/commit", body: #"""
                {"writes": [
                  {"op": "update", "path": "rooms/r1", "data": {"n": 2}},
                  {"op": "set", "path": "rooms/r2", "data": {"new": true}},
                  {"op": "update", "path": "rooms/missing", "data": {"x": 1}, "precondition": {"exists": true}}]}
                """#)
            #expect(reply.status == .notFound)
            #expect(reply.errorMessage?.contains("writes[2]") == true)
            #expect(try await http.send(.get, "/v1/documents/rooms/r1").json["data"] == .object(["n": .integer(1)]))
            #expect(try await http.send(.get, "/v1/documents/rooms/r2").status == .notFound)
        }
    }

    @Test(arguments: StoreKind.available)
    func transformsApplyAfterData(store: StoreKind) async throws {
        try await TestServer.run(store: store) { http in
            try await http.send(.put, "/v1/documents/c/d", body: #"{"count": 5, "big": 1, "small": 9, "tags": ["a", "b"], "gone": 1}"#)
            let reply = try await http.send(.post, "/v1/commit", body: #"""
                {"writes": [{"op": "update", "path": "c/d", "data": {"extra": 1}, "transforms": [
                  {"field": "count", "increment": 2},
                  {"field": "ratio", "increment": 0.5},
                  {"field": "big", "maximum": 7},
                  {"field": "small", "minimum": 3},
                  {"field": "tags", "arrayUnion": ["b", "c"]},
                  {"field": "tags", "arrayRemove": ["a"]},
                  {"field": "gone", "delete": true},
                  {"field": "at", "serverTimestamp": true}]}]}
                """#)
            #expect(reply.status == .ok)
            let data = try #require(try await http.send(.get, "/v1/documents/c/d").json["data"])
            #expect(data["count"] == .integer(7))
            #expect(data["ratio"] == .double(0.5))
            #expect(data["big"] == .integer(7))
            #expect(data["small"] == .integer(3))
            #expect(data["tags"] == .array([.string("b"), .string("c")]))
            #expect(data["gone"] == nil)
            #expect(data["extra"] == .integer(1))
            #expect(data["at"]?["$timestamp"] == (try reply.json)["commitTime"])
        }
    }

    @Test(arguments: StoreKind.available)
    func versionAndUpdateTimePreconditionsGuardWrites(store: StoreKind) async throws {
        try await TestServer.run(store: store) { http in
            let doc = try await http.send(.put, "/v1/documents/c/d", body: #"{"n": 1}"#).json
            let version = try #require(doc["version"])
            let updateTime = try #require(doc["updateTime"])
            let good = try await http.send(.post, "/v1/commit", body: #"{"writes": [{"op": "update", "path": "c/d", "data": {"n": 2}, "precondition": {"version": \#(version.text)}}]}"#)
            #expect(good.status == .ok)
            let stale = try await http.send(.post, "/v1/commit", body: #"{"writes": [{"op": "delete", "path": "c/d", "precondition": {"updateTime": \#(updateTime.text)}}]}"#)
            #expect(stale.status == .preconditionFailed)
            #expect(stale.errorCode == "failed-precondition")
            let create = try await http.send(.post, "/v1/commit", body: #"{"writes": [{"op": "set", "path": "c/d", "data": {}, "precondition": {"exists": false}}]}"#)
            #expect(create.status == .conflict)
            #expect(create.errorCode == "already-exists")
        }
    }

    @Test(arguments: StoreKind.available)
    func moreThan500WritesAreRefused(store: StoreKind) async throws {
        try await TestServer.run(store: store) { http in
            let writes = (0..<501).map { #"{"op": "set", "path": "c/d\#($0)", "data": {}}"# }.joined(separator: ",")
            let reply = try await http.send(.post, "/v1/commit", body: #"{"writes": [\#(writes)]}"#)
            #expect(reply.status == .badRequest)
            #expect(reply.errorMessage?.contains("500") == true)
            #expect(try await http.send(.get, "/v1/documents/c/d0").status == .notFound)
        }
    }

    @Test(arguments: StoreKind.available)
    func concurrentCommitsEachGetTheirOwnSequenceNumber(store: StoreKind) async throws {
        try await TestServer.run(store: store) { http in
            let port = try #require(http.port)
            let versions = try await withThrowingTaskGroup(of: Int64.self) { group in
                for i in 0..<64 {
                    group.addTask {
                        // Through AsyncHTTPClient's pool of connections, so that the requests really are concurrent (the
                        // test client pipelines every request over one connection). The timeout is a hang guard.
                        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/documents/load/d\(i)")
                        request.method = .PUT
                        request.headers.add(name: "Content-Type", value: "application/json")
                        request.body = .bytes(ByteBuffer(string: #"{"i": \#(i)}"#))
                        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(120))
                        let body = try await response.body.collect(upTo: 1 << 20)
                        guard case .integer(let v)? = try JSON(parsing: Array(body.readableBytesView))["version"] else { return -1 }
                        return v
                    }
                }
                return try await group.reduce(into: [Int64]()) { $0.append($1) }
            }
            #expect(versions.sorted() == Array(1...64))
        }
    }
}
