@testable import FlintClient
import FlintTestSupport
import Foundation
import Testing

extension ClientIntegrationTests {
    /// A property: several apps, each behind its own proxy, make random writes while their connections are cut and
    /// restored at random. Once every connection is back, every app's cache equals the server's documents, and no
    /// write is lost or applied twice: each app counts its own increments, and the server's counts match exactly.
    @Suite struct ConvergenceTests {
        static let apps = 3
        static let steps = 80
        static let counters = ["c0", "c1", "c2"]
        static let scratch = ["s0", "s1", "s2", "s3"]

        /// One app's part: its proxy, and the increments it queued per counter document.
        final class Client: Sendable {
            let app: FlintApp
            let proxy: TCPProxy
            let listener: Collector<QuerySnapshot>
            init(app: FlintApp, proxy: TCPProxy) {
                self.app = app
                self.proxy = proxy
                listener = Collector(app.collection("conv").snapshots(includeMetadataChanges: true))
            }
        }

        @Test(arguments: [UInt64(7), 20_261_126])
        func randomWritesWithRandomDisconnectsConverge(seed: UInt64) async throws {
            try await ClientHarness.run { harness in
                let port = try #require(harness.http.port)
                var clients: [Client] = []
                for index in 0..<Self.apps {
                    let proxy = try TCPProxy(targetPort: port)
                    let app = try FlintApp(url: "http://127.0.0.1:\(proxy.port)", cacheDirectory: harness.directory.path + "/app-\(index)", settings: testSettings)
                    clients.append(Client(app: app, proxy: proxy))
                }
                defer { for client in clients { client.proxy.close() } }
                for client in clients { try await client.listener.next("the first server snapshot", where: { !$0.metadata.isFromCache }) }

                var rng = SplitMix64(seed: seed)
                // increments[app][counter]: what each app queued; the server must end with exactly these.
                var increments = Array(repeating: Array(repeating: 0, count: Self.counters.count), count: Self.apps)
                var online = Array(repeating: true, count: Self.apps)
                for step in 0..<Self.steps {
                    let index = Int(rng.next() % UInt64(Self.apps))
                    let client = clients[index]
                    switch rng.next() % 10 {
                    case 0, 1:
                        // Flip this app's connection.
                        if online[index] { client.proxy.cut() } else { client.proxy.restore() }
                        online[index].toggle()
                    case 2, 3, 4, 5:
                        let counter = Int(rng.next() % UInt64(Self.counters.count))
                        try await client.app.batch()
                            .setData(["app\(index)": .increment(1), "last": .value(.string("\(index):\(step)"))], forDocument: client.app.document("conv/\(Self.counters[counter])"), merge: true)
                            .commit(waitForServer: false)
                        increments[index][counter] += 1
                    case 6, 7:
                        let document = client.app.document("conv/\(Self.scratch[Int(rng.next() % UInt64(Self.scratch.count))])")
                        try await client.app.batch().setData(["by": .value(.string("app\(index)")), "step": .value(.integer(Int64(step)))], forDocument: document).commit(waitForServer: false)
                    case 8:
                        let document = client.app.document("conv/\(Self.scratch[Int(rng.next() % UInt64(Self.scratch.count))])")
                        try await client.app.batch().deleteDocument(document).commit(waitForServer: false)
                    default:
                        // A pause of 0–19 ms (from the seed) lets some queued writes go out between steps, so that online and
                        // offline writes interleave. It only varies the interleaving: the property must hold for any pause.
                        try await Task.sleep(for: .milliseconds(Int(rng.next() % 20)))
                    }
                }
                for (index, client) in clients.enumerated() where !online[index] { client.proxy.restore() }
                for client in clients { await client.app.waitForPendingWrites() }

                // The server: every queued increment applied exactly once.
                for (counter, name) in Self.counters.enumerated() {
                    let data = try await harness.serverData("conv/\(name)")
                    for app in 0..<Self.apps {
                        let expected = increments[app][counter]
                        let actual: Int64 = if case .integer(let n)? = data?["app\(app)"] { n } else { 0 }
                        #expect(actual == Int64(expected), "conv/\(name).app\(app): the server has \(actual), app \(app) queued \(expected) (seed \(seed))")
                    }
                }
                // Every cache: the server's documents, once each listener has caught up.
                let server = try await harness.http.send(.post, "/v1/query", body: #"{"collection": "conv"}"#).json
                guard case .array(let documents)? = server["documents"] else { throw TestFailure("no documents in \(server)") }
                let serverDocuments: [String: JSON] = Dictionary(uniqueKeysWithValues: documents.compactMap { document in
                    guard case .string(let id)? = document["id"] else { return nil }
                    return (id, document["data"] ?? .null)
                })
                for (index, client) in clients.enumerated() {
                    try await client.listener.next("app \(index) in step with the server", where: { snapshot in
                        !snapshot.metadata.isFromCache && !snapshot.metadata.hasPendingWrites
                            && Dictionary(uniqueKeysWithValues: snapshot.documents.map { ($0.documentID, Self.json($0.data() ?? [:])) }) == serverDocuments
                    })
                    let cached = try await client.app.collection("conv").getDocuments(source: .cache)
                    let cache = Dictionary(uniqueKeysWithValues: cached.documents.map { ($0.documentID, Self.json($0.data() ?? [:])) })
                    #expect(cache == serverDocuments, "app \(index)'s cache differs from the server (seed \(seed))")
                    client.listener.cancel()
                    await client.app.close()
                }
            }
        }

        /// Fields in the tagged JSON form the REST API answers with.
        static func json(_ fields: [String: Value]) -> JSON { Value.map(fields).json }
    }
}
