import AsyncHTTPClient
import Crypto
import FlintCore
import Foundation
import NIOHTTP1

/// Web Push: the message encrypted for the subscription (RFC 8291), POSTed to its endpoint (RFC 8030) with a VAPID
/// signature (RFC 8292).
struct WebPushProvider: PushProvider {
    let platform = PushPlatform.webpush
    let configuration: PushConfiguration.WebPush
    let vapidKey: P256.Signing.PrivateKey
    let http: PushHTTP

    /// How long a VAPID token is valid; RFC 8292 §2 allows at most 24 hours.
    static let vapidLifetime = 12 * 3600
    /// RFC 8030 §5.2 requires a TTL; without one from the message, four weeks.
    static let defaultTimeToLive = 28 * 24 * 3600

    func send(_ delivery: Delivery) async -> DeliveryOutcome {
        let device = delivery.device
        guard let p256dh = device.p256dh, let auth = device.auth, let endpoint = URL(string: device.token), let scheme = endpoint.scheme,
            let host = endpoint.host
        else {
            return .deactivateDevice(reason: "Web Push: the subscription lacks its endpoint or keys")
        }
        let body: [UInt8]
        do {
            body = try WebPushEncryption.encrypt(Self.payload(for: delivery).serialized, uaPublic: p256dh, authSecret: auth)
        } catch WebPushEncryption.EncryptionError.tooLarge(let size) {
            return .failed(reason: "Web Push: the payload is \(size) bytes; at most \(WebPushEncryption.maximumPlaintext) fit")
        } catch {
            return .deactivateDevice(reason: "Web Push: the subscription's keys are not usable")
        }
        // RFC 8292 §2: aud is the origin of the push resource.
        let origin = "\(scheme)://\(host)" + (endpoint.port.map { ":\($0)" } ?? "")
        let authorization: String
        do {
            authorization = try vapidAuthorization(audience: origin)
        } catch {
            return .failed(reason: "Web Push: cannot sign the VAPID token: \(error)")
        }
        var request = HTTPClientRequest(url: device.token)
        request.method = .POST
        request.headers.add(name: "authorization", value: authorization)
        request.headers.add(name: "content-encoding", value: "aes128gcm")
        request.headers.add(name: "content-type", value: "application/octet-stream")
        request.headers.add(name: "ttl", value: String(delivery.content.timeToLive ?? Self.defaultTimeToLive))
        request.headers.add(name: "urgency", value: delivery.content.priority == .high ? "high" : "normal")
        if let collapse = delivery.content.collapseKey { request.headers.add(name: "topic", value: Self.topic(collapse)) }
        request.body = .bytes(body)
        let reply: PushHTTP.Reply
        do {
            reply = try await http.send(request)
        } catch {
            return .retry(after: nil, reason: "Web Push: \(PushHTTP.describe(error))")
        }
        switch reply.status {
        case 200..<300: return .delivered
        case 404, 410: return .deactivateDevice(reason: "Web Push: \(reply.status): the subscription is gone")
        case 429, 500...599: return .retry(after: reply.retryAfter, reason: "Web Push: \(reply.status) \(reply.text.prefix(200))")
        default: return .failed(reason: "Web Push: \(reply.status) \(reply.text.prefix(200))")
        }
    }

    /// `vapid t=<JWT>, k=<public key>` (RFC 8292 §3).
    func vapidAuthorization(audience: String, now: Date = Date()) throws -> String {
        let input = CompactJWT.signingInput(
            header: ["typ": "JWT", "alg": "ES256"],
            claims: ["aud": audience, "exp": Int(now.timeIntervalSince1970) + Self.vapidLifetime, "sub": configuration.subject])
        let signature = try vapidKey.signature(for: Data(input.utf8))
        let token = "\(input).\(CompactJWT.base64URL(signature.rawRepresentation))"
        return "vapid t=\(token), k=\(CompactJWT.base64URL(vapidKey.publicKey.x963Representation))"
    }

    /// What the service worker's `push` event reads with `event.data.json()`.
    static func payload(for delivery: Delivery) -> JSON {
        var members: [String: JSON] = ["messageId": .string(delivery.messageID)]
        if let notification = delivery.content.notification { members["notification"] = notification.json }
        if !delivery.content.data.isEmpty { members["data"] = .object(delivery.content.data) }
        return .object(members)
    }

    /// A `Topic` header value: at most 32 characters of the URL-safe base64 alphabet (RFC 8030 §5.4); other keys are
    /// hashed into one.
    static func topic(_ key: String) -> String {
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        if key.count <= 32, key.allSatisfy(allowed.contains) { return key }
        return String(CompactJWT.base64URL(SHA256.hash(data: Array(key.utf8))).prefix(32))
    }
}
