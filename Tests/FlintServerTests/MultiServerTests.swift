import FlintCore
@testable import FlintServer
import FlintTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
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

    @Test func aLimitedWindowCaughtUpPageByPageIsNeverAheadOfItsCommitAndExactAtTheEnd() async throws {
        try await TestPostgres.withDatabase { url in
            // B reads the log three commits at a time; another server (a store of its own on the database) commits ten
            // in one transaction, so B catches up over four pages of one snapshot.
            try await TestServer.run(configure: { $0.databaseURL = url; $0.changeLogPageSize = 3 }) { b in
                let seed = (1...20).map { #"{"op": "set", "path": "w/d\#(String(format: "%02d", $0))", "data": {"n": \#($0)}}"# }
                let seeded = try await b.send(.post, "/v1/commit", body: #"{"writes": [\#(seed.joined(separator: ","))]}"#)
                guard case .integer(let seedVersion)? = try seeded.json["version"] else {
                    Issue.record("the seed was not committed: \(seeded.text)")
                    return
                }
                var documents = Dictionary(uniqueKeysWithValues: (1...20).map { (String(format: "d%02d", $0), (n: Double($0), version: seedVersion)) })

                let listener = RealtimeTestClient(port: try #require(b.port))
                defer { listener.close() }
                listener.send(#"{"type": "listen", "targetId": 1, "query": {"collection": "w", "orderBy": [{"field": "n"}], "limit": 2}}"#)
                #expect(await listener.next(ofType: "snapshot")?.member("documents")?.arrayCount == 2)

                // Commits 1–9 delete the smallest documents one by one (the window loses its members in the first page);
                // commit 10 adds one that sorts before all that remain.
                var commits = try (1...9).map { i in try Commit(json: JSON(parsing: #"{"writes": [{"op": "delete", "path": "w/d0\#(i)"}]}"#)) }
                commits.append(try Commit(json: JSON(parsing: #"{"writes": [{"op": "set", "path": "w/late", "data": {"n": 9.5}}]}"#)))
                let database = try await PostgresDatabase.connect(url, logger: Logger(label: "test"))
                defer { database.close() }
                let a = try await PostgresDocumentStore(database: database, logger: Logger(label: "test"))
                let group = commits.map { GroupCommitQueue.Pending(commit: $0, outcome: .init()) }
                await a.write(group)
                var versions: [Int64] = []
                for pending in group { versions.append(try await pending.outcome.value.version) }
                #expect(versions == Array((seedVersion + 1)...(seedVersion + 10)))

                // The window the query returns after each commit: the two smallest n, with their versions.
                var expected: [Int64: [String: Int64]] = [:]
                for (i, version) in versions.enumerated() {
                    if i < 9 { documents["d0\(i + 1)"] = nil } else { documents["late"] = (9.5, version) }
                    let window = documents.sorted { ($0.value.n, $0.key) < ($1.value.n, $1.key) }.prefix(2)
                    expected[version] = Dictionary(uniqueKeysWithValues: window.map { ($0.key, $0.value.version) })
                }

                // What the client holds after each message: never a document the query does not return at that
                // message's commit (nor another version of one), and exactly the window once the last commit is in.
                var held = ["d01": seedVersion, "d02": seedVersion]
                var sequence = seedVersion
                while sequence < versions.last!, let message = await listener.next(ofType: "changes") {
                    guard case .integer(let s)? = message.member("sequence") else {
                        Issue.record("a changes message without a sequence: \(message)")
                        break
                    }
                    #expect(s > sequence)
                    sequence = s
                    let changes = message.member("targets")?[0]?.member("changes")
                    for index in 0..<(changes?.arrayCount ?? 0) {
                        let change = changes?[index]
                        if case .string("removed")? = change?.member("type"), case .string(let path)? = change?.member("path") {
                            held[String(path.dropFirst(2))] = nil
                        } else if case .string(let id)? = change?.member("document")?.member("id"),
                            case .integer(let version)? = change?.member("document")?.member("version")
                        {
                            held[id] = version
                        }
                    }
                    let window = try #require(expected[s])
                    #expect(held.allSatisfy { window[$0.key] == $0.value }, "after commit \(s) the client holds \(held), the query returns \(window)")
                }
                #expect(sequence == versions.last!)
                #expect(held == expected[versions.last!])
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
