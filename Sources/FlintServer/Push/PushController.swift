import Crypto
import FlintCore
import Foundation
import Hummingbird

/// `/v1/push/...`: devices and topics for signed-in users; sending and reading messages for admins and service
/// accounts with the `push` scope; `/v1/admin/push/dead-letters` for admins.
struct PushController: Sendable {
    let store: any PushStorage
    let configuration: PushConfiguration
    /// The VAPID public key browsers subscribe with (`applicationServerKey`), when Web Push is configured.
    let vapidPublicKey: [UInt8]?
    let wake: WakeSignal
    let metrics: PushMetrics
    let maximumBodySize: Int

    func addRoutes(to router: Router<FlintRequestContext>) {
        addDeviceRoutes(to: router)
        addMessageRoutes(to: router)
        router.get("/v1/push/webpush/vapid-key") { _, _ in
            guard let key = vapidPublicKey else { throw FlintError.notFound("Web Push is not configured on this server (FLINT_PUSH_CONFIG.webpush)") }
            return JSON.object(["publicKey": .string(CompactJWT.base64URL(key))])
        }
    }

    // MARK: Devices and topics

    func addDeviceRoutes(to router: Router<FlintRequestContext>) {
        router.post("/v1/push/devices") { request, context in
            let identity = try Self.requireUser(context)
            let body = try JSONObject(try await request.json(limit: maximumBodySize), context: "body")
            var uid = identity.uid
            if let owner = try body.optionalString("uid") {
                guard identity.isAdmin else { throw FlintError(.permissionDenied, "only admins may register a device for another user (body.uid)") }
                uid = owner
            }
            let registration = try Self.registration(body, webPush: configuration.webPush)
            let (device, created) = try await store.register(registration, uid: uid)
            return Response.json(try await json(device), status: created ? .created : .ok)
        }
        router.get("/v1/push/devices") { _, context in
            let identity = try Self.requireUser(context)
            var devices: [JSON] = []
            for device in try await store.devices(uid: identity.uid) { devices.append(try await json(device)) }
            return JSON.object(["devices": .array(devices)])
        }
        router.get("/v1/push/devices/{id}") { _, context in
            try await json(try await ownedDevice(context))
        }
        router.delete("/v1/push/devices/{id}") { _, context in
            let device = try await ownedDevice(context)
            _ = try await store.deleteDevice(id: device.id)
            return Response(status: .noContent)
        }
        router.put("/v1/push/devices/{id}/topics/{topic}") { _, context in
            let device = try await ownedDevice(context)
            try await store.subscribe(deviceID: device.id, topic: try Self.topic(context))
            return Response(status: .noContent)
        }
        router.delete("/v1/push/devices/{id}/topics/{topic}") { _, context in
            let device = try await ownedDevice(context)
            try await store.unsubscribe(deviceID: device.id, topic: try Self.topic(context))
            return Response(status: .noContent)
        }
    }

    /// The device in the path, if it is the caller's (or the caller is an admin); `not-found` otherwise, so that
    /// nobody learns of other users' devices.
    private func ownedDevice(_ context: FlintRequestContext) async throws -> PushDevice {
        let identity = try Self.requireUser(context)
        let id = try context.parameters.require("id")
        guard let device = try await store.device(id: id), device.uid == identity.uid || identity.isAdmin else {
            throw FlintError.notFound("no device \(id)")
        }
        return device
    }

    private func json(_ device: PushDevice) async throws -> JSON {
        var members: [String: JSON] = [
            "id": .string(device.id), "uid": .string(device.uid), "platform": .string(device.platform.rawValue), "token": .string(device.token),
            "active": .bool(device.active), "createTime": .string(device.createTime.description), "updateTime": .string(device.updateTime.description),
            "topics": .array(try await store.topics(deviceID: device.id).map(JSON.string)),
        ]
        if let appID = device.appID { members["appId"] = .string(appID) }
        if let locale = device.locale { members["locale"] = .string(locale) }
        if let reason = device.inactiveReason { members["inactiveReason"] = .string(reason) }
        return .object(members)
    }

    static func requireUser(_ context: FlintRequestContext) throws(FlintError) -> Identity {
        guard let identity = context.identity else { throw FlintError(.unauthenticated, "push devices need a signed-in user's access token") }
        return identity
    }

    /// A topic name as FCM allows them: 1–900 of `A–Z a–z 0–9 - _ . ~ %`.
    /// The path carries it percent-encoded (a `%` in the name is `%25`).
    static func topic(_ context: FlintRequestContext) throws -> String {
        guard let topic = try context.parameters.require("topic").removingPercentEncoding else {
            throw FlintError.invalidArgument("the topic in the path is not valid percent-encoding: write % as %25")
        }
        try validateTopic(topic, field: "the topic in the path")
        return topic
    }

    static func validateTopic(_ topic: String, field: String) throws(FlintError) {
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~%")
        guard (1...900).contains(topic.count), topic.allSatisfy(allowed.contains) else {
            throw .invalidArgument("\(field) must be 1 to 900 characters of A-Z a-z 0-9 - _ . ~ %")
        }
    }

    /// Reads a registration: `platform`, `token` (or, for Web Push, the browser's `subscription`), `appId`, `locale`.
    static func registration(_ body: JSONObject, webPush: PushConfiguration.WebPush?) throws(FlintError) -> PushStore.Registration {
        try body.allowOnly(["platform", "token", "subscription", "appId", "locale", "uid"])
        let platformText = try body.string("platform")
        guard let platform = PushPlatform(rawValue: platformText) else {
            throw .invalidArgument("body.platform must be one of apns, fcm, webpush, webhook; not \"\(platformText)\"")
        }
        let appID = try body.optionalString("appId")
        if let appID, appID.isEmpty || appID.utf8.count > 256 { throw .invalidArgument("body.appId must be 1 to 256 bytes") }
        let locale = try body.optionalString("locale")
        if let locale, locale.isEmpty || locale.utf8.count > 35 || !locale.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) {
            throw .invalidArgument("body.locale must be a language tag such as en-GB")
        }
        var registration = PushStore.Registration(platform: platform, token: "", appID: appID, locale: locale)
        switch platform {
        case .webpush:
            guard let json = body["subscription"] else {
                throw .invalidArgument("body.subscription is missing: a Web Push device sends its PushSubscription (endpoint and keys)")
            }
            let subscription = try JSONObject(json, context: "body.subscription")
            try subscription.allowOnly(["endpoint", "keys", "expirationTime"])
            let endpoint = try subscription.string("endpoint")
            let prefixes = webPush?.endpointPrefixes ?? ["https://"]
            guard endpoint.utf8.count <= 2048, URL(string: endpoint)?.host != nil, prefixes.contains(where: endpoint.hasPrefix) else {
                throw .invalidArgument("body.subscription.endpoint must be a URL starting with \(prefixes.joined(separator: " or "))")
            }
            if let token = try body.optionalString("token"), token != endpoint {
                throw .invalidArgument("body.token must be absent or equal to body.subscription.endpoint")
            }
            let keys = try JSONObject(subscription["keys"] ?? .null, context: "body.subscription.keys")
            guard let p256dh = CompactJWT.base64URLDecode(try keys.string("p256dh")), p256dh.count == 65,
                (try? P256.KeyAgreement.PublicKey(x963Representation: p256dh)) != nil
            else {
                throw .invalidArgument("body.subscription.keys.p256dh must be a base64url P-256 public key (65 bytes, uncompressed)")
            }
            guard let auth = CompactJWT.base64URLDecode(try keys.string("auth")), auth.count == 16 else {
                throw .invalidArgument("body.subscription.keys.auth must be 16 bytes, base64url")
            }
            registration.token = endpoint
            registration.p256dh = p256dh
            registration.auth = auth
        case .apns:
            let token = try body.string("token")
            guard (16...200).contains(token.count), token.allSatisfy(\.isHexDigit) else {
                throw .invalidArgument("body.token must be the APNs device token in hexadecimal")
            }
            registration.token = token.lowercased()
        case .fcm, .webhook:
            let token = try body.string("token")
            guard (1...4096).contains(token.utf8.count), token.allSatisfy({ $0.isASCII && !$0.isWhitespace && !$0.isNewline }) else {
                throw .invalidArgument("body.token must be 1 to 4096 printable ASCII characters")
            }
            registration.token = token
        }
        if platform != .webpush, body["subscription"] != nil {
            throw .invalidArgument("body.subscription is only for webpush devices")
        }
        return registration
    }
}
