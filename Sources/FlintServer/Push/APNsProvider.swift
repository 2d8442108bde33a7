import AsyncHTTPClient
import Crypto
import FlintCore
import Foundation
import NIOHTTP1

/// Apple Push Notification service over HTTP/2 with token-based authentication.
///
/// Each request carries an ES256 JWT (`kid` = key id, `iss` = team id, `iat`) signed with the `.p8` key; Apple wants
/// the same token reused and replaced between 20 and 60 minutes after it was made, so it is kept for 50 minutes.
struct APNsProvider: PushProvider {
    let platform = PushPlatform.apns
    let configuration: PushConfiguration.APNs
    let key: P256.Signing.PrivateKey
    let http: PushHTTP
    let tokens = AccessTokenCache()

    /// How long one provider token is used.
    static let tokenLifetime: Duration = .seconds(50 * 60)

    init(configuration: PushConfiguration.APNs, http: PushHTTP) throws {
        self.configuration = configuration
        self.key = try P256.Signing.PrivateKey(pemRepresentation: configuration.keyPEM)
        self.http = http
    }

    func send(_ delivery: Delivery) async -> DeliveryOutcome {
        let token: String
        do {
            token = try await tokens.token { [key, configuration] in
                let input = CompactJWT.signingInput(
                    header: ["alg": "ES256", "kid": configuration.keyID],
                    claims: ["iss": configuration.teamID, "iat": Int(Date().timeIntervalSince1970)])
                let signature = try key.signature(for: Data(input.utf8))
                return ("\(input).\(CompactJWT.base64URL(signature.rawRepresentation))", Self.tokenLifetime)
            }
        } catch {
            return .failed(reason: "APNs: cannot sign the provider token: \(error)")
        }
        var request = HTTPClientRequest(url: "\(configuration.baseURL)/3/device/\(delivery.device.token)")
        request.method = .POST
        for (name, value) in Self.headers(for: delivery, topic: configuration.topic) { request.headers.add(name: name, value: value) }
        request.headers.add(name: "authorization", value: "bearer \(token)")
        request.body = .bytes(Self.payload(for: delivery.content).serialized)
        let reply: PushHTTP.Reply
        do {
            reply = try await http.send(request)
        } catch {
            return .retry(after: nil, reason: "APNs: \(PushHTTP.describe(error))")
        }
        if reply.status == 200 { return .delivered }
        let reason = (try? JSON(parsing: reply.body))?.pushField("reason")?.stringValue ?? "status \(reply.status)"
        switch (reply.status, reason) {
        case (400, "BadDeviceToken"), (400, "DeviceTokenNotForTopic"), (410, _):
            return .deactivateDevice(reason: "APNs: \(reason)")
        case (403, "ExpiredProviderToken"), (403, "InvalidProviderToken"):
            await tokens.invalidate(token)
            return .retry(after: nil, reason: "APNs: \(reason)")
        case (429, _), (500...599, _):
            return .retry(after: reply.retryAfter, reason: "APNs: \(reply.status) \(reason)")
        default:
            return .failed(reason: "APNs: \(reply.status) \(reason)")
        }
    }

    /// The request headers besides `authorization` (Apple's "Sending notification requests to APNs").
    static func headers(for delivery: Delivery, topic: String) -> [(String, String)] {
        let content = delivery.content
        let background = content.notification == nil
        var headers: [(String, String)] = [
            ("content-type", "application/json"),
            ("apns-topic", topic),
            ("apns-push-type", background ? "background" : "alert"),
            // Background pushes must use priority 5.
            ("apns-priority", content.priority == .high && !background ? "10" : "5"),
        ]
        if let ttl = content.timeToLive {
            // 0: deliver now or never. Otherwise the UNIX time after which APNs stops trying.
            let expiration = ttl == 0 ? 0 : delivery.messageTime.microseconds / 1_000_000 + Int64(ttl)
            headers.append(("apns-expiration", String(expiration)))
        }
        if let collapse = content.collapseKey { headers.append(("apns-collapse-id", collapse)) }
        return headers
    }

    /// The JSON payload: `aps` with the alert, badge and sound, and the data beside it.
    static func payload(for content: PushContent) -> JSON {
        var aps: [String: JSON] = [:]
        if let notification = content.notification {
            var alert: [String: JSON] = [:]
            if let title = notification.title { alert["title"] = .string(title) }
            if let body = notification.body { alert["body"] = .string(body) }
            if !alert.isEmpty { aps["alert"] = .object(alert) }
            if let badge = notification.badge { aps["badge"] = .integer(Int64(badge)) }
            if let sound = notification.sound { aps["sound"] = .string(sound) }
            // An image is fetched by the app's notification service extension, which needs mutable-content.
            if notification.image != nil { aps["mutable-content"] = .integer(1) }
        } else {
            aps["content-available"] = .integer(1)
        }
        var root = content.data.filter { $0.key != "aps" }
        if let image = content.notification?.image, root["image"] == nil { root["image"] = .string(image) }
        root["aps"] = .object(aps)
        return .object(root)
    }
}

extension JSON {
    /// An object's member, or nil.
    func pushField(_ key: String) -> JSON? {
        guard case .object(let members) = self else { return nil }
        return members[key]
    }

    var stringValue: String? {
        guard case .string(let s) = self else { return nil }
        return s
    }

    var integerValue: Int64? {
        guard case .integer(let i) = self else { return nil }
        return i
    }
}
