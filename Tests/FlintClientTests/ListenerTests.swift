@testable import FlintClient
import FlintTestSupport
import Foundation
import Testing

extension ClientIntegrationTests {
    /// Live snapshots of documents and queries: the server's changes, this app's own writes at once, and one socket.
    @Suite struct ListenerTests {
        @Test func aDocumentListenerSeesEveryChangeFromElsewhere() async throws {
            try await ClientHarness.run { harness in
                try await withApp(try harness.makeApp()) { app in
                    let snapshots = Collector(app.document("rooms/r1").snapshots())
                    let first = try await snapshots.next("first snapshot")
                    #expect(!first.exists)
                    #expect(!first.metadata.isFromCache)
                    try await harness.http.send(.put, "/v1/documents/rooms/r1", body: #"{"name": "Lobby"}"#)
                    let created = try await snapshots.next("created", where: { $0.exists })
                    #expect(created["name"] == "Lobby")
                    try await harness.http.send(.patch, "/v1/documents/rooms/r1", body: #"{"name": "Den"}"#)
                    try await snapshots.next("renamed", where: { $0["name"] == "Den" })
                    try await harness.http.send(.delete, "/v1/documents/rooms/r1")
                    try await snapshots.next("deleted", where: { !$0.exists })
                    snapshots.cancel()
                }
            }
        }

        @Test func aQueryListenerReportsAddedModifiedAndRemoved() async throws {
            try await ClientHarness.run { harness in
                try await harness.http.send(.put, "/v1/documents/items/a", body: #"{"n": 1}"#)
                try await withApp(try harness.makeApp()) { app in
                    let snapshots = Collector(app.collection("items").whereField("n", isGreaterThan: 0).order(by: "n").snapshots())
                    let first = try await snapshots.next("first snapshot", where: { !$0.metadata.isFromCache })
                    #expect(first.documents.map(\.documentID) == ["a"])
                    #expect(first.documentChanges.map(\.type) == [.added])

                    try await harness.http.send(.put, "/v1/documents/items/b", body: #"{"n": 0.5}"#)
                    let added = try await snapshots.next("b added", where: { $0.count == 2 })
                    #expect(added.documents.map(\.documentID) == ["b", "a"])
                    #expect(added.documentChanges.map(\.type) == [.added])
                    #expect(added.documentChanges.first?.newIndex == 0)

                    try await harness.http.send(.put, "/v1/documents/items/b", body: #"{"n": 7}"#)
                    let moved = try await snapshots.next("b modified", where: { $0.documents.map(\.documentID) == ["a", "b"] })
                    #expect(moved.documentChanges.map(\.type) == [.modified])
                    #expect(moved.documentChanges.first?.oldIndex == 0)
                    #expect(moved.documentChanges.first?.newIndex == 1)

                    try await harness.http.send(.put, "/v1/documents/items/a", body: #"{"n": -1}"#)
                    let removed = try await snapshots.next("a removed", where: { $0.count == 1 })
                    #expect(removed.documentChanges.map(\.type) == [.removed])
                    #expect(removed.documentChanges.first?.document.documentID == "a")
                    snapshots.cancel()
                }
            }
        }

        @Test func ownWritesShowAtOnceWithPendingWritesThenTheServerState() async throws {
            try await ClientHarness.run { harness in
                try await withApp(try harness.makeApp()) { app in
                    let snapshots = Collector(app.collection("items").snapshots(includeMetadataChanges: true))
                    try await snapshots.next("first snapshot", where: { !$0.metadata.isFromCache })
                    let write = Task { try await app.collection("items").document("a").setData(["n": 1, "at": .serverTimestamp()]) }
                    let local = try await snapshots.next("the local write", where: { $0.count == 1 })
                    #expect(local.metadata.hasPendingWrites)
                    #expect(local.documents.first?.metadata.hasPendingWrites == true)
                    guard case .timestamp? = local.documents.first?["at"] else {
                        Issue.record("a pending serverTimestamp should show the local time")
                        return
                    }
                    try await write.value
                    let confirmed = try await snapshots.next("the server's state", where: { !$0.metadata.hasPendingWrites })
                    #expect(confirmed.documents.map(\.documentID) == ["a"])
                    #expect(!confirmed.metadata.isFromCache)
                    snapshots.cancel()
                }
            }
        }

        @Test func everyListenerSharesOneConnection() async throws {
            try await ClientHarness.run { harness in
                try await withApp(try harness.makeApp()) { app in
                    let a = Collector(app.document("rooms/a").snapshots())
                    let b = Collector(app.document("rooms/b").snapshots())
                    let c = Collector(app.collection("rooms").snapshots())
                    try await a.next("a", where: { !$0.metadata.isFromCache })
                    try await b.next("b", where: { !$0.metadata.isFromCache })
                    try await c.next("c", where: { !$0.metadata.isFromCache })
                    try await harness.http.send(.put, "/v1/documents/rooms/a", body: "{}")
                    try await a.next("a created", where: { $0.exists })
                    try await c.next("a in the query", where: { $0.count == 1 })
                    #expect(harness.proxy.acceptedConnections == 1)
                    for collector in [a, b] as [Collector<DocumentSnapshot>] { collector.cancel() }
                    c.cancel()
                }
            }
        }

        @Test func aListenerTheRulesRefuseEndsWithPermissionDenied() async throws {
            let rules = TestRules.open.merging(["firestore.rules": """
                rules_version = '2';
                service cloud.firestore {
                  match /databases/{database}/documents {
                    match /open/{id} { allow read, write: if true; }
                  }
                }
                """]) { _, new in new }
            try await ClientHarness.run(rules: rules) { harness in
                try await withApp(try harness.makeApp()) { app in
                    let snapshots = Collector(app.document("secret/s1").snapshots())
                    let ending = await snapshots.ending()
                    #expect((ending as? FlintError)?.code == .permissionDenied)
                }
            }
        }
    }
}
