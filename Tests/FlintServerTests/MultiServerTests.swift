import FlintCore
import FlintServer
import FlintTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// Several servers on one PostgreSQL database: every commit, from any server, reaches every listener on every server
/// once, in commit order; a server killed with kill -9 loses no acknowledged write.
// Skipped without a PostgreSQL server or its binaries (see TestPostgres.unavailableReason).
@Suite(.enabled(if: TestPostgres.isAvailable, Comment(rawValue: TestPostgres.unavailableReason)))
struct MultiServerTests {
    static let commitsPerWriter = 15

    /// The sequence of each `changes` message until `count` documents changed, with the ids they carried.
    func collect(_ client: RealtimeTestClient, documents count: Int) async -> (sequences: [Int64], ids: [String]) {
        var sequences: [Int64] = []
        var ids: [String] = []
        while ids.count < count, let message = await client.next(ofType: "changes") {
            guard case .integer(let sequence)? = message.member("sequence") else { continue }
            sequences.append(sequence)
            let changes = message.member("targets")?[0]?.member("changes")
            for index in 0..<(changes?.arrayCount ?? 0) {
                if case .string(let id)? = changes?[index]?.member("document")?.member("id") { ids.append(id) }
            }
        }
        return (sequences, ids)
    }

    @Test func listenersOnTwoServersSeeEveryCommitOnceInTheSameOrder() async throws {
        try await TestPostgres.withDatabase { url in
            try await TestServer.run(configure: { $0.databaseURL = url }) { a in
                try await TestServer.run(configure: { $0.databaseURL = url }) { b in
                    let servers = [a, b]
                    // Ready means the PostgreSQL server answers.
                    #expect(try await a.send(.get, "/ready").json == .object(["status": .string("ready")]))
                    let listeners = [RealtimeTestClient(port: try #require(a.port)), RealtimeTestClient(port: try #require(b.port))]
                    defer { listeners.forEach { $0.close() } }
                    for listener in listeners {
                        listener.send(#"{"type": "listen", "targetId": 1, "query": {"collection": "c"}}"#)
                        _ = await listener.next(ofType: "snapshot")
                    }
                    // Two writers on each server, each commit one new document.
                    let versions = try await withThrowingTaskGroup(of: [Int64].self) { group in
                        for (s, server) in servers.enumerated() {
                            for writer in 0..<2 {
                                group.addTask {
                                    var versions: [Int64] = []
                                    for i in 0..<Self.commitsPerWriter {
                                        let reply = try await server.send(
                                            .post, "/v1/commit",
                                            body: #"{"writes": [{"op": "set", "path": "c/s\#(s)-w\#(writer)-\#(i)", "data": {"i": \#(i)}}]}"#)
                                        #expect(reply.status == .ok)
                                        if case .integer(let version)? = try reply.json["version"] { versions.append(version) }
                                    }
                                    return versions
                                }
                            }
                        }
                        return try await group.reduce(into: []) { $0 += $1 }
                    }
                    let total = 4 * Self.commitsPerWriter
                    #expect(versions.count == total)
                    let seenOnA = await collect(listeners[0], documents: total)
                    let seenOnB = await collect(listeners[1], documents: total)
                    // Every commit once, one message each, in sequence order, and the same on both servers.
                    #expect(seenOnA.sequences == versions.sorted())
                    #expect(seenOnB.sequences == seenOnA.sequences)
                    #expect(Set(seenOnA.ids).count == total && seenOnB.ids == seenOnA.ids)
                }
            }
        }
    }

    @Test func aServerKilledMidWayLosesNoAcknowledgedWrite() async throws {
        try await TestPostgres.withDatabase { url in
            let directories = [try TemporaryDirectory(), try TemporaryDirectory()]
            defer { directories.forEach { $0.remove() } }
            let arguments = ["--database-url", "\(url.description)"]
            let doomed = try await ServerProcess(dataDirectory: directories[0].path, arguments: arguments)
            let survivor = try await ServerProcess(dataDirectory: directories[1].path, arguments: arguments)
            let listener = RealtimeTestClient(port: survivor.port)
            defer { listener.close() }
            listener.send(#"{"type": "listen", "targetId": 1, "query": {"collection": "durable"}}"#)
            _ = await listener.next(ofType: "snapshot")

            let acknowledged = Acknowledged()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<4 {
                    let port = writer % 2 == 0 ? doomed.port : survivor.port
                    group.addTask {
                        let client = TestClient(host: "127.0.0.1", port: port)
                        client.connect()
                        let http = HTTPTestClient(client: client, port: port)
                        defer { Task { try? await client.shutdown() } }
                        for i in 0..<400 {
                            let path = "durable/w\(writer)-\(i)"
                            guard let reply = try? await http.send(.put, "/v1/documents/\(path)", body: #"{"i": \#(i)}"#), reply.status == .ok
                            else { return }
                            await acknowledged.add(path)
                        }
                    }
                }
                group.addTask {
                    // Kill one server once a good number of writes are acknowledged and more are in flight.
                    try await eventually("100 writes are acknowledged") { await acknowledged.count >= 100 }
                    try await doomed.stop(signal: SIGKILL)
                }
                try await group.waitForAll()
            }
            let written = await acknowledged.paths
            #expect(written.count >= 100)
            for path in written {
                let reply = try await survivor.http.send(.get, "/v1/documents/\(path)")
                #expect(reply.status == .ok, "acknowledged \(path) was lost")
            }
            // The survivor's listener heard of every acknowledged write, the dead server's included.
            let expected = Set(written.map { String($0.split(separator: "/").last!) })
            var heard = Set<String>()
            while !heard.isSuperset(of: expected) {
                let more = await collect(listener, documents: 1)
                if more.ids.isEmpty { break }
                heard.formUnion(more.ids)
            }
            #expect(heard.isSuperset(of: expected))
            try await survivor.stop(signal: SIGKILL)
        }
    }
}
