@testable import FlintClient
import FlintTestSupport
import Foundation
import Testing

extension ClientIntegrationTests {
    /// Reading and writing documents online: every write form, transforms, Codable, sources.
    @Suite struct DocumentsTests {
        @Test func setReadUpdateAndDeleteADocument() async throws {
            try await ClientHarness.run { harness in
                try await withApp(try harness.makeApp()) { app in
                    let room = app.collection("rooms").document("r1")
                    try await room.setData(["name": "Lobby", "settings": ["muted": false, "volume": 3]])
                    var snapshot = try await room.getDocument()
                    #expect(snapshot.exists)
                    #expect(snapshot.documentID == "r1")
                    #expect(snapshot.data() == ["name": "Lobby", "settings": ["muted": false, "volume": 3]])
                    #expect(snapshot.metadata == SnapshotMetadata(isFromCache: false, hasPendingWrites: false))

                    try await room.updateData(["settings.muted": true, "topic": "hi"])
                    #expect(try await harness.serverData("rooms/r1") == .object([
                        "name": .string("Lobby"), "topic": .string("hi"), "settings": .object(["muted": .bool(true), "volume": .integer(3)]),
                    ]))

                    try await room.setData(["owner": "ada"], merge: true)
                    snapshot = try await room.getDocument()
                    #expect(snapshot["owner"] == "ada")
                    #expect(snapshot["name"] == "Lobby")

                    try await room.delete()
                    #expect(try await room.getDocument().exists == false)
                    #expect(try await harness.serverData("rooms/r1") == nil)
                }
            }
        }

        @Test func fieldTransformsRunOnTheServer() async throws {
            try await ClientHarness.run { harness in
                try await withApp(try harness.makeApp()) { app in
                    let doc = app.document("counters/c")
                    try await doc.setData(["n": 1, "tags": ["a", "b"], "gone": true])
                    try await doc.updateData([
                        "n": .increment(2), "tags": .arrayUnion(["c", "a"]), "gone": .delete(), "at": .serverTimestamp(),
                        "hi": .maximum(7),
                    ])
                    try await doc.updateData(["tags": .arrayRemove(["b"])])
                    let data = try #require(try await doc.getDocument().data())
                    #expect(data["n"] == 3)
                    #expect(data["tags"] == ["a", "c"])
                    #expect(data["gone"] == nil)
                    #expect(data["hi"] == 7)
                    guard case .timestamp? = data["at"] else {
                        Issue.record("serverTimestamp did not write a timestamp: \(String(describing: data["at"]))")
                        return
                    }
                }
            }
        }

        @Test func updatingAMissingDocumentFailsWithNotFound() async throws {
            try await ClientHarness.run { harness in
                try await withApp(try harness.makeApp()) { app in
                    await #expect(throws: FlintError.self) { try await app.document("rooms/none").updateData(["a": 1]) }
                    do {
                        try await app.document("rooms/none").updateData(["a": 1])
                    } catch let error as FlintError {
                        #expect(error.code == .notFound)
                    }
                    #expect(try await app.document("rooms/none").getDocument().exists == false)
                }
            }
        }

        @Test func addDocumentMakesAGeneratedID() async throws {
            try await ClientHarness.run { harness in
                try await withApp(try harness.makeApp()) { app in
                    let reference = try await app.collection("rooms/r1/messages").addDocument(data: ["text": "hello"])
                    #expect(reference.documentID.count == 20)
                    #expect(reference.parent.path == "rooms/r1/messages")
                    #expect(try await harness.serverData(reference.path) == .object(["text": .string("hello")]))
                }
            }
        }

        @Test func anInvalidPathIsReportedByTheFirstOperation() async throws {
            try await ClientHarness.run { harness in
                try await withApp(try harness.makeApp()) { app in
                    do {
                        try await app.document("rooms").setData(["a": 1])
                        Issue.record("a collection path was accepted as a document")
                    } catch let error as FlintError {
                        #expect(error.code == .invalidArgument)
                    }
                }
            }
        }

        struct Room: Codable, Equatable {
            var name: String
            var capacity: Int
            var opened: Date
            var tags: [String]
            var owner: Owner?
            var logo: Data

            struct Owner: Codable, Equatable {
                var uid: String
                var score: Double
            }
        }

        @Test func codableValuesRoundTrip() async throws {
            try await ClientHarness.run { harness in
                try await withApp(try harness.makeApp()) { app in
                    let room = Room(
                        name: "Lobby", capacity: 12, opened: Date(timeIntervalSince1970: 1_790_000_000.25), tags: ["a"],
                        owner: .init(uid: "ada", score: 2.5), logo: Data([0, 1, 2]))
                    try await app.document("rooms/r1").setData(from: room)
                    let read = try await app.document("rooms/r1").getDocument().data(as: Room.self)
                    #expect(read == room)
                    let raw = try await harness.serverData("rooms/r1")
                    #expect(raw?["opened"] == .object(["$timestamp": .string(Timestamp(date: room.opened).description)]))
                    #expect(raw?["logo"] == .object(["$bytes": .string("AAEC")]))
                }
            }
        }

        @Test func theCacheAnswersForDocumentsReadBeforeAndOnlyThose() async throws {
            try await ClientHarness.run { harness in
                try await withApp(try harness.makeApp()) { app in
                    try await harness.http.send(.put, "/v1/documents/rooms/r1", body: #"{"name": "Lobby"}"#)
                    _ = try await app.document("rooms/r1").getDocument()
                    let cached = try await app.document("rooms/r1").getDocument(source: .cache)
                    #expect(cached.metadata.isFromCache)
                    #expect(cached["name"] == "Lobby")
                    do {
                        _ = try await app.document("rooms/never").getDocument(source: .cache)
                        Issue.record("a document never read came from the cache")
                    } catch let error as FlintError {
                        #expect(error.code == .unavailable)
                    }
                }
            }
        }
    }
}
