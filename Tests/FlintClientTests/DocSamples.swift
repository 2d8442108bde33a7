import FlintClient
import Foundation

// The Swift samples of sdk-docs/swift-sdk.md. Each sample sits between `// sample: <name>` and `// end sample`;
// DocSamplesTests checks that every ```swift block of sdk-docs/*.md is one of them, verbatim (after removing the
// indentation they share), so the guide only shows code that compiles. Some samples also run against a server there.

enum DocSamples {
    static func gettingStarted(url: String, directory: String) async throws -> String? {
        // sample: getting-started
        let app = try FlintApp(url: url, cacheDirectory: directory)
        try await app.auth.signInAnonymously()

        let room = app.collection("rooms").document("r1")
        try await room.setData(["name": "Lobby", "open": true, "members": 1])
        let snapshot = try await room.getDocument()
        print(snapshot["name"] ?? "no name")

        await app.close()
        // end sample
        return snapshot["name"].map { "\($0)" }
    }

    static func settings(url: String, directory: String) throws -> FlintApp {
        // sample: settings
        var settings = FlintApp.Settings()
        settings.cacheSizeBytes = 20 << 20  // 20 MiB of documents
        settings.tokenRefreshMargin = .seconds(120)
        let app = try FlintApp(url: url, cacheDirectory: directory, settings: settings)
        // end sample
        return app
    }

    static func auth(app: FlintApp) async throws {
        // sample: auth
        let user = try await app.auth.signUp(email: "ada@example.com", password: "correct horse battery")
        print(user.uid, user.email ?? "")
        try await app.auth.signOut()
        try await app.auth.signIn(email: "ada@example.com", password: "correct horse battery")
        if let current = await app.auth.currentUser { print("signed in as", current.uid) }
        // end sample
    }

    static func authState(app: FlintApp) async {
        // sample: auth-state
        for await user in await app.auth.authStateChanges() {
            print(user.map { "signed in: \($0.uid)" } ?? "signed out")
        }
        // end sample
    }

    static func writes(app: FlintApp) async throws {
        // sample: writes
        let room = app.document("rooms/r1")
        try await room.setData(["name": "Lobby", "settings": ["muted": false]])
        try await room.setData(["owner": "ada"], merge: true)
        try await room.updateData([
            "settings.muted": true,
            "members": .increment(1),
            "lastSeen": .serverTimestamp(),
            "tags": .arrayUnion(["general"]),
            "owner": .delete(),
        ])
        let message = try await room.collection("messages").addDocument(data: ["text": "hello"])
        try await message.delete()
        // end sample
    }

    // sample: codable
    struct Room: Codable {
        var name: String
        var members: Int
        var opened: Date
        var topic: String?
    }

    // end sample

    static func codable(app: FlintApp) async throws {
        // sample: codable-use
        let ref = app.document("rooms/r2")
        try await ref.setData(from: Room(name: "Den", members: 2, opened: Date(), topic: nil))
        let room = try await ref.getDocument().data(as: Room.self)
        print(room.name)
        // end sample
    }

    static func queries(app: FlintApp) async throws {
        // sample: queries
        let open = try await app.collection("rooms")
            .whereField("open", isEqualTo: true)
            .whereField("members", isGreaterThan: 0)
            .order(by: "members", descending: true)
            .limit(to: 20)
            .getDocuments()
        for room in open.documents { print(room.documentID, room["members"] ?? 0) }

        let either = app.collection("rooms").whereFilter(.orFilter([
            .whereField("owner", isEqualTo: "ada"),
            .whereField("tags", arrayContains: "general"),
        ]))
        let page = try await either.order(by: "name").limit(to: 10).getDocuments()
        if let last = page.documents.last {
            let next = try await either.order(by: "name").start(afterDocument: last).limit(to: 10).getDocuments()
            print(next.count)
        }
        let everyMessage = try await app.collectionGroup("messages").whereField("author", isEqualTo: "ada").getDocuments()
        print(everyMessage.count)
        // end sample
    }

    static func sources(app: FlintApp) async throws {
        // sample: sources
        let fresh = try await app.document("rooms/r1").getDocument(source: .server)
        let cached = try await app.document("rooms/r1").getDocument(source: .cache)
        print(fresh.metadata.isFromCache, cached.metadata.isFromCache)  // false true
        // end sample
    }

    static func listeners(app: FlintApp) async throws {
        // sample: listen-document
        for try await snapshot in app.document("rooms/r1").snapshots() {
            print(snapshot.exists ? snapshot["name"] ?? "" : "deleted")
        }
        // end sample

        // sample: listen-query
        let messages = app.collection("rooms/r1/messages").order(by: "sent").limit(toLast: 50)
        for try await snapshot in messages.snapshots(includeMetadataChanges: true) {
            for change in snapshot.documentChanges {
                switch change.type {
                case .added: print("new", change.document.documentID, "at", change.newIndex)
                case .modified: print("changed", change.document.documentID)
                case .removed: print("gone", change.document.documentID)
                }
            }
            if snapshot.metadata.hasPendingWrites { print("some messages are not on the server yet") }
            if snapshot.metadata.isFromCache { print("offline: showing the cache") }
        }
        // end sample
    }

    static func listenerTask(app: FlintApp) async throws {
        // sample: listen-stop
        let listener = Task {
            for try await snapshot in app.collection("rooms").snapshots() { print(snapshot.count) }
        }
        // … later: ends the listener (and its server target, if it was the last one)
        listener.cancel()
        // end sample
    }

    static func offline(app: FlintApp) async throws {
        // sample: offline-writes
        // Applied to the cache and every listener at once; queued on disk; sent when the connection is back.
        try await app.batch()
            .setData(["text": "written offline"], forDocument: app.document("notes/n1"))
            .commit(waitForServer: false)

        // Refusals of writes nobody waits for (rules, preconditions) arrive here; the write is already rolled back.
        Task {
            for await rejection in await app.rejectedWrites() {
                print("refused:", rejection.paths, rejection.error.code)
            }
        }
        await app.waitForPendingWrites()
        // end sample
    }

    static func transactions(app: FlintApp) async throws {
        // sample: transaction
        let counter = app.document("counters/visits")
        let newValue = try await app.runTransaction { transaction -> Int64 in
            let snapshot = try await transaction.getDocument(counter)
            guard case .integer(let n)? = snapshot["n"] else {
                transaction.setData(["n": 1], forDocument: counter)
                return 1
            }
            transaction.updateData(["n": .value(.integer(n + 1))], forDocument: counter)
            return n + 1
        }
        print(newValue)
        // end sample
    }

    static func batch(app: FlintApp) async throws {
        // sample: batch
        try await app.batch()
            .setData(["name": "Lobby"], forDocument: app.document("rooms/r9"))
            .updateData(["rooms": .increment(1)], forDocument: app.document("stats/all"))
            .deleteDocument(app.document("rooms/r0"))
            .commit()
        // end sample
    }

    static func files(app: FlintApp, video: URL) async throws {
        // sample: upload
        for try await progress in app.storage.upload(fileAt: video, to: "videos/clip.mp4", contentType: "video/mp4") {
            print("\(Int(progress.fractionCompleted * 100)) %")
            if let stored = progress.metadata { print("stored", stored.size, "bytes, generation", stored.generation) }
        }
        // end sample

        // sample: download
        let bytes = try await app.storage.data("videos/clip.mp4")
        try await app.storage.download("videos/clip.mp4", to: URL(fileURLWithPath: "/tmp/clip.mp4"))
        let metadata = try await app.storage.metadata("videos/clip.mp4")
        try await app.storage.delete("videos/clip.mp4")
        // end sample
        print(bytes.count, metadata.contentType)
    }

    static func push(app: FlintApp, apnsToken: String) async throws {
        // sample: push-register
        let device = try await app.push.register(.apns(token: apnsToken), appID: "com.example.chat", locale: "en-GB")
        try await app.push.subscribe(device.id, toTopic: "news")
        // end sample

        // sample: push-manage
        for device in try await app.push.devices() { print(device.id, device.platform, device.isActive, device.topics) }
        try await app.push.unsubscribe(device.id, fromTopic: "news")
        try await app.push.unregister(device.id)  // on sign-out: nothing more is sent to it
        // end sample
    }

    static func errors(app: FlintApp) async {
        // sample: errors
        do {
            try await app.document("rooms/none").updateData(["name": "x"])
        } catch let error as FlintError {
            switch error.code {
            case .notFound: print("no such room")
            case .permissionDenied: print("the security rules say no:", error.message)
            case .unavailable: print("offline, and this needs the server")
            default: print(error)
            }
        } catch {
            print("unexpected:", error)
        }
        // end sample
    }
}
