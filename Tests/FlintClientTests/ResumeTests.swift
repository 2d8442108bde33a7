@testable import FlintClient
import FlintTestSupport
import Foundation
import Testing

extension ClientIntegrationTests {
    /// Listeners resume with their resume tokens: after a reconnect and after a restart of the app, the server replays
    /// what was missed instead of sending a fresh snapshot.
    @Suite struct ResumeTests {
        @Test func aReconnectedListenerGetsOnlyWhatItMissed() async throws {
            try await ClientHarness.run { harness in
                try await harness.http.send(.put, "/v1/documents/items/a", body: #"{"n": 1}"#)
                try await withApp(try harness.makeApp()) { app in
                    let snapshots = Collector(app.collection("items").snapshots(includeMetadataChanges: true))
                    try await snapshots.next("the first snapshot", where: { !$0.metadata.isFromCache && $0.count == 1 })
                    harness.proxy.cut()
                    try await snapshots.next("offline", where: { $0.metadata.isFromCache })
                    // Changes made elsewhere while this app is offline.
                    try await harness.http.send(.put, "/v1/documents/items/b", body: #"{"n": 2}"#)
                    try await harness.http.send(.delete, "/v1/documents/items/a")
                    harness.proxy.restore()
                    let caughtUp = try await snapshots.next("caught up", where: { !$0.metadata.isFromCache })
                    #expect(caughtUp.documents.map(\.documentID) == ["b"])
                    let statistics = await app.engine.statistics
                    #expect(statistics.connections >= 2)
                    #expect(statistics.snapshots == 1, "the reconnect was answered with a fresh snapshot, not a replay")
                    #expect(statistics.replays == 2)
                    snapshots.cancel()
                }
            }
        }

        @Test func aStoredTargetWhoseDocumentBecameUnknownStartsAfresh() async throws {
            try await ClientHarness.run { harness in
                try await harness.http.send(.put, "/v1/documents/items/a", body: #"{"n": 1}"#)
                try await harness.http.send(.put, "/v1/documents/items/b", body: #"{"n": 2}"#)
                try await withApp(try harness.makeApp()) { app in
                    let all = app.collection("items").order(by: "n")
                    var listener = Collector(all.snapshots())
                    try await listener.next("everything", where: { !$0.metadata.isFromCache && $0.count == 2 })
                    listener.cancel()
                    try await eventually("the listener ended", until: { await app.engine.targets.isEmpty })

                    // A window of one: a new first document pushes `a` out, unchanged, so the cache no longer knows it.
                    let first = Collector(app.collection("items").order(by: "n").limit(to: 1).snapshots(includeMetadataChanges: true))
                    try await first.next("the window", where: { !$0.metadata.isFromCache && $0.documents.first?.documentID == "a" })
                    try await harness.http.send(.put, "/v1/documents/items/c", body: #"{"n": 0}"#)
                    try await first.next("the new first", where: { $0.documents.first?.documentID == "c" })
                    first.cancel()
                    try await eventually("the window ended", until: { await app.engine.targets.isEmpty })
                    // The cache no longer answers for `a`, until the server is asked again.
                    await #expect(throws: FlintError.self) { try await app.document("items/a").getDocument(source: .cache) }
                    _ = try await app.document("items/a").getDocument()
                    #expect(try await app.document("items/a").getDocument(source: .cache)["n"] == 1)

                    // The first target's stored membership held `a`: resuming it would leave `a` out.
                    listener = Collector(all.snapshots(includeMetadataChanges: true))
                    let again = try await listener.next("everything again", where: { !$0.metadata.isFromCache })
                    #expect(again.documents.map(\.documentID) == ["c", "a", "b"])
                    listener.cancel()
                }
            }
        }

        @Test func aRestartedAppResumesFromItsStoredToken() async throws {
            try await ClientHarness.run { harness in
                let cache = harness.directory.path + "/resuming"
                try await harness.http.send(.put, "/v1/documents/rooms/r1", body: #"{"name": "Lobby"}"#)
                try await withApp(try harness.makeApp(cache: cache)) { app in
                    let snapshots = Collector(app.document("rooms/r1").snapshots())
                    try await snapshots.next("the first snapshot", where: { $0.exists && !$0.metadata.isFromCache })
                    snapshots.cancel()
                }
                try await harness.http.send(.patch, "/v1/documents/rooms/r1", body: #"{"name": "Den"}"#)
                try await withApp(try harness.makeApp(cache: cache)) { app in
                    let snapshots = Collector(app.document("rooms/r1").snapshots(includeMetadataChanges: true))
                    let cached = try await snapshots.next("the cache's snapshot")
                    #expect(cached.metadata.isFromCache)
                    #expect(cached["name"] == "Lobby")
                    try await snapshots.next("the missed change", where: { $0["name"] == "Den" && !$0.metadata.isFromCache })
                    let statistics = await app.engine.statistics
                    #expect(statistics.snapshots == 0)
                    #expect(statistics.replays == 1)
                    snapshots.cancel()
                }
            }
        }
    }
}
