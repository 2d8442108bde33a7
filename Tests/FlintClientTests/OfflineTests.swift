@testable import FlintClient
import FlintTestSupport
import Foundation
import Testing

extension ClientIntegrationTests {
    /// Offline: writes applied locally at once, sent in order and exactly once when the connection is back, surviving a
    /// restart of the app; refused writes rolled back.
    @Suite struct OfflineTests {
        @Test func offlineWritesShowAtOnceAndAreDeliveredExactlyOnceWhenTheConnectionIsBack() async throws {
            try await ClientHarness.run { harness in
                try await withApp(try harness.makeApp()) { app in
                    let query = app.collection("items").order(by: "n")
                    let snapshots = Collector(query.snapshots(includeMetadataChanges: true))
                    try await snapshots.next("the server's first snapshot", where: { !$0.metadata.isFromCache })

                    harness.proxy.cut()
                    try await snapshots.next("offline", where: { $0.metadata.isFromCache })
                    let batch = app.batch()
                    batch.setData(["n": 1], forDocument: app.document("items/a"))
                    try await batch.commit(waitForServer: false)
                    let second = app.batch()
                    second.setData(["n": 2], forDocument: app.document("items/b"))
                    second.updateData(["hits": .increment(1)], forDocument: app.document("items/a"))
                    try await second.commit(waitForServer: false)

                    let local = try await snapshots.next("the local writes", where: { $0.count == 2 && $0.documents[0]["hits"] == 1 })
                    #expect(local.metadata.isFromCache)
                    #expect(local.metadata.hasPendingWrites)
                    // A query over the cache sees them too.
                    let cached = try await app.collection("items").whereField("n", isGreaterThan: 1).getDocuments()
                    #expect(cached.documents.map(\.documentID) == ["b"])
                    #expect(cached.metadata.isFromCache)
                    #expect(try await harness.serverData("items/a") == nil)

                    harness.proxy.restore()
                    let synced = try await snapshots.next("the server's state", where: { !$0.metadata.isFromCache && !$0.metadata.hasPendingWrites })
                    #expect(synced.documents.map(\.documentID) == ["a", "b"])
                    #expect(try await harness.serverData("items/a") == .object(["n": .integer(1), "hits": .integer(1)]))
                    #expect(try await harness.serverData("items/b") == .object(["n": .integer(2)]))
                    snapshots.cancel()
                }
            }
        }

        @Test func aConnectionClosedBeforeTheHandshakeIsAnsweredIsGivenUpAndTriedAgain() async throws {
            try await ClientHarness.run { harness in
                // The first connections are read and then closed from the far side without an answer.
                harness.proxy.halfCloseNewConnections()
                var settings = testSettings
                settings.handshakeTimeout = .milliseconds(500)
                try await withApp(try harness.makeApp(settings: settings)) { app in
                    try await app.batch().setData(["n": 1], forDocument: app.document("notes/1")).commit(waitForServer: false)
                    try await eventually("a connection was closed mid-handshake", until: { harness.proxy.refusedConnections >= 1 })
                    harness.proxy.restore()
                    try await eventually("the write reaches the server", until: { try await harness.serverData("notes/1") != nil })
                    #expect(harness.proxy.acceptedConnections >= 1)
                }
            }
        }

        @Test func aWriteWhoseAnswerWasLostIsAppliedOnce() async throws {
            try await ClientHarness.run { harness in
                try await withApp(try harness.makeApp()) { app in
                    let listener = Collector(app.document("counters/c").snapshots())
                    try await listener.next("the first snapshot", where: { !$0.metadata.isFromCache })
                    // The server applies the write, but its answer never reaches the client; then the connection drops.
                    harness.proxy.holdReplies()
                    try await app.batch().setData(["n": .increment(1)], forDocument: app.document("counters/c"), merge: true).commit(waitForServer: false)
                    try await eventually("the server applied the increment", until: { try await harness.serverData("counters/c") != nil })
                    harness.proxy.cut()
                    harness.proxy.restore()
                    // The client sends the write again with the same mutation id; the server answers without applying it.
                    await app.waitForPendingWrites()
                    #expect(try await harness.serverData("counters/c") == .object(["n": .integer(1)]))
                    try await listener.next("the server's state", where: { $0["n"] == 1 && !$0.metadata.hasPendingWrites && !$0.metadata.isFromCache })
                    listener.cancel()
                }
            }
        }

        @Test func writesQueuedBeforeARestartAreStillDelivered() async throws {
            try await ClientHarness.run { harness in
                let cache = harness.directory.path + "/restarted"
                harness.proxy.cut()
                try await withApp(try harness.makeApp(cache: cache)) { app in
                    try await app.batch().setData(["text": "first"], forDocument: app.document("notes/1")).commit(waitForServer: false)
                    try await app.batch().updateData(["text": "second"], forDocument: app.document("notes/1")).commit(waitForServer: false)
                    let local = try await app.document("notes/1").getDocument(source: .cache)
                    #expect(local["text"] == "second")
                    #expect(local.metadata.hasPendingWrites)
                }
                harness.proxy.restore()
                try await withApp(try harness.makeApp(cache: cache)) { app in
                    // Before the server answers, the cache still shows the queued writes.
                    let cached = try await app.document("notes/1").getDocument(source: .cache)
                    #expect(cached["text"] == "second")
                    await app.waitForPendingWrites()
                    #expect(try await harness.serverData("notes/1") == .object(["text": .string("second")]))
                    let read = try await app.document("notes/1").getDocument()
                    #expect(!read.metadata.hasPendingWrites)
                }
            }
        }

        @Test func aRefusedWriteIsRolledBackAndReported() async throws {
            let rules = TestRules.open.merging(["firestore.rules": """
                rules_version = '2';
                service cloud.firestore {
                  match /databases/{database}/documents {
                    match /rooms/{id} { allow read: if true; allow write: if request.resource.data.name is string; }
                  }
                }
                """]) { _, new in new }
            try await ClientHarness.run(rules: rules) { harness in
                try await withApp(try harness.makeApp()) { app in
                    let rejections = Collector(await app.rejectedWrites())
                    let snapshots = Collector(app.collection("rooms").snapshots(includeMetadataChanges: true))
                    try await snapshots.next("the first snapshot", where: { !$0.metadata.isFromCache })
                    harness.proxy.cut()
                    try await app.batch().setData(["name": 7], forDocument: app.document("rooms/bad")).commit(waitForServer: false)
                    try await snapshots.next("the local write", where: { $0.count == 1 })
                    harness.proxy.restore()
                    let rejection = try await rejections.next("the rejection")
                    #expect(rejection.error.code == .permissionDenied)
                    #expect(rejection.paths == ["rooms/bad"])
                    let rolledBack = try await snapshots.next("the rollback", where: { $0.isEmpty && !$0.metadata.isFromCache })
                    #expect(!rolledBack.metadata.hasPendingWrites)
                    // A caller that waits gets the error itself.
                    do {
                        try await app.document("rooms/worse").setData(["name": false])
                        Issue.record("the refused write was not reported to its caller")
                    } catch let error as FlintError {
                        #expect(error.code == .permissionDenied)
                    }
                    #expect(try await harness.serverData("rooms/worse") == nil)
                    snapshots.cancel()
                    rejections.cancel()
                }
            }
        }

        @Test func writesFromTwoOfflineSessionsKeepTheirOrder() async throws {
            try await ClientHarness.run { harness in
                try await withApp(try harness.makeApp()) { app in
                    harness.proxy.cut()
                    for i in 1...20 {
                        try await app.batch().setData(["last": .value(.integer(Int64(i)))], forDocument: app.document("order/x")).commit(waitForServer: false)
                        if i == 10 {
                            harness.proxy.restore()
                            harness.proxy.cut()
                        }
                    }
                    harness.proxy.restore()
                    await app.waitForPendingWrites()
                    #expect(try await harness.serverData("order/x") == .object(["last": .integer(20)]))
                }
            }
        }

        @Test func aTransactionFailsClearlyOffline() async throws {
            try await ClientHarness.run { harness in
                try await withApp(try harness.makeApp()) { app in
                    harness.proxy.cut()
                    do {
                        _ = try await app.runTransaction { transaction in
                            try await transaction.getDocument(app.document("counters/c")).exists
                        }
                        Issue.record("a transaction ran offline")
                    } catch let error as FlintError {
                        #expect(error.code == .unavailable)
                    }
                }
            }
        }
    }
}
