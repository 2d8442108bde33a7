import Crypto
import FlintCore
import Foundation
import Hummingbird

extension PushController {
    /// The most targets one message may name.
    static let maximumTargets = 100

    func addMessageRoutes(to router: Router<FlintRequestContext>) {
        router.post("/v1/push/messages") { request, context in
            let sender = try Self.requireSender(context)
            let json = try await request.json(limit: maximumBodySize)
            let body = try JSONObject(json, context: "body")
            try body.allowOnly(PushContent.fields.union(["to", "idempotencyKey"]))
            let targets = try Self.targets(body["to"])
            let content = try PushContent(json: body)
            var key = try body.optionalString("idempotencyKey")
            if let header = request.headers[.init("Idempotency-Key")!] {
                if let key, key != header { throw FlintError.invalidArgument("the Idempotency-Key header and body.idempotencyKey differ") }
                key = header
            }
            if let key, key.isEmpty || key.utf8.count > 255 { throw FlintError.invalidArgument("the idempotency key must be 1 to 255 bytes") }
            // What makes two requests the same: everything but the key itself.
            var canonical = body.members
            canonical["idempotencyKey"] = nil
            let hash = SHA256.hash(data: JSON.object(canonical).serialized).map { String(format: "%02x", $0) }.joined()
            let enqueued = try await store.enqueue(
                .init(sender: sender.uid, content: content, targets: targets, idempotencyKey: key, requestHash: hash),
                unavailable: { [configuration] platform in Self.unavailable(platform, configuration) })
            if !enqueued.duplicate {
                metrics.queued(deliveries: enqueued.deliveries)
                wake.signal()
            }
            var answer: [String: JSON] = ["id": .string(enqueued.id), "deliveries": .integer(Int64(enqueued.deliveries))]
            if enqueued.duplicate { answer["duplicate"] = .bool(true) }
            return Response.json(.object(answer), status: .accepted, headers: [.location: "/v1/push/messages/\(enqueued.id)"])
        }
        router.get("/v1/push/messages/{id}") { _, context in
            let sender = try Self.requireSender(context)
            let id = try context.parameters.require("id")
            guard let message = try await store.message(id: id), message.sender == sender.uid || sender.isAdmin else {
                throw FlintError.notFound("no message \(id)")
            }
            return message.json
        }
        router.get("/v1/admin/push/dead-letters") { request, context in
            try AdminController.requireAdmin(context)
            var pageSize = 100
            if let text = request.uri.queryParameters["pageSize"] {
                guard let size = Int(text), (1...1000).contains(size) else { throw FlintError.invalidArgument("pageSize must be an integer from 1 to 1000") }
                pageSize = size
            }
            let after = request.uri.queryParameters["pageToken"].map(String.init)
            var letters = try await store.deadLetters(after: after, limit: pageSize + 1)
            var answer: [String: JSON] = [:]
            if letters.count > pageSize {
                letters.removeLast(letters.count - pageSize)
                answer["nextPageToken"] = .string(letters[letters.count - 1].id)
            }
            answer["deadLetters"] = .array(letters.map(\.json))
            return JSON.object(answer)
        }
        router.post("/v1/admin/push/dead-letters/retry") { _, context in
            try AdminController.requireAdmin(context)
            let count = try await store.retryDead(id: nil)
            wake.signal()
            return JSON.object(["retried": .integer(Int64(count))])
        }
        router.post("/v1/admin/push/dead-letters/{id}/retry") { _, context in
            try AdminController.requireAdmin(context)
            let id = try context.parameters.require("id")
            guard try await store.retryDead(id: id) == 1 else { throw FlintError.notFound("no dead letter \(id)") }
            wake.signal()
            return JSON.object(["retried": .integer(1)])
        }
    }

    /// Admins, and service accounts with the `push` scope.
    static func requireSender(_ context: FlintRequestContext) throws(FlintError) -> Identity {
        guard let identity = context.identity else { throw FlintError(.unauthenticated, "sending push messages needs an access token") }
        guard identity.isAdmin || identity.scopes.contains("push") else {
            throw FlintError(.permissionDenied, "sending push messages needs a service account token with the admin or push scope")
        }
        return identity
    }

    /// `to`: one target or an array of them; each `{"device": id}`, `{"uid": uid}` or `{"topic": name}`.
    static func targets(_ json: JSON?) throws(FlintError) -> [PushTarget] {
        guard let json else { throw .invalidArgument("body.to is missing: {\"device\": id}, {\"uid\": uid}, {\"topic\": name}, or an array of them") }
        let items: [(JSON, String)]
        if case .array(let array) = json {
            guard !array.isEmpty, array.count <= maximumTargets else {
                throw .invalidArgument("body.to must hold 1 to \(maximumTargets) targets")
            }
            items = array.enumerated().map { ($1, "body.to[\($0)]") }
        } else {
            items = [(json, "body.to")]
        }
        return try items.map { item, context throws(FlintError) in
            let object = try JSONObject(item, context: context)
            try object.allowOnly(["device", "uid", "topic"])
            guard object.members.count == 1, let (key, value) = object.members.first, case .string(let text) = value, !text.isEmpty else {
                throw .invalidArgument("\(context) must have exactly one of device, uid, topic, as a non-empty string")
            }
            switch key {
            case "device": return .device(text)
            case "uid": return .uid(text)
            default:
                try validateTopic(text, field: "\(context).topic")
                return .topic(text)
            }
        }
    }

    static func unavailable(_ platform: PushPlatform, _ configuration: PushConfiguration) -> String? {
        let configured: Bool
        switch platform {
        case .apns: configured = configuration.apns != nil
        case .fcm: configured = configuration.fcm != nil
        case .webpush: configured = configuration.webPush != nil
        case .webhook: configured = configuration.webhook != nil
        }
        return configured ? nil : "\(platform.displayName) is not configured on this server (FLINT_PUSH_CONFIG.\(platform.rawValue))"
    }
}
