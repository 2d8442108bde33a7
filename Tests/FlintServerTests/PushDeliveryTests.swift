import FlintCore
@testable import FlintServer
import FlintTestSupport
import Foundation
import Testing

/// Messages reach real protocol stand-ins (Tests/PushStandIn/standin.py) over real sockets: each stand-in checks
/// the credentials and formats the real service checks, and the tests read what it received.
@Suite(.serialized) struct PushDeliveryTests {
    static let token = String(repeating: "0f1e2d3c", count: 8)

    @Test func apnsGetsHTTP2RequestsWithAppleHeadersAndOneReusedProviderToken() async throws {
        try await PushHarness.run { push in
            let ann = try await push.http.signUp("ann@example.com")
            let device = try await push.register(ann, .object(["platform": .string("apns"), "token": .string(Self.token)]))
            let message: JSON = .object([
                "to": .object(["device": .string(device)]),
                "notification": .object(["title": .string("Hello"), "body": .string("World"), "badge": .integer(2), "sound": .string("default")]),
                "data": .object(["room": .string("r1")]), "priority": .string("high"), "ttl": .integer(3600), "collapseKey": .string("chat-r1"),
            ])
            let first = try await push.send(message)
            let second = try await push.send(.object(["to": .object(["uid": .string(ann.uid)]), "data": .object(["sync": .bool(true)])]))
            for id in [first, second] {
                let settled = try await push.settled(id)
                #expect(settled["counts"]?["delivered"] == .integer(1), "\(settled)")
                #expect(settled["deliveries"]?[0]?["attempts"] == .integer(1))
            }
            let requests = try await push.standIn.requests(kind: "apns")
            try #require(requests.count == 2)
            for request in requests {
                #expect(request["verified"] == .bool(true), "\(request["errors"] ?? .null)")
                #expect(request["httpVersion"] == .string("2"))
                #expect(request["scheme"] == .string("https"))
                #expect(request["path"] == .string("/3/device/\(Self.token)"))
                #expect(request["headers"]?["apns-topic"] == .string("com.example.flint"))
            }
            let alert = try #require(requests.first { $0["headers"]?["apns-push-type"] == .string("alert") })
            #expect(alert["headers"]?["apns-priority"] == .string("10"))
            #expect(alert["headers"]?["apns-collapse-id"] == .string("chat-r1"))
            let expiration = try #require(alert["headers"]?["apns-expiration"]?.stringValue.flatMap { Int($0) })
            #expect(abs(expiration - Int(Date().timeIntervalSince1970) - 3600) < 600)
            #expect(
                alert["json"]
                    == .object([
                        "aps": .object([
                            "alert": .object(["title": .string("Hello"), "body": .string("World")]), "badge": .integer(2), "sound": .string("default"),
                        ]), "room": .string("r1"),
                    ]))
            let background = try #require(requests.first { $0["headers"]?["apns-push-type"] == .string("background") })
            #expect(background["headers"]?["apns-priority"] == .string("5"))
            #expect(background["json"] == .object(["aps": .object(["content-available": .integer(1)]), "sync": .bool(true)]))
            #expect(requests[0]["jwt"] != nil)
            #expect(requests[0]["jwt"] == requests[1]["jwt"], "the provider token is reused")
        }
    }

    @Test func apnsBadDeviceTokenDeactivatesTheDevice() async throws {
        try await PushHarness.run { push in
            let ann = try await push.http.signUp("ann@example.com")
            let device = try await push.register(ann, .object(["platform": .string("apns"), "token": .string(Self.token)]))
            try await push.standIn.script("/3/device/", [.object(["status": .integer(400), "body": .object(["reason": .string("BadDeviceToken")])])])
            let settled = try await push.settled(try await push.send(.object(["to": .object(["uid": .string(ann.uid)]), "notification": .object(["title": .string("x")])])))
            #expect(settled["deliveries"]?[0]?["state"] == .string("failed"))
            #expect(settled["deliveries"]?[0]?["lastError"]?.stringValue?.contains("BadDeviceToken") == true)
            let state = try await push.http.send(.get, "/v1/push/devices/\(device)", headers: ann.headers).json
            #expect(state["active"] == .bool(false))
            #expect(state["inactiveReason"]?.stringValue?.contains("BadDeviceToken") == true)
            // An inactive device is not sent to again; registering it again reactivates it.
            let next = try await push.send(.object(["to": .object(["uid": .string(ann.uid)]), "notification": .object(["title": .string("y")])]))
            #expect(try await push.settled(next)["deliveries"]?.arrayCount == 0)
            _ = try await push.register(ann, .object(["platform": .string("apns"), "token": .string(Self.token)]))
            #expect(try await push.http.send(.get, "/v1/push/devices/\(device)", headers: ann.headers).json["active"] == .bool(true))
            #expect(try await push.standIn.requests(kind: "apns").count == 1)
        }
    }

    @Test func aThrottledSendWaitsForRetryAfterThenDelivers() async throws {
        try await PushHarness.run { push in
            let ann = try await push.http.signUp("ann@example.com")
            _ = try await push.register(ann, .object(["platform": .string("apns"), "token": .string(Self.token)]))
            try await push.standIn.script(
                "/3/device/",
                [.object(["status": .integer(429), "headers": .object(["retry-after": .string("1")]), "body": .object(["reason": .string("TooManyRequests")])])])
            let settled = try await push.settled(try await push.send(.object(["to": .object(["uid": .string(ann.uid)]), "notification": .object(["title": .string("x")])])))
            #expect(settled["deliveries"]?[0]?["state"] == .string("delivered"))
            #expect(settled["deliveries"]?[0]?["attempts"] == .integer(2))
            let requests = try await push.standIn.requests(kind: "apns")
            try #require(requests.count == 2)
            // The backoff alone (10 ms base) would have retried at once; Retry-After said one second.
            let gap = try #require(requests[1]["time"]?.doubleValue) - (try #require(requests[0]["time"]?.doubleValue))
            #expect(gap >= 1.0)
        }
    }

    @Test func fcmTradesTheServiceAccountForOneAccessTokenAndSends() async throws {
        try await PushHarness.run { push in
            let ann = try await push.http.signUp("ann@example.com")
            _ = try await push.register(ann, .object(["platform": .string("fcm"), "token": .string("fcm-registration-token-1")]))
            let message: JSON = .object([
                "to": .object(["uid": .string(ann.uid)]), "notification": .object(["title": .string("Hi"), "image": .string("https://example.com/a.png")]),
                "data": .object(["n": .integer(7), "s": .string("x")]), "priority": .string("normal"), "ttl": .integer(60), "collapseKey": .string("k"),
            ])
            for id in [try await push.send(message), try await push.send(message)] {
                #expect(try await push.settled(id)["counts"]?["delivered"] == .integer(1))
            }
            let tokens = try await push.standIn.requests(kind: "fcm-token")
            #expect(tokens.count == 1, "the access token is cached")
            #expect(tokens.first?["verified"] == .bool(true), "\(tokens.first?["errors"] ?? .null)")
            let sends = try await push.standIn.requests(kind: "fcm")
            try #require(sends.count == 2)
            #expect(sends.allSatisfy { $0["verified"] == .bool(true) })
            #expect(sends[0]["path"] == .string("/v1/projects/flint-test/messages:send"))
            let body = try #require(sends[0]["json"]?["message"])
            #expect(body["token"] == .string("fcm-registration-token-1"))
            #expect(body["notification"] == .object(["title": .string("Hi"), "image": .string("https://example.com/a.png")]))
            #expect(body["data"] == .object(["n": .string("7"), "s": .string("x")]), "FCM data values are strings")
            #expect(body["android"] == .object(["priority": .string("NORMAL"), "ttl": .string("60s"), "collapse_key": .string("k")]))
        }
    }

    @Test func fcmRetriesUnavailableAndDeactivatesUnregisteredAndInvalidTokens() async throws {
        try await PushHarness.run { push in
            let ann = try await push.http.signUp("ann@example.com")
            let bob = try await push.http.signUp("bob@example.com")
            _ = try await push.register(ann, .object(["platform": .string("fcm"), "token": .string("ann-token")]))
            let bobDevice = try await push.register(bob, .object(["platform": .string("fcm"), "token": .string("bob-token")]))
            func error(_ code: Int64, _ status: String) -> JSON {
                .object([
                    "status": .integer(code),
                    "body": .object([
                        "error": .object([
                            "code": .integer(code), "message": .string(status), "status": .string(status),
                            "details": .array([.object(["@type": .string("type.googleapis.com/google.firebase.fcm.v1.FcmError"), "errorCode": .string(status)])]),
                        ])
                    ]),
                ])
            }
            try await push.standIn.script("/v1/projects/", [error(503, "UNAVAILABLE"), error(500, "INTERNAL")])
            let retried = try await push.settled(try await push.send(.object(["to": .object(["uid": .string(ann.uid)]), "data": .object(["a": .string("b")])])))
            #expect(retried["deliveries"]?[0]?["state"] == .string("delivered"))
            #expect(retried["deliveries"]?[0]?["attempts"] == .integer(3))
            try await push.standIn.script("/v1/projects/", [error(404, "UNREGISTERED")])
            let gone = try await push.settled(try await push.send(.object(["to": .object(["uid": .string(bob.uid)]), "data": .object(["a": .string("b")])])))
            #expect(gone["deliveries"]?[0]?["state"] == .string("failed"))
            #expect(try await push.http.send(.get, "/v1/push/devices/\(bobDevice)", headers: bob.headers).json["active"] == .bool(false))
            // INVALID_ARGUMENT about the token deactivates too; about something else it only fails the delivery.
            let carol = try await push.http.signUp("carol@example.com")
            let carolDevice = try await push.register(carol, .object(["platform": .string("fcm"), "token": .string("carol-token")]))
            func invalid(_ field: String) -> JSON {
                .object([
                    "status": .integer(400),
                    "body": .object([
                        "error": .object([
                            "code": .integer(400), "message": .string("Invalid value"), "status": .string("INVALID_ARGUMENT"),
                            "details": .array([
                                .object([
                                    "@type": .string("type.googleapis.com/google.rpc.BadRequest"),
                                    "fieldViolations": .array([.object(["field": .string(field), "description": .string("Invalid value")])]),
                                ])
                            ]),
                        ])
                    ]),
                ])
            }
            try await push.standIn.script("/v1/projects/", [invalid("message.data[0].key"), invalid("message.token")])
            let badPayload = try await push.settled(try await push.send(.object(["to": .object(["uid": .string(carol.uid)]), "data": .object(["a": .string("b")])])))
            #expect(badPayload["deliveries"]?[0]?["state"] == .string("failed"))
            #expect(try await push.http.send(.get, "/v1/push/devices/\(carolDevice)", headers: carol.headers).json["active"] == .bool(true))
            _ = try await push.settled(try await push.send(.object(["to": .object(["uid": .string(carol.uid)]), "data": .object(["a": .string("c")])])))
            #expect(try await push.http.send(.get, "/v1/push/devices/\(carolDevice)", headers: carol.headers).json["active"] == .bool(false))
        }
    }

    @Test func webPushPayloadsDecryptAtTheServiceAndCarryAValidVAPIDSignature() async throws {
        try await PushHarness.run { push in
            let ann = try await push.http.signUp("ann@example.com")
            _ = try await push.register(ann, push.webPushDevice("sub1"))
            let id = try await push.send(
                .object([
                    "to": .object(["uid": .string(ann.uid)]), "notification": .object(["title": .string("Hello"), "body": .string("Web")]),
                    "data": .object(["url": .string("/rooms/r1")]), "priority": .string("normal"), "ttl": .integer(120), "collapseKey": .string("news"),
                ]))
            #expect(try await push.settled(id)["counts"]?["delivered"] == .integer(1))
            let requests = try await push.standIn.requests(kind: "webpush")
            try #require(requests.count == 1)
            let request = requests[0]
            #expect(request["verified"] == .bool(true), "\(request["errors"] ?? .null)")
            #expect(request["path"] == .string("/push/sub1"))
            #expect(request["headers"]?["ttl"] == .string("120"))
            #expect(request["headers"]?["urgency"] == .string("normal"))
            #expect(request["headers"]?["topic"] == .string("news"))
            let plaintext = try #require(request["plaintext"]?.stringValue)
            #expect(
                try JSON(parsing: plaintext)
                    == .object([
                        "messageId": .string(id), "notification": .object(["title": .string("Hello"), "body": .string("Web")]),
                        "data": .object(["url": .string("/rooms/r1")]),
                    ]))
            // Browsers subscribe with the same key the server signs with.
            let key = try await push.http.send(.get, "/v1/push/webpush/vapid-key").json["publicKey"]
            #expect(key == request["vapidKey"])
        }
    }

    @Test func aGoneWebPushSubscriptionIsDeactivated() async throws {
        try await PushHarness.run { push in
            let ann = try await push.http.signUp("ann@example.com")
            let device = try await push.register(ann, push.webPushDevice("sub2"))
            try await push.standIn.script("/push/sub2", [.object(["status": .integer(410)])])
            let settled = try await push.settled(try await push.send(.object(["to": .object(["device": .string(device)]), "data": .object(["a": .string("b")])])))
            #expect(settled["deliveries"]?[0]?["state"] == .string("failed"))
            #expect(try await push.http.send(.get, "/v1/push/devices/\(device)", headers: ann.headers).json["active"] == .bool(false))
        }
    }

    @Test func webhooksAreSignedAndDeadLettersAreRetriedByAnAdmin() async throws {
        try await PushHarness.run(tune: { $0.maximumAttempts = 2 }) { push in
            let ann = try await push.http.signUp("ann@example.com")
            let device = try await push.register(ann, .object(["platform": .string("webhook"), "token": .string("ann-inbox"), "locale": .string("en")]))
            try await push.standIn.script("/webhook", [.object(["status": .integer(500)]), .object(["status": .integer(503)])])
            let id = try await push.send(.object(["to": .object(["device": .string(device)]), "notification": .object(["title": .string("x")])]))
            let dead = try await push.settled(id)
            #expect(dead["deliveries"]?[0]?["state"] == .string("dead"))
            #expect(dead["deliveries"]?[0]?["attempts"] == .integer(2))
            let delivery = try #require(dead["deliveries"]?[0]?["id"]?.stringValue)
            let letters = try await push.http.send(.get, "/v1/admin/push/dead-letters", headers: push.admin.headers).json["deadLetters"]
            #expect(letters?.arrayCount == 1)
            #expect(letters?[0]?["id"] == .string(delivery))
            #expect(letters?[0]?["lastError"]?.stringValue?.contains("503") == true)
            let retried = try await push.http.send(.post, "/v1/admin/push/dead-letters/\(delivery)/retry", headers: push.admin.headers)
            #expect(try retried.json["retried"] == .integer(1))
            let settled = try await push.settled(id)
            #expect(settled["deliveries"]?[0]?["state"] == .string("delivered"))
            #expect(try await push.http.send(.get, "/v1/admin/push/dead-letters", headers: push.admin.headers).json["deadLetters"] == .array([]))
            let requests = try await push.standIn.requests(kind: "webhook")
            #expect(requests.count == 3)
            #expect(requests.allSatisfy { $0["verified"] == .bool(true) }, "the HMAC signature verifies")
            #expect(Set(requests.compactMap { $0["headers"]?["flint-delivery"]?.stringValue }) == [delivery])
            let body = try #require(requests.last?["json"])
            #expect(body["device"]?["token"] == .string("ann-inbox"))
            #expect(body["device"]?["locale"] == .string("en"))
            #expect(body["content"]?["notification"] == .object(["title": .string("x")]))
        }
    }

    @Test func retryingAllDeadLettersRequeuesEveryOne() async throws {
        try await PushHarness.run(tune: { $0.maximumAttempts = 1 }) { push in
            let ann = try await push.http.signUp("ann@example.com")
            _ = try await push.register(ann, .object(["platform": .string("webhook"), "token": .string("a")]))
            _ = try await push.register(ann, .object(["platform": .string("webhook"), "token": .string("b")]))
            try await push.standIn.script("/webhook", [.object(["status": .integer(500)]), .object(["status": .integer(500)])])
            let id = try await push.send(.object(["to": .object(["uid": .string(ann.uid)]), "data": .object(["a": .string("b")])]))
            #expect(try await push.settled(id)["counts"]?["dead"] == .integer(2))
            let retried = try await push.http.send(.post, "/v1/admin/push/dead-letters/retry", headers: push.admin.headers)
            #expect(try retried.json["retried"] == .integer(2))
            #expect(try await push.settled(id)["counts"]?["delivered"] == .integer(2))
        }
    }

    @Test func usersTopicsAndListsFanOutToOneDeliveryPerDevice() async throws {
        try await PushHarness.run { push in
            let ann = try await push.http.signUp("ann@example.com")
            let bob = try await push.http.signUp("bob@example.com")
            let ann1 = try await push.register(ann, .object(["platform": .string("webhook"), "token": .string("ann-1")]))
            let ann2 = try await push.register(ann, .object(["platform": .string("webhook"), "token": .string("ann-2")]))
            let bob1 = try await push.register(bob, .object(["platform": .string("webhook"), "token": .string("bob-1")]))
            for (user, device) in [(ann, ann1), (bob, bob1)] {
                #expect(try await push.http.send(.put, "/v1/push/devices/\(device)/topics/news", headers: user.headers).status == .noContent)
            }
            let both = try await push.send(.object(["to": .array([.object(["uid": .string(ann.uid)]), .object(["topic": .string("news")])]), "data": .object(["m": .string("1")])]))
            let settled = try await push.settled(both)
            #expect(settled["counts"]?["delivered"] == .integer(3))
            let topic = try await push.send(.object(["to": .object(["topic": .string("news")]), "data": .object(["m": .string("2")])]))
            #expect(try await push.settled(topic)["counts"]?["delivered"] == .integer(2))
            let requests = try await push.standIn.requests(kind: "webhook")
            func recipients(_ marker: String) -> [String] {
                requests.filter { $0["json"]?["content"]?["data"]?["m"] == .string(marker) }.compactMap { $0["json"]?["device"]?["id"]?.stringValue }.sorted()
            }
            #expect(recipients("1") == [ann1, ann2, bob1].sorted())
            #expect(recipients("2") == [ann1, bob1].sorted())
            _ = ann2
        }
    }

    @Test func theSameIdempotencyKeyNeverSendsTwice() async throws {
        try await PushHarness.run { push in
            let ann = try await push.http.signUp("ann@example.com")
            _ = try await push.register(ann, .object(["platform": .string("webhook"), "token": .string("ann-1")]))
            let message: JSON = .object(["to": .object(["uid": .string(ann.uid)]), "data": .object(["a": .string("b")]), "idempotencyKey": .string("order-42")])
            let first = try await push.send(message)
            _ = try await push.settled(first)
            let again = try await push.http.send(.post, "/v1/push/messages", body: message.text, headers: push.admin.headers)
            #expect(again.status == .accepted)
            #expect(try again.json["id"] == .string(first))
            #expect(try again.json["duplicate"] == .bool(true))
            // The header form is the same key.
            let header = try await push.http.send(
                .post, "/v1/push/messages", body: #"{"to": {"uid": "\#(ann.uid)"}, "data": {"a": "b"}}"#,
                headers: [.authorization: "Bearer \(push.admin.token)", .init("Idempotency-Key")!: "order-42"])
            #expect(try header.json["id"] == .string(first))
            let different = try await push.http.send(
                .post, "/v1/push/messages", body: #"{"to": {"uid": "\#(ann.uid)"}, "data": {"a": "c"}, "idempotencyKey": "order-42"}"#,
                headers: push.admin.headers)
            #expect(different.status == .conflict)
            #expect(try await push.standIn.requests(kind: "webhook").count == 1)
        }
    }

    @Test func anOpenCircuitBreakerPausesAProviderThenProbesIt() async throws {
        try await PushHarness.run(tune: {
            $0.breakerFailures = 2
            $0.breakerPauseSeconds = 1
            $0.maximumAttempts = 5
        }) { push in
            let ann = try await push.http.signUp("ann@example.com")
            _ = try await push.register(ann, .object(["platform": .string("webhook"), "token": .string("ann-1")]))
            try await push.standIn.script("/webhook", [.object(["status": .integer(503)]), .object(["status": .integer(503)])])
            let id = try await push.send(.object(["to": .object(["uid": .string(ann.uid)]), "data": .object(["a": .string("b")])]))
            let settled = try await push.settled(id)
            #expect(settled["deliveries"]?[0]?["state"] == .string("delivered"))
            let requests = try await push.standIn.requests(kind: "webhook")
            try #require(requests.count == 3)
            // Two failures opened the breaker: the third attempt (the probe) waited out the pause although the
            // backoff (10 ms base, 1 s cap) was due sooner.
            let pause = try #require(requests[2]["time"]?.doubleValue) - (try #require(requests[1]["time"]?.doubleValue))
            #expect(pause >= 1.0)
            let metrics = try await push.http.send(.get, "/metrics").text
            #expect(metrics.contains(#"flint_push_attempts_total{provider="webhook",outcome="retried"} 2"#))
            #expect(metrics.contains(#"flint_push_attempts_total{provider="webhook",outcome="delivered"} 1"#))
            #expect(metrics.contains("flint_push_delivery_latency_seconds_bucket"))
        }
    }
}
