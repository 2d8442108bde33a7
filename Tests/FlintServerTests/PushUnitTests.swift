import Crypto
import FlintCore
@testable import FlintServer
import FlintTestSupport
import Foundation
import Testing

/// The push parts with no network: RFC 8291's test vector, the circuit breaker, the backoff, Retry-After, settings.
@Suite struct PushUnitTests {
    static func b64(_ text: String) -> [UInt8] { CompactJWT.base64URLDecode(text)! }

    /// RFC 8291, Appendix A: the same keys and salt give exactly the RFC's message body.
    @Test func webPushEncryptionMatchesRFC8291AppendixA() throws {
        let senderKey = try P256.KeyAgreement.PrivateKey(rawRepresentation: Self.b64("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"))
        #expect(
            CompactJWT.base64URL(senderKey.publicKey.x963Representation)
                == "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8")
        let body = try WebPushEncryption.encrypt(
            Array("When I grow up, I want to be a watermelon".utf8),
            uaPublic: Self.b64("BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"),
            authSecret: Self.b64("BTBZMqHH6r4Tts7J_aSIgg"), senderKey: senderKey, salt: Self.b64("DGv6ra1nlYgDCS1FRnbzlw"))
        #expect(
            CompactJWT.base64URL(body)
                == "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN")
    }

    @Test func webPushEncryptionRefusesWhatCannotBeSent() {
        let key = P256.KeyAgreement.PrivateKey().publicKey.x963Representation
        #expect(throws: WebPushEncryption.EncryptionError.tooLarge(4000)) {
            try WebPushEncryption.encrypt([UInt8](repeating: 1, count: 4000), uaPublic: Array(key), authSecret: [UInt8](repeating: 0, count: 16))
        }
        #expect(throws: WebPushEncryption.EncryptionError.badSubscriptionKey) {
            try WebPushEncryption.encrypt([1], uaPublic: [4, 1, 2], authSecret: [UInt8](repeating: 0, count: 16))
        }
    }

    @Test func circuitBreakerOpensAfterConsecutiveFailuresAndHalfOpensAfterThePause() {
        var breaker = CircuitBreaker(threshold: 3, pause: .seconds(30))
        let start = ContinuousClock.now
        func at(_ seconds: Int) -> ContinuousClock.Instant { start + .seconds(seconds) }
        #expect(breaker.permit(now: start) == .any)
        breaker.record(worked: false, started: start, now: start)
        breaker.record(worked: false, started: start, now: start)
        breaker.record(worked: true, started: start, now: start)
        #expect(breaker.permit(now: start) == .any, "a success resets the count")
        for _ in 0..<3 { breaker.record(worked: false, started: start, now: at(1)) }
        #expect(breaker.isOpen)
        #expect(breaker.permit(now: at(30)) == .none(until: at(31)))
        // After the pause, one probe and only one.
        #expect(breaker.permit(now: at(31)) == .probe)
        #expect(breaker.permit(now: at(32)) == .none(until: nil))
        // A send that started before the breaker opened ends now: stale news, ignored.
        breaker.record(worked: true, started: start, now: at(32))
        #expect(breaker.permit(now: at(32)) == .none(until: nil))
        // The probe fails: open for another pause.
        breaker.record(worked: false, started: at(31), now: at(33))
        #expect(breaker.permit(now: at(34)) == .none(until: at(63)))
        #expect(breaker.permit(now: at(63)) == .probe)
        // A probe that found nothing to send is given back.
        breaker.releaseProbe()
        #expect(breaker.permit(now: at(64)) == .probe)
        // The probe works: closed again.
        breaker.record(worked: true, started: at(64), now: at(65))
        #expect(!breaker.isOpen)
        #expect(breaker.permit(now: at(65)) == .any)
    }

    @Test func backoffIsExponentialWithFullJitterCappedAndHonoursRetryAfter() {
        let policy = RetryPolicy(base: .seconds(1), cap: .seconds(60), maximumAttempts: 10)
        #expect(policy.delay(after: 1, retryAfter: nil, random: 1) == .seconds(1))
        #expect(policy.delay(after: 3, retryAfter: nil, random: 1) == .seconds(4))
        #expect(policy.delay(after: 3, retryAfter: nil, random: 0.5) == .seconds(2))
        #expect(policy.delay(after: 3, retryAfter: nil, random: 0) == .zero)
        #expect(policy.delay(after: 20, retryAfter: nil, random: 1) == .seconds(60))
        #expect(policy.delay(after: 1, retryAfter: .seconds(30), random: 1) == .seconds(30))
        #expect(policy.delay(after: 10, retryAfter: .seconds(5), random: 1) == .seconds(60))
    }

    @Test func retryAfterReadsSecondsAndHTTPDates() {
        #expect(PushHTTP.retryAfter("120") == .seconds(120))
        #expect(PushHTTP.retryAfter(nil) == nil)
        #expect(PushHTTP.retryAfter("soon") == nil)
        let now = Date(timeIntervalSince1970: 1_445_412_480)  // Wed, 21 Oct 2015 07:28:00 GMT
        #expect(PushHTTP.retryAfter("Wed, 21 Oct 2015 07:28:30 GMT", now: now) == .seconds(30))
        #expect(PushHTTP.retryAfter("Wed, 21 Oct 2015 07:27:00 GMT", now: now) == .zero)
    }

    @Test func webPushTopicsFitRFC8030() {
        #expect(WebPushProvider.topic("scores") == "scores")
        let hashed = WebPushProvider.topic("game scores: today!")
        #expect(hashed.count == 32)
        #expect(hashed.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
    }

    @Test func apnsPayloadAndHeadersFollowApple() {
        let content = PushContent(
            notification: PushNotification(title: "Hi", body: "There", badge: 3, sound: "default"), data: ["room": .string("r1")],
            priority: .normal, timeToLive: 60, collapseKey: "chat")
        let device = PushDevice(
            id: "d", uid: "u", platform: .apns, token: "ab", active: true, createTime: Timestamp(microseconds: 0),
            updateTime: Timestamp(microseconds: 0))
        let delivery = Delivery(id: "x", messageID: "m", attempt: 1, device: device, content: content, messageTime: Timestamp(microseconds: 1_000_000_000))
        let headers = Dictionary(uniqueKeysWithValues: APNsProvider.headers(for: delivery, topic: "com.example.app"))
        #expect(headers["apns-topic"] == "com.example.app")
        #expect(headers["apns-push-type"] == "alert")
        #expect(headers["apns-priority"] == "5")
        #expect(headers["apns-expiration"] == "1060")
        #expect(headers["apns-collapse-id"] == "chat")
        #expect(
            APNsProvider.payload(for: content)
                == .object([
                    "aps": .object(["alert": .object(["title": .string("Hi"), "body": .string("There")]), "badge": .integer(3), "sound": .string("default")]),
                    "room": .string("r1"),
                ]))
        let background = PushContent(notification: nil, data: ["sync": .bool(true)])
        #expect(APNsProvider.payload(for: background)["aps"] == .object(["content-available": .integer(1)]))
    }

    @Test(arguments: [
        (#"{"apns": {"keyId": "K", "teamId": "T", "topic": "t", "key": "nope"}}"#, "apns.key"),
        (#"{"fcm": {}}"#, "serviceAccountPath"),
        (#"{"webpush": {"subject": "push@example.com"}}"#, "mailto:"),
        (#"{"webhook": {"url": "ftp://x", "secret": "0123456789abcdef"}}"#, "webhook.url"),
        (#"{"webhook": {"url": "https://x.example", "secret": "short"}}"#, "16 characters"),
        (#"{"sms": {}}"#, "unknown field \"sms\""),
        (#"[1]"#, "must be a JSON object"),
    ])
    func badPushConfigurationIsRefusedNamingTheSetting(json: String, mentions: String) {
        var configuration = FlintServer.Configuration()
        do {
            try configuration.apply(environment: ["FLINT_PUSH_CONFIG": json])
            Issue.record("\(json) was accepted")
        } catch {
            #expect(error.description.contains(mentions), "\(error.description)")
        }
    }

    @Test func pushTuningComesFromVariablesAndFlags() throws {
        var configuration = FlintServer.Configuration()
        try configuration.apply(
            environment: ["FLINT_PUSH_CONCURRENCY": "3", "FLINT_PUSH_LEASE": "5"], flags: ["FLINT_PUSH_MAX_ATTEMPTS": "4", "FLINT_PUSH_LEASE": "7"])
        #expect(configuration.push.concurrency == 3)
        #expect(configuration.push.maximumAttempts == 4)
        #expect(configuration.push.leaseSeconds == 7)
        #expect(throws: ConfigurationError.self) { try configuration.apply(environment: ["FLINT_PUSH_MAX_ATTEMPTS": "0"]) }
    }
}
