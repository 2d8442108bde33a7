import AsyncHTTPClient
import Crypto
import FlintCore
import Foundation
import NIOHTTP1

/// Webhooks: each delivery is a JSON POST to the app's endpoint, signed so that the endpoint can tell it came from
/// this server and is fresh.
///
/// `Flint-Signature: v1=<hex HMAC-SHA256(secret, "<Flint-Timestamp>.<body>")>`; `Flint-Delivery` names the delivery,
/// the same on every attempt (deliveries are at-least-once, so the receiver can drop repeats).
struct WebhookProvider: PushProvider {
    let platform = PushPlatform.webhook
    let configuration: PushConfiguration.Webhook
    let http: PushHTTP

    func send(_ delivery: Delivery) async -> DeliveryOutcome {
        let body = Self.body(for: delivery).serialized
        let timestamp = String(Int(Date().timeIntervalSince1970))
        var request = HTTPClientRequest(url: configuration.url)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "flint-delivery", value: delivery.id)
        request.headers.add(name: "flint-timestamp", value: timestamp)
        request.headers.add(name: "flint-signature", value: "v1=" + Self.signature(body: body, timestamp: timestamp, secret: configuration.secret))
        request.body = .bytes(body)
        let reply: PushHTTP.Reply
        do {
            reply = try await http.send(request)
        } catch {
            return .retry(after: nil, reason: "webhook: \(PushHTTP.describe(error))")
        }
        switch reply.status {
        case 200..<300: return .delivered
        case 410: return .deactivateDevice(reason: "webhook: 410: the recipient is gone")
        case 408, 429, 500...599: return .retry(after: reply.retryAfter, reason: "webhook: \(reply.status) \(reply.text.prefix(200))")
        default: return .failed(reason: "webhook: \(reply.status) \(reply.text.prefix(200))")
        }
    }

    static func signature(body: [UInt8], timestamp: String, secret: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Array("\(timestamp).".utf8) + body, using: SymmetricKey(data: Array(secret.utf8)))
        return code.map { String(format: "%02x", $0) }.joined()
    }

    static func body(for delivery: Delivery) -> JSON {
        let device = delivery.device
        var recipient: [String: JSON] = ["id": .string(device.id), "uid": .string(device.uid), "token": .string(device.token)]
        if let appID = device.appID { recipient["appId"] = .string(appID) }
        if let locale = device.locale { recipient["locale"] = .string(locale) }
        var members: [String: JSON] = [
            "delivery": .string(delivery.id), "message": .string(delivery.messageID), "attempt": .integer(Int64(delivery.attempt)),
            "device": .object(recipient), "content": delivery.content.json,
        ]
        members["sentTime"] = .string(delivery.messageTime.description)
        return .object(members)
    }
}
