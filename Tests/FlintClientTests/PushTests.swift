@testable import FlintClient
import FlintServer
import FlintTestSupport
import Foundation
import Testing

extension ClientIntegrationTests {
    /// Push: registering this device, its topics, and a message sent by an admin reaching it (through the webhook
    /// provider of the push stand-ins, Tests/PushStandIn).
    @Suite struct PushTests {
        static let adminID = "push-admin"
        static let adminSecret = "push-admin-secret-0123"

        /// Runs `body` with the stand-ins and a server that sends to them, with an admin service account.
        static func run(_ body: @Sendable (ClientHarness, PushStandIn) async throws -> Void) async throws {
            let standIn = try await PushStandIn.start()
            do {
                var push = PushConfiguration()
                try push.applyProviders(standIn.configJSON)
                let configured = push
                try await ClientHarness.run(configure: {
                    $0.push = configured
                    $0.adminClientID = adminID
                    $0.adminClientSecret = adminSecret
                }) { harness in try await body(harness, standIn) }
                await standIn.stop()
            } catch {
                await standIn.stop()
                throw error
            }
        }

        @Test func aDeviceIsRegisteredSubscribedListedAndUnregistered() async throws {
            try await Self.run { harness, _ in
                try await withApp(try harness.makeApp()) { app in
                    let user = try await app.auth.signUp(email: "ann@example.com", password: "correct horse battery")
                    let token = String(repeating: "9f", count: 32)
                    let device = try await app.push.register(.apns(token: token), appID: "com.example.chat", locale: "en-GB")
                    #expect(device.uid == user.uid)
                    #expect(device.platform == "apns" && device.token == token && device.appID == "com.example.chat" && device.locale == "en-GB")
                    #expect(device.isActive && device.topics.isEmpty)
                    let again = try await app.push.register(.apns(token: token))
                    #expect(again.id == device.id, "registering the same token again updates its device")

                    try await app.push.subscribe(device.id, toTopic: "news")
                    try await app.push.subscribe(device.id, toTopic: "room-r1")
                    #expect(Set(try await app.push.device(device.id).topics) == ["news", "room-r1"])
                    try await app.push.unsubscribe(device.id, fromTopic: "news")
                    #expect(try await app.push.device(device.id).topics == ["room-r1"])

                    let inbox = try await app.push.register(.webhook(recipient: "ann-inbox"))
                    #expect(Set(try await app.push.devices().map(\.id)) == [device.id, inbox.id])
                    try await app.push.unregister(device.id)
                    #expect(try await app.push.devices().map(\.id) == [inbox.id])
                    await #expect(throws: FlintError.self) { try await app.push.device(device.id) }
                }
            }
        }

        @Test func aMessageSentToTheUserReachesTheRegisteredDevice() async throws {
            try await Self.run { harness, standIn in
                try await withApp(try harness.makeApp()) { app in
                    let user = try await app.auth.signInAnonymously()
                    let device = try await app.push.register(.webhook(recipient: "ann-inbox"), locale: "nb-NO")
                    let admin = try await harness.http.serviceToken(clientID: Self.adminID, secret: Self.adminSecret)
                    let message = #"{"to": {"uid": "\#(user.uid)"}, "notification": {"title": "Lobby"}, "data": {"room": "r1"}}"#
                    let sent = try await harness.http.send(.post, "/v1/push/messages", body: message, headers: admin.headers)
                    #expect(sent.status == .accepted)
                    let delivered = try await eventually("the webhook stand-in receives the message") {
                        try await standIn.requests(kind: "webhook").first
                    }
                    #expect(delivered["verified"] == .bool(true), "the HMAC signature verifies")
                    #expect(delivered["json"]?["device"]?["id"] == .string(device.id))
                    #expect(delivered["json"]?["device"]?["token"] == .string("ann-inbox"))
                    #expect(delivered["json"]?["device"]?["locale"] == .string("nb-NO"))
                    #expect(delivered["json"]?["content"]?["data"] == .object(["room": .string("r1")]))
                }
            }
        }

        @Test func badRegistrationsFailWithTheServersError() async throws {
            try await Self.run { harness, standIn in
                try await withApp(try harness.makeApp()) { app in
                    do {
                        try await app.push.register(.fcm(token: "t-1"))
                        Issue.record("a registration without a signed-in user was accepted")
                    } catch let error as FlintError {
                        #expect(error.code == .unauthenticated)
                    }
                    try await app.auth.signInAnonymously()
                    do {
                        try await app.push.register(.webPush(endpoint: "\(standIn.plainURL)/push/a", p256dh: "not-a-key", auth: "x"))
                        Issue.record("a Web Push subscription with a bad key was accepted")
                    } catch let error as FlintError {
                        #expect(error.code == .invalidArgument)
                        #expect(error.message.contains("p256dh"), "\(error.message)")
                    }
                    let device = try await app.push.register(.webPush(endpoint: "\(standIn.plainURL)/push/a", p256dh: standIn.string("p256dh"), auth: standIn.string("auth")))
                    #expect(device.platform == "webpush")
                    do {
                        try await app.push.subscribe(device.id, toTopic: "no spaces")
                        Issue.record("a bad topic name was accepted")
                    } catch let error as FlintError {
                        #expect(error.code == .invalidArgument)
                    }
                    do {
                        try await app.push.subscribe(device.id, toTopic: "")
                        Issue.record("an empty topic name was accepted")
                    } catch let error as FlintError {
                        #expect(error.code == .invalidArgument)
                        #expect(error.message.contains("1 to 900"))
                    }
                    // `%` is allowed in a topic (FCM's rule) and reaches the server as itself.
                    try await app.push.subscribe(device.id, toTopic: "50%off")
                    #expect(try await app.push.device(device.id).topics == ["50%off"])
                    #expect(try await app.push.vapidPublicKey().count == 87, "a P-256 public key, 65 bytes in base64url")

                    // Push needs the server: offline, a registration fails with `unavailable` and nothing is queued.
                    harness.proxy.cut()
                    do {
                        try await app.push.register(.fcm(token: "t-offline"))
                        Issue.record("a registration succeeded offline")
                    } catch let error as FlintError {
                        #expect(error.code == .unavailable)
                    }
                    harness.proxy.restore()
                    #expect(try await app.push.devices().map(\.platform) == ["webpush"])
                }
            }
        }
    }
}
