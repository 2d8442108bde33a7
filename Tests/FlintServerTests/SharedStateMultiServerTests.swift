import FlintCore
@testable import FlintServer
import FlintTestSupport
import Foundation
import HTTPTypes
import Logging
import Testing

/// Two servers on one PostgreSQL database and one shared files folder, each with a data folder of its own: a
/// user, a session, a rules deployment, a file or a push message made through one is served by the other.
// Skipped without a PostgreSQL server or its binaries (see TestPostgres.unavailableReason).
@Suite(.enabled(if: TestPostgres.isAvailable, Comment(rawValue: TestPostgres.unavailableReason)))
struct SharedStateMultiServerTests {
    static let adminID = "multi-admin"
    static let adminSecret = "multi-admin-secret-0123"
    static let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]

    /// Runs `body` with clients of two servers that share a database and a files folder (and, as servers behind one
    /// load balancer must, one public URL: the issuer of their tokens).
    static func withTwoServers<T: Sendable>(
        configure: @escaping @Sendable (inout Configuration) -> Void = { _ in },
        _ body: @Sendable (_ a: HTTPTestClient, _ b: HTTPTestClient) async throws -> T
    ) async throws -> T {
        try await TestPostgres.withDatabase { url in
            let files = try TemporaryDirectory()
            defer { files.remove() }
            let shared: @Sendable (inout Configuration) -> Void = {
                $0.databaseURL = url
                $0.filesDirectory = files.path
                $0.publicURL = "http://flint.test"
                $0.adminClientID = adminID
                $0.adminClientSecret = adminSecret
                configure(&$0)
            }
            return try await TestServer.run(configure: shared) { a in
                try await TestServer.run(configure: shared) { b in try await body(a, b) }
            }
        }
    }

    @Test func aUserSignedUpOnOneServerSignsInOnTheOtherAndBothAcceptItsTokens() async throws {
        try await Self.withTwoServers { a, b in
            let ann = try await a.signUp("ann@example.com", password: "correct horse battery")
            let signIn = try await b.send(.post, "/v1/auth/signin", body: #"{"email": "ann@example.com", "password": "correct horse battery"}"#)
            #expect(signIn.status == .ok)
            #expect(try signIn.json["user"]?["uid"] == .string(ann.uid))
            let onB = try #require(try signIn.json["access_token"]?.stringValue)
            #expect(try await b.send(.get, "/v1/auth/userinfo", headers: ann.headers).json["sub"] == .string(ann.uid))
            #expect(try await a.send(.get, "/v1/auth/userinfo", headers: [.authorization: "Bearer \(onB)"]).json["sub"] == .string(ann.uid))
            #expect(try await a.send(.get, "/.well-known/jwks.json").json == (try await b.send(.get, "/.well-known/jwks.json").json))
        }
    }

    @Test func aRefreshTokenRotatedOnOneServerAndReplayedOnTheOtherIsReuse() async throws {
        try await Self.withTwoServers { a, b in
            let session = try await a.send(.post, "/v1/auth/signup", body: #"{"email": "dan@example.com", "password": "correct horse"}"#).json
            let first = try #require(session["refresh_token"]?.stringValue)
            let rotatedOnA = try await a.send(.post, "/v1/auth/token", body: "grant_type=refresh_token&refresh_token=\(first)", headers: Self.form)
            let second = try #require(try rotatedOnA.json["refresh_token"]?.stringValue)
            // B knows the session A rotated: it rotates the new token.
            let rotatedOnB = try await b.send(.post, "/v1/auth/token", body: "grant_type=refresh_token&refresh_token=\(second)", headers: Self.form)
            #expect(rotatedOnB.status == .ok)
            let third = try #require(try rotatedOnB.json["refresh_token"]?.stringValue)
            // The first token replayed on B: reuse, which revokes the family on both servers.
            let replayed = try await b.send(.post, "/v1/auth/token", body: "grant_type=refresh_token&refresh_token=\(first)", headers: Self.form)
            #expect(replayed.status == .badRequest)
            #expect(try replayed.json["error"] == .string("invalid_grant"))
            let revoked = try await a.send(.post, "/v1/auth/token", body: "grant_type=refresh_token&refresh_token=\(third)", headers: Self.form)
            #expect(try revoked.json["error"] == .string("invalid_grant"))
        }
    }

    @Test func rulesDeployedOnOneServerAreEnforcedOnTheOther() async throws {
        try await Self.withTwoServers { a, b in
            let admin = try await a.serviceToken(clientID: Self.adminID, secret: Self.adminSecret)
            let user = try await b.signUp("eve@example.com")
            let write = { (n: Int) in
                try await b.send(.put, "/v1/documents/notes/n\(n)", body: #"{"text": "hi"}"#, headers: user.headers).status
            }
            #expect(try await write(0) == .ok, "the open rules deployed at start-up allow the write")
            let readOnly = RulesEnforcementTests.rules("    match /{document=**} { allow read: if true; }")
            #expect(try await a.send(.put, "/v1/admin/rules/firestore", body: readOnly, headers: admin.headers).status == .created)
            var attempt = 0
            try await eventually("server B enforces the rules deployed on server A") {
                attempt += 1
                return try await write(attempt) == .forbidden
            }
            let live = try await b.send(.get, "/v1/admin/rules/firestore", headers: admin.headers).json
            #expect(live["source"] == .string(readOnly))
        }
    }

    @Test func aFileUploadedThroughOneServerIsDownloadedThroughTheOther() async throws {
        try await Self.withTwoServers { a, b in
            let (user, _) = try await FilesTest.signIn(a)
            let bytes = FilesTest.bytes(100_000, seed: 7)
            #expect(try await a.upload("shared/photo.bin", bytes, headers: user).status == .created)
            let download = try await b.send(.get, "/v1/files/shared/photo.bin", headers: user)
            #expect(download.status == .ok)
            #expect(download.body == bytes)

            // A resumable upload begun on B is finished on A, and read back on B.
            let upload = try await FilesTusTests.create(b, user, path: "shared/notes.txt", length: 10)
            for (server, offset, part) in [(b, 0, Array("hello".utf8)), (a, 5, Array("world".utf8))] {
                var patch = FilesTusTests.tus(user, [("Upload-Offset", "\(offset)")])
                patch[.contentType] = "application/offset+octet-stream"
                #expect(try await server.send(.patch, upload, bytes: part, headers: patch).status == .noContent)
            }
            #expect(try await b.send(.get, "/v1/files/shared/notes.txt", headers: user).text == "helloworld")
            let listed = try await a.send(.get, "/v1/files?prefix=shared/", headers: user).json
            #expect(listed["items"]?.arrayCount == 2)
        }
    }

    @Test func twoServersWorkersDeliverEachPushMessageExactlyOnce() async throws {
        let standIn = try await PushStandIn.start()
        do {
            try await deliverExactlyOnce(standIn)
            await standIn.stop()
        } catch {
            await standIn.stop()
            throw error
        }
    }

    func deliverExactlyOnce(_ standIn: PushStandIn) async throws {
        var push = PushConfiguration()
        try push.applyProviders(standIn.configJSON)
        push.retryBaseMilliseconds = 10
        push.retryCapSeconds = 1
        push.leaseSeconds = 5
        let configured = push
        let count = 40
        try await Self.withTwoServers(configure: { $0.push = configured }) { a, b in
            let admin = try await a.serviceToken(clientID: Self.adminID, secret: Self.adminSecret)
            let ann = try await a.signUp("ann@example.com")
            let device = try await a.send(
                .post, "/v1/push/devices", body: #"{"platform": "webhook", "token": "ann-inbox"}"#, headers: ann.headers
            ).json["id"]?.stringValue
            var ids: [String] = []
            for n in 0..<count {
                // Sent through both servers alike; both servers' workers claim from the one queue.
                let server = n.isMultiple(of: 2) ? a : b
                let reply = try await server.send(
                    .post, "/v1/push/messages",
                    body: JSON.object(["to": .object(["device": .string(try #require(device))]), "data": .object(["n": .string("\(n)")])]).text,
                    headers: admin.headers)
                ids.append(try #require(try reply.json["id"]?.stringValue))
            }
            for id in ids {
                _ = try await eventually("message \(id) is delivered") {
                    let message = try await b.send(.get, "/v1/push/messages/\(id)", headers: admin.headers).json
                    return message["state"] == .string("done") ? message : nil
                }
            }
            let requests = try await standIn.requests(kind: "webhook")
            let deliveries = requests.compactMap { $0["headers"]?["flint-delivery"]?.stringValue }
            #expect(requests.count == count, "each delivery is sent once in total")
            #expect(Set(deliveries).count == count)
            // Each server counts what its own worker delivered: together, every message once.
            var delivered = 0
            for server in [a, b] {
                let metrics = try await server.send(.get, "/metrics").text
                let line = metrics.split(separator: "\n").first { $0.hasPrefix(#"flint_push_attempts_total{provider="webhook",outcome="delivered"} "#) }
                delivered += line.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
            }
            #expect(delivered == count)
        }
    }

    @Test func aDeploymentIsAnnouncedToTheOtherServersWatcher() async throws {
        try await StoreBackend.postgres.withStores { stores in
            let logger = Logger(label: "test")
            let deployer = try await LiveRules(store: try await stores.rules(), logger: logger)
            let watched = try await LiveRules(store: try await stores.rules(), logger: logger)
            let store = try #require(try await stores.rules() as? PostgresRulesStore)
            // Polling an hour apart: only the flint_rules notifications (and the refresh when listening starts) move it.
            let watcher = RulesWatcher(rules: watched, store: store, interval: .seconds(3600), logger: logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await watcher.run() }
                let source = TestRules.open["firestore.rules"]!
                let first = try await deployer.deploy(source, for: .firestore, by: "admin")
                try await eventually("the watcher swaps in the first release") { watched.entry(.firestore)?.release.id == first.id }
                // Listening has begun by now (the swap came from it), so this one can only arrive as a notification.
                let second = try await deployer.deploy(source + "\n", for: .firestore, by: "admin")
                try await eventually("the watcher swaps in the announced release") { watched.entry(.firestore)?.release.id == second.id }
                group.cancelAll()
            }
        }
    }
}
