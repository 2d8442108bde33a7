import FlintCore
@testable import FlintServer
import FlintTestSupport
import Foundation
import Hummingbird
import Testing

/// `/v1/realtime` over a real WebSocket on loopback.
@Suite struct RealtimeTests {
    /// The `type` of each change of the first target of a `changes` message, with the document id.
    func summary(_ message: JSON?) -> [String] {
        guard let changes = message?.member("targets")?[0]?.member("changes"), let count = changes.arrayCount else { return [] }
        return (0..<count).map { i in
            let change = changes[i]!
            guard case .string(let type)? = change.member("type") else { return "?" }
            if case .string(let path)? = change.member("path") { return "\(type) \(path.split(separator: "/").last!)" }
            if case .string(let id)? = change.member("document")?.member("id") { return "\(type) \(id)" }
            return type
        }
    }

    func ids(_ snapshot: JSON?) -> [String] {
        guard let documents = snapshot?.member("documents"), let count = documents.arrayCount else { return [] }
        return (0..<count).compactMap { if case .string(let id)? = documents[$0]?.member("id") { id } else { nil } }
    }

    func sequence(_ message: JSON?) -> Int64? {
        if case .integer(let s)? = message?.member("sequence") { s } else { nil }
    }

    @Test(arguments: StoreKind.available)
    func aQueryListenerGetsASnapshotThenEveryChange(store: StoreKind) async throws {
        try await TestServer.run(store: store) { http in
            try await http.send(.put, "/v1/documents/rooms/r1/messages/m1", body: #"{"author": "alice", "n": 1}"#)
            try await http.send(.put, "/v1/documents/rooms/r1/messages/m2", body: #"{"author": "bob", "n": 2}"#)
            let client = RealtimeTestClient(port: try #require(http.port))
            defer { client.close() }
            let hello = await client.next()
            #expect(hello?.member("type") == .string("hello"))
            #expect(hello?.member("protocol") == .integer(1))
            client.send(#"{"type": "listen", "targetId": 1, "query": {"collection": "rooms/r1/messages", "where": {"field": "author", "op": "==", "value": "alice"}}}"#)
            let snapshot = await client.next(ofType: "snapshot")
            #expect(ids(snapshot) == ["m1"])
            #expect(snapshot?.member("current") == .bool(true))

            try await http.send(.put, "/v1/documents/rooms/r1/messages/m3", body: #"{"author": "alice", "n": 3}"#)
            #expect(summary(await client.next(ofType: "changes")) == ["added m3"])
            try await http.send(.patch, "/v1/documents/rooms/r1/messages/m1", body: #"{"n": 10}"#)
            #expect(summary(await client.next(ofType: "changes")) == ["modified m1"])
            // A document that stops matching leaves the results.
            try await http.send(.patch, "/v1/documents/rooms/r1/messages/m3", body: #"{"author": "carol"}"#)
            #expect(summary(await client.next(ofType: "changes")) == ["removed m3"])
            // Bob's message concerns no target of this client: nothing is sent for it.
            try await http.send(.patch, "/v1/documents/rooms/r1/messages/m2", body: #"{"n": 20}"#)
            try await http.send(.delete, "/v1/documents/rooms/r1/messages/m1")
            let last = await client.next(ofType: "changes")
            #expect(summary(last) == ["removed m1"])
            #expect(sequence(last) == 7)
        }
    }

    @Test(arguments: StoreKind.available)
    func aDocumentListenerFollowsOneDocument(store: StoreKind) async throws {
        try await TestServer.run(store: store) { http in
            let client = RealtimeTestClient(port: try #require(http.port))
            defer { client.close() }
            client.send(#"{"type": "listen", "targetId": 5, "document": "rooms/r1"}"#)
            let snapshot = await client.next(ofType: "snapshot")
            #expect(ids(snapshot) == [])
            #expect(snapshot?.member("targetId") == .integer(5))
            try await http.send(.put, "/v1/documents/rooms/r2", body: "{}")
            try await http.send(.put, "/v1/documents/rooms/r1", body: #"{"a": 1}"#)
            let added = await client.next(ofType: "changes")
            #expect(summary(added) == ["added r1"])
            #expect(sequence(added) == 2)
            try await http.send(.delete, "/v1/documents/rooms/r1")
            #expect(summary(await client.next(ofType: "changes")) == ["removed r1"])
        }
    }

    @Test(arguments: StoreKind.available)
    func aLimitedQueryKeepsItsWindow(store: StoreKind) async throws {
        try await TestServer.run(store: store) { http in
            for n in [1, 2, 3] { try await http.send(.put, "/v1/documents/c/d\(n)", body: #"{"n": \#(n)}"#) }
            let client = RealtimeTestClient(port: try #require(http.port))
            defer { client.close() }
            client.send(#"{"type": "listen", "targetId": 1, "query": {"collection": "c", "orderBy": [{"field": "n"}], "limit": 2}}"#)
            #expect(ids(await client.next(ofType: "snapshot")) == ["d1", "d2"])
            // A document that sorts first pushes the last one out.
            try await http.send(.put, "/v1/documents/c/d0", body: #"{"n": 0}"#)
            #expect(summary(await client.next(ofType: "changes")) == ["removed d2", "added d0"])
            // One that sorts after the window is not part of it.
            try await http.send(.put, "/v1/documents/c/d9", body: #"{"n": 9}"#)
            // When a member leaves, the next one enters.
            try await http.send(.delete, "/v1/documents/c/d0")
            #expect(summary(await client.next(ofType: "changes")) == ["removed d0", "added d2"])
        }
    }

    @Test(arguments: StoreKind.available)
    func aCommitArrivesAsOneMessage(store: StoreKind) async throws {
        try await TestServer.run(store: store) { http in
            let client = RealtimeTestClient(port: try #require(http.port))
            defer { client.close() }
            client.send(#"{"type": "listen", "targetId": 1, "query": {"collection": "c"}}"#)
            client.send(#"{"type": "listen", "targetId": 2, "document": "c/b"}"#)
            _ = await client.next(ofType: "snapshot")
            _ = await client.next(ofType: "snapshot")
            try await http.send(.post, "/v1/commit", body: #"{"writes": [{"op": "set", "path": "c/a", "data": {}}, {"op": "set", "path": "c/b", "data": {}}, {"op": "set", "path": "c/c", "data": {}}]}"#)
            let message = await client.next(ofType: "changes")
            #expect(summary(message) == ["added a", "added b", "added c"])
            #expect(message?.member("targets")?.arrayCount == 2)
            #expect(message?.member("targets")?[1]?.member("targetId") == .integer(2))
        }
    }

    @Test(arguments: StoreKind.available)
    func twoClientsSeeTheSameCommitsInTheSameOrder(store: StoreKind) async throws {
        try await TestServer.run(store: store) { http in
            let port = try #require(http.port)
            let clients = [RealtimeTestClient(port: port), RealtimeTestClient(port: port)]
            defer { clients.forEach { $0.close() } }
            for client in clients {
                client.send(#"{"type": "listen", "targetId": 1, "query": {"collection": "c"}}"#)
                _ = await client.next(ofType: "snapshot")
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<20 {
                    group.addTask { try await http.send(.put, "/v1/documents/c/d\(i % 5)", body: #"{"i": \#(i)}"#) }
                }
                try await group.waitForAll()
            }
            var seen: [[Int64]] = []
            for client in clients {
                var sequences: [Int64] = []
                while sequences.count < 20, let message = await client.next(ofType: "changes") {
                    sequences.append(sequence(message) ?? -1)
                }
                seen.append(sequences)
            }
            #expect(seen[0] == Array(1...20))
            #expect(seen[0] == seen[1])
        }
    }

    @Test(arguments: StoreKind.available)
    func resumingReplaysExactlyTheMissedChanges(store: StoreKind) async throws {
        try await TestServer.run(store: store) { http in
            let port = try #require(http.port)
            try await http.send(.put, "/v1/documents/c/keep", body: #"{"v": 1}"#)
            try await http.send(.put, "/v1/documents/c/gone", body: #"{"v": 1}"#)
            let first = RealtimeTestClient(port: port)
            first.send(#"{"type": "listen", "targetId": 1, "query": {"collection": "c"}}"#)
            let token = try #require(sequence(await first.next(ofType: "snapshot")))
            first.close()

            try await http.send(.patch, "/v1/documents/c/keep", body: #"{"v": 2}"#)
            try await http.send(.delete, "/v1/documents/c/gone")
            try await http.send(.put, "/v1/documents/c/new", body: #"{"v": 1}"#)
            try await http.send(.put, "/v1/documents/other/x", body: #"{"v": 1}"#)

            let second = RealtimeTestClient(port: port)
            defer { second.close() }
            second.send(#"{"type": "listen", "targetId": 1, "query": {"collection": "c"}, "resumeToken": \#(token)}"#)
            var replayed: [String] = []
            var sequences: [Int64] = []
            while let message = await second.next(ofType: "changes", "current", "snapshot") {
                if message.member("type") == .string("current") { break }
                #expect(message.member("type") == .string("changes"), "a replay, not a fresh snapshot")
                #expect(message.member("replay") == .bool(true))
                replayed += summary(message)
                sequences.append(sequence(message) ?? -1)
            }
            #expect(replayed == ["modified keep", "removed gone", "added new"])
            #expect(sequences == [token + 1, token + 2, token + 3])
            // Live changes follow the replay.
            try await http.send(.put, "/v1/documents/c/later", body: "{}")
            #expect(summary(await second.next(ofType: "changes")) == ["added later"])
        }
    }

    @Test(arguments: StoreKind.available)
    func aTokenTheLogCannotServeGetsAFreshSnapshotFlaggedAsReset(store: StoreKind) async throws {
        try await TestServer.run(store: store) { http in
            try await http.send(.put, "/v1/documents/c/a", body: "{}")
            let client = RealtimeTestClient(port: try #require(http.port))
            defer { client.close() }
            client.send(#"{"type": "listen", "targetId": 1, "query": {"collection": "c"}, "resumeToken": 999}"#)
            let snapshot = await client.next(ofType: "snapshot", "changes")
            #expect(snapshot?.member("type") == .string("snapshot"))
            #expect(snapshot?.member("reset") == .bool(true))
            #expect(ids(snapshot) == ["a"])
        }
    }

    @Test(arguments: StoreKind.available)
    func theChangeLogForgetsOldCommitsButKeepsTheLatest(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            for i in 0..<3 {
                _ = try await store.commit(try Commit(writes: [Write(path: try DocumentPath("c/d\(i)"), operation: .set(data: [:], merge: false))]))
            }
            let target = ListenTarget.query(Query(collection: try CollectionPath("c")))
            #expect(try await store.read(target, resumingAfter: 1).missed?.map(\.sequence) == [2, 3])
            try await store.compactChangeLog(before: Timestamp(microseconds: Timestamp.now().microseconds + 1_000_000))
            #expect(try await store.read(target, resumingAfter: 1).missed == nil)
            #expect(try await store.read(target, resumingAfter: 3).missed == [])
            #expect(try await store.latestSequence() == 3)
            _ = try await store.commit(try Commit(writes: [Write(path: try DocumentPath("c/e"), operation: .delete)]))
            #expect(try await store.latestSequence() == 4)
        }
    }

    @Test(arguments: StoreKind.available)
    func writesOverTheSocketAreAcknowledged(store: StoreKind) async throws {
        try await TestServer.run(store: store) { http in
            let client = RealtimeTestClient(port: try #require(http.port))
            defer { client.close() }
            client.send(#"{"type": "commit", "id": "c1", "writes": [{"op": "set", "path": "c/a", "data": {"x": 1}}]}"#)
            let ack = await client.next(ofType: "committed", "error")
            #expect(ack?.member("type") == .string("committed"))
            #expect(ack?.member("id") == .string("c1"))
            #expect(ack?.member("version") == .integer(1))
            client.send(#"{"type": "commit", "id": "c2", "writes": [{"op": "delete", "path": "c/zz", "precondition": {"exists": true}}]}"#)
            let refusal = await client.next(ofType: "committed", "error")
            #expect(refusal?.member("code") == .string("not-found"))
            #expect(refusal?.member("id") == .string("c2"))
            #expect(try await http.send(.get, "/v1/documents/c/a").status == .ok)
        }
    }

    @Test(arguments: [
        (#"{"type": "nope"}"#, "message.type"),
        (#"{"type": "listen", "targetId": 1}"#, "exactly one"),
        (#"{"type": "listen", "targetId": 0, "document": "a/b"}"#, "positive integer"),
        (#"{"type": "listen", "targetId": 1, "document": "a"}"#, "even number"),
        (#"{"type": "listen", "targetId": 1, "query": {"collection": "a", "limit": "x"}}"#, "limit"),
        (#"{"type": "unlisten", "targetId": 42}"#, "no target 42"),
        (#"{"type": "commit", "id": "x", "writes": []}"#, "at least one write"),
        (#"[1, 2]"#, "JSON object"),
    ])
    func aBadMessageGetsAnErrorAndTheConnectionSurvives(message: String, mentions: String) async throws {
        try await TestServer.run { http in
            let client = RealtimeTestClient(port: try #require(http.port))
            defer { client.close() }
            client.send(message)
            let error = await client.next(ofType: "error")
            guard case .string(let text)? = error?.member("message") else {
                Issue.record("no error message for \(message)")
                return
            }
            #expect(text.contains(mentions), "\(text)")
            client.send(#"{"type": "ping", "id": "p"}"#)
            #expect(await client.next(ofType: "pong")?.member("id") == .string("p"))
        }
    }

    @Test func aFrameThatIsNotJSONClosesTheConnection() async throws {
        try await TestServer.run { http in
            let client = RealtimeTestClient(port: try #require(http.port))
            client.send("this is not json")
            #expect(await client.closeCode() == 1007)
        }
    }

    @Test func tooManyTargetsAreRefused() async throws {
        try await TestServer.run(configure: { $0.realtimeMaximumTargets = 2 }) { http in
            let client = RealtimeTestClient(port: try #require(http.port))
            defer { client.close() }
            for id in 1...3 { client.send(#"{"type": "listen", "targetId": \#(id), "document": "c/d\#(id)"}"#) }
            let refusal = await client.next(ofType: "error")
            #expect(refusal?.member("code") == .string("resource-exhausted"))
            #expect(refusal?.member("targetId") == .integer(3))
        }
    }

    @Test func aClientAuthenticatesOnTheSocketAndReauthenticatesWithoutLosingTargets() async throws {
        try await TestServer.run { http in
            let session = try await http.send(.post, "/v1/auth/anonymous").json
            guard case .string(let token)? = session["access_token"], case .string(let uid)? = session["user"]?["uid"] else {
                Issue.record("no session")
                return
            }
            let client = RealtimeTestClient(port: try #require(http.port))
            defer { client.close() }
            client.send(#"{"type": "listen", "targetId": 1, "document": "c/d"}"#)
            _ = await client.next(ofType: "snapshot")
            client.send(#"{"type": "auth", "token": "\#(token)"}"#)
            let authenticated = await client.next(ofType: "authenticated", "error")
            #expect(authenticated?.member("type") == .string("authenticated"))
            #expect(authenticated?.member("uid") == .string(uid))
            client.send(#"{"type": "auth", "token": "not-a-token"}"#)
            #expect(await client.next(ofType: "authenticated", "error")?.member("code") == .string("unauthenticated"))
            // A refreshed token replaces the identity; the target keeps listening.
            client.send(#"{"type": "auth", "token": "\#(token)"}"#)
            #expect(await client.next(ofType: "authenticated", "error")?.member("type") == .string("authenticated"))
            try await http.send(.put, "/v1/documents/c/d", body: "{}")
            #expect(summary(await client.next(ofType: "changes")) == ["added d"])
        }
    }

    @Test func sigtermClosesSocketsWithGoingAway() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let server = try await ServerProcess(dataDirectory: directory.path)
        let client = RealtimeTestClient(port: server.port)
        client.send(#"{"type": "listen", "targetId": 1, "document": "c/d"}"#)
        #expect(await client.next(ofType: "snapshot") != nil)
        let status = try await server.stop(signal: SIGTERM)
        #expect(await client.closeCode() == 1001)
        #expect(status == 0)
    }
}
