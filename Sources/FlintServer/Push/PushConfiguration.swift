import Crypto
import CryptoExtras
public import FlintCore
import Foundation

/// The push providers' settings and the send queue's tuning.
///
/// The providers come from one JSON object (`FLINT_PUSH_CONFIG`, see sdk-docs/push.md); the queue's numbers from their
/// own flags. A provider that is not configured is not used: deliveries to its devices fail with a clear reason.
public struct PushConfiguration: Sendable, Equatable {
    /// Apple Push Notification service: HTTP/2 with token authentication.
    public struct APNs: Sendable, Equatable {
        /// The `.p8` signing key, PEM (PKCS #8, P-256).
        public var keyPEM: String
        public var keyID: String
        public var teamID: String
        /// The app's bundle id, sent as `apns-topic`.
        public var topic: String
        public var baseURL = "https://api.push.apple.com"
    }

    /// Firebase Cloud Messaging, HTTP v1 API, authorised with a service account.
    public struct FCM: Sendable, Equatable {
        public var projectID: String
        public var clientEmail: String
        /// The service account's RSA key, PEM.
        public var privateKeyPEM: String
        public var privateKeyID: String?
        /// Where access tokens come from: the service account's `token_uri` unless set.
        public var tokenURL: String
        public var baseURL = "https://fcm.googleapis.com"
    }

    /// Web Push (RFC 8030) with VAPID (RFC 8292) and `aes128gcm` payloads (RFC 8291).
    public struct WebPush: Sendable, Equatable {
        /// The VAPID key, PEM (P-256); when nil, one is generated once and kept in the database.
        public var vapidPrivateKeyPEM: String?
        /// The VAPID `sub` claim: a `mailto:` or `https:` contact for the push services.
        public var subject: String
        /// Subscription endpoints must start with one of these (so that a client cannot make the server post to any
        /// address it likes).
        public var endpointPrefixes = ["https://"]
    }

    /// Signed JSON POSTs to one endpoint of the app's own.
    public struct Webhook: Sendable, Equatable {
        public var url: String
        /// The HMAC-SHA256 key of the `Flint-Signature` header.
        public var secret: String
    }

    public var apns: APNs?
    public var fcm: FCM?
    public var webPush: WebPush?
    public var webhook: Webhook?
    /// A PEM file of extra certificate authorities the provider clients trust (a gateway's, or a test's).
    public var caCertificatePath: String?

    /// Sends in flight at once, per provider (`FLINT_PUSH_CONCURRENCY`).
    public var concurrency = 8
    /// Attempts per delivery before it becomes a dead letter (`FLINT_PUSH_MAX_ATTEMPTS`).
    public var maximumAttempts = 10
    /// The first retry's backoff bound, in milliseconds; it doubles per attempt (`FLINT_PUSH_RETRY_BASE_MS`).
    public var retryBaseMilliseconds = 1000
    /// The largest backoff, in seconds (`FLINT_PUSH_RETRY_CAP`).
    public var retryCapSeconds = 3600
    /// How long a claimed delivery stays leased to one server without being renewed, in seconds (`FLINT_PUSH_LEASE`).
    public var leaseSeconds = 60
    /// Consecutive failures that open a provider's circuit breaker (`FLINT_PUSH_BREAKER_FAILURES`).
    public var breakerFailures = 5
    /// Seconds an open breaker waits before it lets one probe through (`FLINT_PUSH_BREAKER_PAUSE`).
    public var breakerPauseSeconds = 30

    public init() {}

    /// Reads the providers from `FLINT_PUSH_CONFIG`'s JSON, reading the key files it names and checking each key.
    public mutating func applyProviders(_ text: String) throws(FlintError) {
        let root = try JSONObject(try JSON(parsing: text), context: "FLINT_PUSH_CONFIG")
        try root.allowOnly(["apns", "fcm", "webpush", "webhook", "caCertificatePath"])
        caCertificatePath = try root.optionalString("caCertificatePath")
        if let path = caCertificatePath, !FileManager.default.isReadableFile(atPath: path) {
            throw .invalidArgument("FLINT_PUSH_CONFIG.caCertificatePath: cannot read \(path)")
        }
        if let json = root["apns"] { apns = try Self.apns(JSONObject(json, context: "FLINT_PUSH_CONFIG.apns")) }
        if let json = root["fcm"] { fcm = try Self.fcm(JSONObject(json, context: "FLINT_PUSH_CONFIG.fcm")) }
        if let json = root["webpush"] { webPush = try Self.webPush(JSONObject(json, context: "FLINT_PUSH_CONFIG.webpush")) }
        if let json = root["webhook"] {
            let object = try JSONObject(json, context: "FLINT_PUSH_CONFIG.webhook")
            try object.allowOnly(["url", "secret"])
            let url = try Self.url(object, "url")
            let secret = try object.string("secret")
            guard secret.utf8.count >= 16 else { throw .invalidArgument("FLINT_PUSH_CONFIG.webhook.secret must have at least 16 characters") }
            webhook = Webhook(url: url, secret: secret)
        }
    }

    private static func apns(_ object: JSONObject) throws(FlintError) -> APNs {
        try object.allowOnly(["key", "keyPath", "keyId", "teamId", "topic", "baseURL"])
        let pem = try keyText(object, inline: "key", path: "keyPath")
        do {
            _ = try P256.Signing.PrivateKey(pemRepresentation: pem)
        } catch {
            throw .invalidArgument("\(object.context).key is not a P-256 private key in PEM (an APNs .p8 file)")
        }
        var apns = APNs(keyPEM: pem, keyID: try object.string("keyId"), teamID: try object.string("teamId"), topic: try object.string("topic"))
        if object["baseURL"] != nil { apns.baseURL = try url(object, "baseURL") }
        return apns
    }

    private static func fcm(_ object: JSONObject) throws(FlintError) -> FCM {
        try object.allowOnly(["serviceAccount", "serviceAccountPath", "baseURL", "tokenURL"])
        let account: JSONObject
        if let inline = object["serviceAccount"] {
            account = try JSONObject(inline, context: "\(object.context).serviceAccount")
        } else if let path = try object.optionalString("serviceAccountPath") {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw .invalidArgument("\(object.context).serviceAccountPath: cannot read \(path)")
            }
            account = try JSONObject(try JSON(parsing: Array(data)), context: "the service account file \(path)")
        } else {
            throw .invalidArgument("\(object.context) needs serviceAccountPath (the service account's JSON key file) or serviceAccount")
        }
        let pem = try account.string("private_key")
        do {
            _ = try _RSA.Signing.PrivateKey(pemRepresentation: pem)
        } catch {
            throw .invalidArgument("\(account.context).private_key is not an RSA private key in PEM")
        }
        var fcm = FCM(
            projectID: try account.string("project_id"), clientEmail: try account.string("client_email"), privateKeyPEM: pem,
            privateKeyID: try account.optionalString("private_key_id"),
            tokenURL: try account.optionalString("token_uri") ?? "https://oauth2.googleapis.com/token")
        if object["tokenURL"] != nil { fcm.tokenURL = try url(object, "tokenURL") }
        if object["baseURL"] != nil { fcm.baseURL = try url(object, "baseURL") }
        return fcm
    }

    private static func webPush(_ object: JSONObject) throws(FlintError) -> WebPush {
        try object.allowOnly(["vapidKey", "vapidKeyPath", "subject", "endpointPrefixes"])
        let subject = try object.string("subject")
        guard subject.hasPrefix("mailto:") || subject.hasPrefix("https:") else {
            throw .invalidArgument("\(object.context).subject must be a mailto: or https: URI (RFC 8292 §2.1)")
        }
        var webPush = WebPush(subject: subject)
        if object["vapidKey"] != nil || object["vapidKeyPath"] != nil {
            let pem = try keyText(object, inline: "vapidKey", path: "vapidKeyPath")
            do {
                _ = try P256.Signing.PrivateKey(pemRepresentation: pem)
            } catch {
                throw .invalidArgument("\(object.context).vapidKey is not a P-256 private key in PEM")
            }
            webPush.vapidPrivateKeyPEM = pem
        }
        if let json = object["endpointPrefixes"] {
            guard case .array(let items) = json, !items.isEmpty else {
                throw .invalidArgument("\(object.context).endpointPrefixes must be a non-empty array of URL prefixes")
            }
            webPush.endpointPrefixes = try items.map { item throws(FlintError) in
                guard case .string(let prefix) = item, prefix.hasPrefix("https://") || prefix.hasPrefix("http://") else {
                    throw .invalidArgument("\(object.context).endpointPrefixes must hold http:// or https:// prefixes")
                }
                return prefix
            }
        }
        return webPush
    }

    private static func keyText(_ object: JSONObject, inline: String, path: String) throws(FlintError) -> String {
        if let pem = try object.optionalString(inline) { return pem }
        guard let file = try object.optionalString(path) else { throw .invalidArgument("\(object.context) needs \(path) or \(inline)") }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw .invalidArgument("\(object.context).\(path): cannot read \(file)")
        }
        return String(decoding: data, as: UTF8.self)
    }

    private static func url(_ object: JSONObject, _ key: String) throws(FlintError) -> String {
        let text = try object.string(key)
        guard let url = URL(string: text), url.scheme == "https" || url.scheme == "http", url.host != nil else {
            throw .invalidArgument("\(object.context).\(key) must be an http:// or https:// URL, not \"\(text)\"")
        }
        return text.hasSuffix("/") ? String(text.dropLast()) : text
    }
}
