public import FlintCore
import NIOHTTP1

/// What identifies this device to the push service that reaches it.
public enum PushPlatform: Sendable, Equatable {
    /// The Apple Push Notification service: the device token, in hexadecimal.
    case apns(token: String)
    /// Firebase Cloud Messaging: the registration token.
    case fcm(token: String)
    /// Web Push: the push service's endpoint and the subscription's keys (base64url), as a `PushSubscription` has them.
    case webPush(endpoint: String, p256dh: String, auth: String)
    /// A signed webhook of yours: any recipient id, passed to your endpoint.
    case webhook(recipient: String)

    /// The registration's fields, as `POST /v1/push/devices` takes them.
    var json: [String: JSON] {
        switch self {
        case .apns(let token): ["platform": .string("apns"), "token": .string(token)]
        case .fcm(let token): ["platform": .string("fcm"), "token": .string(token)]
        case .webhook(let recipient): ["platform": .string("webhook"), "token": .string(recipient)]
        case .webPush(let endpoint, let p256dh, let auth):
            [
                "platform": .string("webpush"),
                "subscription": .object([
                    "endpoint": .string(endpoint), "keys": .object(["p256dh": .string(p256dh), "auth": .string(auth)]),
                ]),
            ]
        }
    }
}

/// A device registered for push messages, as the server has it.
public struct PushDevice: Sendable, Equatable, Identifiable {
    public var id: String
    /// The user it belongs to.
    public var uid: String
    /// `apns`, `fcm`, `webpush` or `webhook`.
    public var platform: String
    /// The platform's token (the endpoint, for Web Push).
    public var token: String
    public var appID: String?
    public var locale: String?
    /// False once the push service said the token is no longer valid; see `inactiveReason`.
    public var isActive: Bool
    public var inactiveReason: String?
    /// The topics it is subscribed to.
    public var topics: [String]
    public var createTime: Timestamp?
    public var updateTime: Timestamp?

    init(json: JSON) throws(FlintError) {
        let object = try JSONObject(json, context: "device")
        id = try object.string("id")
        uid = try object.string("uid")
        platform = try object.string("platform")
        token = try object.string("token")
        appID = try object.optionalString("appId")
        locale = try object.optionalString("locale")
        isActive = try object.optionalBool("active") ?? true
        inactiveReason = try object.optionalString("inactiveReason")
        topics = []
        if case .array(let items)? = object["topics"] {
            for item in items { if case .string(let topic) = item { topics.append(topic) } }
        }
        createTime = try object.optionalString("createTime").flatMap(Timestamp.init(rfc3339:))
        updateTime = try object.optionalString("updateTime").flatMap(Timestamp.init(rfc3339:))
    }
}

/// Push messages to this device (sdk-docs/push.md): register the token the platform gave the app, subscribe it to
/// topics. Sending is for servers and admins, not apps. Online only, for the signed-in user.
///
/// Register on every start and whenever the platform hands the app a new token: registering the same token again
/// updates its device (same id), and moves it to whoever is signed in now.
public struct PushNotifications: Sendable {
    let rest: RESTClient
    let auth: Auth

    /// Registers this device for the signed-in user and returns it.
    /// - Parameters:
    ///   - appID: your app's identifier (up to 256 bytes), for your own sending logic.
    ///   - locale: a language tag such as `en-GB`, for your own sending logic.
    /// - Throws: `unauthenticated` when nobody is signed in, `invalidArgument` for a malformed token or a platform the
    ///   server does not accept, `unavailable` offline.
    @discardableResult
    public func register(_ platform: PushPlatform, appID: String? = nil, locale: String? = nil) async throws -> PushDevice {
        var body = platform.json
        if let appID { body["appId"] = .string(appID) }
        if let locale { body["locale"] = .string(locale) }
        return try PushDevice(json: try await rest.json(.POST, "/v1/push/devices", body: .object(body), token: try await auth.accessToken()))
    }

    /// The signed-in user's devices.
    public func devices() async throws -> [PushDevice] {
        let reply = try await rest.json(.GET, "/v1/push/devices", token: try await auth.accessToken())
        guard case .array(let items)? = try JSONObject(reply, context: "answer")["devices"] else { return [] }
        return try items.map { json throws(FlintError) in try PushDevice(json: json) }
    }

    /// One of the signed-in user's devices; `notFound` for anyone else's.
    public func device(_ id: String) async throws -> PushDevice {
        try PushDevice(json: try await rest.json(.GET, Self.devicePath(id), token: try await auth.accessToken()))
    }

    /// Removes a device: nothing more is sent to it (call it when the user signs out on this device).
    public func unregister(_ id: String) async throws {
        _ = try await rest.json(.DELETE, Self.devicePath(id), token: try await auth.accessToken())
    }

    /// Subscribes a device to a topic (1 to 900 of `A-Z a-z 0-9 - _ . ~ %`).
    public func subscribe(_ deviceID: String, toTopic topic: String) async throws {
        try Self.checkTopic(topic)
        _ = try await rest.json(.PUT, Self.devicePath(deviceID) + "/topics/" + RESTClient.encode([topic]), token: try await auth.accessToken())
    }

    /// Unsubscribes a device from a topic.
    public func unsubscribe(_ deviceID: String, fromTopic topic: String) async throws {
        try Self.checkTopic(topic)
        _ = try await rest.json(.DELETE, Self.devicePath(deviceID) + "/topics/" + RESTClient.encode([topic]), token: try await auth.accessToken())
    }

    /// The server's VAPID public key (base64url), the `applicationServerKey` a Web Push subscription is made with.
    /// - Throws: `notFound` when the server has no Web Push configured.
    public func vapidPublicKey() async throws -> String {
        try JSONObject(try await rest.json(.GET, "/v1/push/webpush/vapid-key"), context: "answer").string("publicKey")
    }

    /// An empty name would make a URL of another route; the server checks everything else about a topic.
    static func checkTopic(_ topic: String) throws(FlintError) {
        if topic.isEmpty { throw FlintError(.invalidArgument, "a topic name must be 1 to 900 characters of A-Z a-z 0-9 - _ . ~ %") }
    }

    static func devicePath(_ id: String) -> String { "/v1/push/devices/" + RESTClient.encode([id]) }
}
