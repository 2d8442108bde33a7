import AsyncHTTPClient
import Crypto
import CryptoExtras
import FlintCore
import Foundation
import NIOHTTP1

/// Firebase Cloud Messaging, HTTP v1 API.
///
/// The service account's key signs an RS256 JWT that is exchanged for an OAuth 2.0 access token (the JWT-bearer
/// grant, RFC 7523), cached until shortly before it expires; each message is one
/// `POST /v1/projects/{project}/messages:send`.
struct FCMProvider: PushProvider {
    let platform = PushPlatform.fcm
    let configuration: PushConfiguration.FCM
    let key: _RSA.Signing.PrivateKey
    let http: PushHTTP
    let tokens = AccessTokenCache()

    static let scope = "https://www.googleapis.com/auth/firebase.messaging"

    init(configuration: PushConfiguration.FCM, http: PushHTTP) throws {
        self.configuration = configuration
        self.key = try _RSA.Signing.PrivateKey(pemRepresentation: configuration.privateKeyPEM)
        self.http = http
    }

    func send(_ delivery: Delivery) async -> DeliveryOutcome {
        let token: String
        do {
            token = try await tokens.token { [self] in try await fetchAccessToken() }
        } catch let error as FCMTokenError {
            return .retry(after: error.retryAfter, reason: "FCM token endpoint: \(error.message)")
        } catch {
            return .retry(after: nil, reason: "FCM token endpoint: \(PushHTTP.describe(error))")
        }
        var request = HTTPClientRequest(url: "\(configuration.baseURL)/v1/projects/\(configuration.projectID)/messages:send")
        request.method = .POST
        request.headers.add(name: "authorization", value: "Bearer \(token)")
        request.headers.add(name: "content-type", value: "application/json; charset=utf-8")
        request.body = .bytes(Self.body(for: delivery).serialized)
        let reply: PushHTTP.Reply
        do {
            reply = try await http.send(request)
        } catch {
            return .retry(after: nil, reason: "FCM: \(PushHTTP.describe(error))")
        }
        if (200..<300).contains(reply.status) { return .delivered }
        let error = (try? JSON(parsing: reply.body))?.pushField("error")
        let status = error?.pushField("status")?.stringValue ?? "HTTP \(reply.status)"
        // The FCM-specific code, when there is one, says more than the generic status.
        var code = status
        var aboutToken = false
        if case .array(let details)? = error?.pushField("details") {
            for detail in details {
                if let errorCode = detail.pushField("errorCode")?.stringValue { code = errorCode }
                if case .array(let violations)? = detail.pushField("fieldViolations") {
                    aboutToken = aboutToken || violations.contains { $0.pushField("field")?.stringValue?.contains("token") == true }
                }
            }
        }
        let message = error?.pushField("message")?.stringValue ?? reply.text.prefix(200).description
        aboutToken = aboutToken || message.localizedCaseInsensitiveContains("registration token")
        let reason = "FCM: \(code): \(message)"
        switch code {
        case "UNREGISTERED":
            return .deactivateDevice(reason: reason)
        case "INVALID_ARGUMENT" where aboutToken:
            return .deactivateDevice(reason: reason)
        case "UNAVAILABLE", "INTERNAL", "QUOTA_EXCEEDED", "RESOURCE_EXHAUSTED":
            return .retry(after: reply.retryAfter, reason: reason)
        case "UNAUTHENTICATED":
            await tokens.invalidate(token)
            return .retry(after: nil, reason: reason)
        default:
            if reply.status == 429 || reply.status >= 500 { return .retry(after: reply.retryAfter, reason: reason) }
            return .failed(reason: reason)
        }
    }

    /// The JWT-bearer grant: a signed assertion for an access token.
    func fetchAccessToken() async throws -> (value: String, lifetime: Duration) {
        let now = Int(Date().timeIntervalSince1970)
        var header: [String: Any] = ["alg": "RS256", "typ": "JWT"]
        if let kid = configuration.privateKeyID { header["kid"] = kid }
        let input = CompactJWT.signingInput(
            header: header,
            claims: ["iss": configuration.clientEmail, "scope": Self.scope, "aud": configuration.tokenURL, "iat": now, "exp": now + 3600])
        let signature = try key.signature(for: Data(input.utf8), padding: .insecurePKCS1v1_5)
        let assertion = "\(input).\(CompactJWT.base64URL(signature.rawRepresentation))"
        var request = HTTPClientRequest(url: configuration.tokenURL)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(Array("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=\(assertion)".utf8))
        let reply = try await http.send(request)
        guard reply.status == 200, let json = try? JSON(parsing: reply.body), let token = json.pushField("access_token")?.stringValue else {
            throw FCMTokenError(message: "\(reply.status) \(reply.text.prefix(200))", retryAfter: reply.retryAfter)
        }
        let expiresIn = json.pushField("expires_in")?.integerValue ?? 3600
        // Renewed a minute early, so that a token never expires on the way.
        return (token, .seconds(max(expiresIn - 60, 1)))
    }

    /// The `messages:send` body: the notification for every platform, with each platform's own priority,
    /// time-to-live and collapse settings.
    static func body(for delivery: Delivery) -> JSON {
        let content = delivery.content
        var message: [String: JSON] = ["token": .string(delivery.device.token)]
        var android: [String: JSON] = ["priority": .string(content.priority == .high ? "HIGH" : "NORMAL")]
        var apnsHeaders: [String: JSON] = ["apns-priority": .string(content.priority == .high && content.notification != nil ? "10" : "5")]
        var aps: [String: JSON] = [:]
        var webpushHeaders: [String: JSON] = ["Urgency": .string(content.priority == .high ? "high" : "normal")]
        if let notification = content.notification {
            var fields: [String: JSON] = [:]
            if let title = notification.title { fields["title"] = .string(title) }
            if let body = notification.body { fields["body"] = .string(body) }
            if let image = notification.image { fields["image"] = .string(image) }
            if !fields.isEmpty { message["notification"] = .object(fields) }
            if let sound = notification.sound { android["notification"] = .object(["sound": .string(sound)]) }
            if let sound = notification.sound { aps["sound"] = .string(sound) }
            if let badge = notification.badge { aps["badge"] = .integer(Int64(badge)) }
        } else {
            aps["content-available"] = .integer(1)
        }
        if !content.data.isEmpty { message["data"] = .object(content.stringData.mapValues(JSON.string)) }
        if let ttl = content.timeToLive {
            android["ttl"] = .string("\(ttl)s")
            webpushHeaders["TTL"] = .string(String(ttl))
            apnsHeaders["apns-expiration"] = .string(String(ttl == 0 ? 0 : delivery.messageTime.microseconds / 1_000_000 + Int64(ttl)))
        }
        if let collapse = content.collapseKey {
            android["collapse_key"] = .string(collapse)
            apnsHeaders["apns-collapse-id"] = .string(collapse)
        }
        message["android"] = .object(android)
        message["apns"] = .object(["headers": .object(apnsHeaders), "payload": .object(["aps": .object(aps)])])
        message["webpush"] = .object(["headers": .object(webpushHeaders)])
        return .object(["message": .object(message)])
    }
}

/// The token endpoint refused or failed.
struct FCMTokenError: Error {
    var message: String
    var retryAfter: Duration?
}
