import FlintCore
@testable import FlintServer
import FlintTestSupport
import Foundation
import Testing

/// Devices and topics for users; who may send; bad input answered with 4xx naming the field.
@Suite struct PushDeviceTests {
    static let apnsToken = String(repeating: "ab12", count: 16)

    static func withServer<T: Sendable>(_ body: @Sendable (HTTPTestClient, HTTPTestClient.Session) async throws -> T) async throws -> T {
        try await TestServer.run(configure: {
            $0.adminClientID = PushHarness.adminID
            $0.adminClientSecret = PushHarness.adminSecret
            // Webhook only, to an address nothing listens on: these tests never wait for a delivery.
            try? $0.push.applyProviders(#"{"webhook": {"url": "http://127.0.0.1:9/webhook", "secret": "0123456789abcdef"}}"#)
        }) { http in
            try await body(http, try await http.serviceToken(clientID: PushHarness.adminID, secret: PushHarness.adminSecret))
        }
    }

    @Test func aDeviceRegistersUpdatesByTokenAndUnregisters() async throws {
        try await Self.withServer { http, _ in
            let ann = try await http.signUp("ann@example.com")
            let first = try await http.send(
                .post, "/v1/push/devices", body: #"{"platform": "apns", "token": "\#(Self.apnsToken)", "appId": "com.example", "locale": "en-GB"}"#,
                headers: ann.headers)
            #expect(first.status == .created)
            let id = try #require(try first.json["id"]?.stringValue)
            #expect(try first.json["uid"] == .string(ann.uid))
            #expect(try first.json["active"] == .bool(true))
            // The same token again updates the same device.
            let again = try await http.send(
                .post, "/v1/push/devices", body: #"{"platform": "apns", "token": "\#(Self.apnsToken.uppercased())", "locale": "fr-FR"}"#,
                headers: ann.headers)
            #expect(again.status == .ok)
            #expect(try again.json["id"] == .string(id))
            #expect(try again.json["locale"] == .string("fr-FR"))
            let list = try await http.send(.get, "/v1/push/devices", headers: ann.headers).json
            #expect(list["devices"]?.arrayCount == 1)
            // Someone else cannot see or remove it.
            let bob = try await http.signUp("bob@example.com")
            #expect(try await http.send(.get, "/v1/push/devices/\(id)", headers: bob.headers).status == .notFound)
            #expect(try await http.send(.delete, "/v1/push/devices/\(id)", headers: bob.headers).status == .notFound)
            #expect(try await http.send(.delete, "/v1/push/devices/\(id)", headers: ann.headers).status == .noContent)
            #expect(try await http.send(.get, "/v1/push/devices/\(id)", headers: ann.headers).status == .notFound)
            #expect(try await http.send(.get, "/v1/push/devices", headers: ann.headers).json["devices"]?.arrayCount == 0)
        }
    }

    @Test func aDeviceThatChangesHandsMovesToItsNewUserWithoutItsTopics() async throws {
        try await Self.withServer { http, _ in
            let ann = try await http.signUp("ann@example.com")
            let bob = try await http.signUp("bob@example.com")
            let body = #"{"platform": "fcm", "token": "fcm-token-1"}"#
            let id = try #require(try await http.send(.post, "/v1/push/devices", body: body, headers: ann.headers).json["id"]?.stringValue)
            #expect(try await http.send(.put, "/v1/push/devices/\(id)/topics/news", headers: ann.headers).status == .noContent)
            let moved = try await http.send(.post, "/v1/push/devices", body: body, headers: bob.headers)
            #expect(try moved.json["id"] == .string(id))
            #expect(try moved.json["uid"] == .string(bob.uid))
            #expect(try moved.json["topics"] == .array([]))
            #expect(try await http.send(.get, "/v1/push/devices", headers: ann.headers).json["devices"]?.arrayCount == 0)
        }
    }

    @Test func topicsAreSubscribedAndUnsubscribed() async throws {
        try await Self.withServer { http, _ in
            let ann = try await http.signUp("ann@example.com")
            let id = try #require(
                try await http.send(.post, "/v1/push/devices", body: #"{"platform": "webhook", "token": "ann-1"}"#, headers: ann.headers).json["id"]?
                    .stringValue)
            #expect(try await http.send(.put, "/v1/push/devices/\(id)/topics/news", headers: ann.headers).status == .noContent)
            #expect(try await http.send(.put, "/v1/push/devices/\(id)/topics/sport.scores", headers: ann.headers).status == .noContent)
            #expect(try await http.send(.put, "/v1/push/devices/\(id)/topics/news", headers: ann.headers).status == .noContent)
            #expect(try await http.send(.get, "/v1/push/devices/\(id)", headers: ann.headers).json["topics"] == .array([.string("news"), .string("sport.scores")]))
            #expect(try await http.send(.delete, "/v1/push/devices/\(id)/topics/news", headers: ann.headers).status == .noContent)
            #expect(try await http.send(.get, "/v1/push/devices/\(id)", headers: ann.headers).json["topics"] == .array([.string("sport.scores")]))
            let bad = try await http.send(.put, "/v1/push/devices/\(id)/topics/a!b", headers: ann.headers)
            #expect(bad.status == .badRequest)
            #expect(bad.errorMessage?.contains("topic") == true)
            // The path is percent-decoded: `%25` is a `%` in the name; a lone `%` is not valid encoding.
            #expect(try await http.send(.put, "/v1/push/devices/\(id)/topics/50%25off", headers: ann.headers).status == .noContent)
            #expect(try await http.send(.get, "/v1/push/devices/\(id)", headers: ann.headers).json["topics"]?.arrayCount == 2)
            let lone = try await http.send(.put, "/v1/push/devices/\(id)/topics/50%off", headers: ann.headers)
            #expect(lone.status == .badRequest)
            #expect(lone.errorMessage?.contains("write % as %25") == true)
        }
    }

    static let badRegistrations: [(body: String, mentions: String)] = [
        (#"{"token": "x"}"#, "body.platform is missing"),
        (#"{"platform": "sms", "token": "x"}"#, "body.platform"),
        (#"{"platform": "apns", "token": "not-hex"}"#, "body.token"),
        (#"{"platform": "apns"}"#, "body.token is missing"),
        (#"{"platform": "fcm", "token": "has space"}"#, "body.token"),
        (#"{"platform": "fcm", "token": "t", "color": "red"}"#, "unknown field \"color\""),
        (#"{"platform": "fcm", "token": "t", "locale": "en GB"}"#, "body.locale"),
        (#"{"platform": "webpush"}"#, "body.subscription is missing"),
        (#"{"platform": "webpush", "subscription": {"endpoint": "http://10.0.0.1/x", "keys": {"p256dh": "AA", "auth": "AA"}}}"#, "body.subscription.endpoint"),
        (#"{"platform": "webpush", "subscription": {"endpoint": "https://push.example/x", "keys": {"p256dh": "AAAA", "auth": "AAAAAAAAAAAAAAAAAAAAAA"}}}"#, "p256dh"),
        (#"{"platform": "fcm", "token": "t", "uid": "someone"}"#, "only admins"),
        (#"[1]"#, "body must be a JSON object"),
    ]

    @Test func badRegistrationsAreRefusedNamingTheField() async throws {
        try await Self.withServer { http, _ in
            let ann = try await http.signUp("ann@example.com")
            for (body, mentions) in Self.badRegistrations {
                let reply = try await http.send(.post, "/v1/push/devices", body: body, headers: ann.headers)
                #expect((400..<500).contains(reply.status.code), "\(body)")
                #expect(reply.errorMessage?.contains(mentions) == true, "\(body): \(reply.text)")
            }
            #expect(try await http.send(.get, "/v1/push/devices", headers: ann.headers).json["devices"]?.arrayCount == 0)
        }
    }

    @Test func devicesNeedASignedInCaller() async throws {
        try await Self.withServer { http, _ in
            let reply = try await http.send(.post, "/v1/push/devices", body: #"{"platform": "fcm", "token": "t"}"#)
            #expect(reply.status == .unauthorized)
            #expect(reply.errorCode == "unauthenticated")
        }
    }

    @Test func onlyAdminsAndServiceAccountsWithThePushScopeSend() async throws {
        try await Self.withServer { http, admin in
            let message = #"{"to": {"topic": "news"}, "notification": {"title": "Hi"}}"#
            #expect(try await http.send(.post, "/v1/push/messages", body: message).status == .unauthorized)
            let ann = try await http.signUp("ann@example.com")
            let denied = try await http.send(.post, "/v1/push/messages", body: message, headers: ann.headers)
            #expect(denied.status == .forbidden)
            #expect(denied.errorCode == "permission-denied")
            #expect(try await http.send(.get, "/v1/admin/push/dead-letters", headers: ann.headers).status == .forbidden)
            // A service account with the push scope may send, but is not an admin.
            let client = try await http.send(.post, "/v1/admin/clients", body: #"{"name": "notifier", "scopes": ["push"]}"#, headers: admin.headers).json
            let notifier = try await http.serviceToken(
                clientID: try #require(client["client_id"]?.stringValue), secret: try #require(client["client_secret"]?.stringValue))
            let sent = try await http.send(.post, "/v1/push/messages", body: message, headers: notifier.headers)
            #expect(sent.status == .accepted)
            #expect(try sent.json["deliveries"] == .integer(0))
            let id = try #require(try sent.json["id"]?.stringValue)
            #expect(try await http.send(.get, "/v1/push/messages/\(id)", headers: notifier.headers).status == .ok)
            #expect(try await http.send(.get, "/v1/push/messages/\(id)", headers: ann.headers).status == .forbidden)
            #expect(try await http.send(.get, "/v1/admin/push/dead-letters", headers: notifier.headers).status == .forbidden)
        }
    }

    static let badMessages: [(body: String, mentions: String)] = [
        (#"{"notification": {"title": "x"}}"#, "body.to is missing"),
        (#"{"to": {"phone": "1"}, "notification": {"title": "x"}}"#, "unknown field \"phone\""),
        (#"{"to": {"uid": "a", "topic": "b"}, "notification": {"title": "x"}}"#, "exactly one of device, uid, topic"),
        (#"{"to": [], "notification": {"title": "x"}}"#, "1 to 100 targets"),
        (#"{"to": [{"topic": "a b"}], "notification": {"title": "x"}}"#, "body.to[0].topic"),
        (#"{"to": {"uid": "a"}}"#, "needs a notification, data, or both"),
        (#"{"to": {"uid": "a"}, "notification": {}}"#, "body.notification needs at least one"),
        (#"{"to": {"uid": "a"}, "notification": {"title": 3}}"#, "body.notification.title must be a string"),
        (#"{"to": {"uid": "a"}, "data": {"k": "v"}, "priority": "urgent"}"#, "body.priority"),
        (#"{"to": {"uid": "a"}, "data": {"k": "v"}, "ttl": 99999999}"#, "body.ttl"),
        (#"{"to": {"uid": "a"}, "data": {"k": "v"}, "ttl": -1}"#, "body.ttl"),
        (#"{"to": {"uid": "a"}, "data": [1]}"#, "body.data must be an object"),
        (#"{"to": {"uid": "a"}, "data": {"k": "v"}, "extra": 1}"#, "unknown field \"extra\""),
        (#"{"to": [{"uid": "a"}, {"device": "nope"}], "data": {"k": "v"}}"#, "body.to[1].device"),
    ]

    @Test func badMessagesAreRefusedNamingTheField() async throws {
        try await Self.withServer { http, admin in
            for (body, mentions) in Self.badMessages {
                let reply = try await http.send(.post, "/v1/push/messages", body: body, headers: admin.headers)
                #expect((400..<500).contains(reply.status.code), "\(body)")
                #expect(reply.errorMessage?.contains(mentions) == true, "\(body): \(reply.text)")
            }
        }
    }

    @Test func anUnknownMessageOrDeadLetterIsNotFound() async throws {
        try await Self.withServer { (http, admin) async throws -> Void in
            #expect(try await http.send(.get, "/v1/push/messages/nope", headers: admin.headers).status == .notFound)
            #expect(try await http.send(.post, "/v1/admin/push/dead-letters/nope/retry", headers: admin.headers).status == .notFound)
            #expect(try await http.send(.post, "/v1/admin/push/dead-letters/retry", headers: admin.headers).json["retried"] == .integer(0))
            #expect(try await http.send(.get, "/v1/push/webpush/vapid-key").status == .notFound)
        }
    }
}
