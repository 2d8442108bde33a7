import FlintCore
import Foundation
import PostgresNIO

extension PostgresPushStore {
    // MARK: Enqueueing

    func enqueue(_ message: PushStore.NewMessage, unavailable: @Sendable (PushPlatform) -> String?, now: Timestamp) async throws -> PushStore.Enqueued {
        try await database.transaction { connection in
            if let key = message.idempotencyKey {
                // Repeats of one request on several servers take turns, so the second finds the first's message.
                try await connection.query("SELECT pg_advisory_xact_lock(hashtextextended(\(message.sender + "\u{1}" + key), 3))", logger: logger)
                if let row = try await connection.query(
                    """
                    SELECT id, request_hash, (SELECT COUNT(*) FROM push_deliveries d WHERE d.message_id = m.id)::bigint AS deliveries
                    FROM push_messages m WHERE sender = \(message.sender) AND idempotency_key = \(key)
                    """, logger: logger
                ).collect().first?.makeRandomAccess() {
                    guard try row["request_hash"].decode(String.self) == message.requestHash else {
                        throw FlintError(.alreadyExists, "the idempotency key \(key) was already used for a different message")
                    }
                    return PushStore.Enqueued(
                        id: try row["id"].decode(String.self), deliveries: Int(try row["deliveries"].decode(Int64.self)), duplicate: true)
                }
            }
            var devices: [PushDevice] = []
            var seen: Set<String> = []
            for (index, target) in message.targets.enumerated() {
                let query: PostgresQuery =
                    switch target {
                    case .device(let id): "SELECT * FROM push_devices WHERE id = \(id)"
                    case .uid(let uid): "SELECT * FROM push_devices WHERE uid = \(uid) AND active"
                    case .topic(let topic):
                        "SELECT d.* FROM push_topics t JOIN push_devices d ON d.id = t.device_id WHERE t.topic = \(topic) AND d.active"
                    }
                let found = try await connection.query(query, logger: logger).collect().map { try Self.device($0.makeRandomAccess()) }
                if case .device(let id) = target, found.isEmpty { throw FlintError.notFound("body.to[\(index)].device: there is no device \(id)") }
                for device in found where seen.insert(device.id).inserted { devices.append(device) }
            }
            let id = AutoID.make()
            try await connection.query(
                """
                INSERT INTO push_messages (id, sender, idempotency_key, request_hash, content, targets, create_time)
                VALUES (\(id), \(message.sender), \(message.idempotencyKey), \(message.requestHash), \(message.content.json.text),
                    \(JSON.array(message.targets.map(\.json)).text), \(now.microseconds))
                """, logger: logger)
            for device in devices {
                // A device named directly but inactive, or a platform without a provider, is recorded as failed, so that
                // the sender sees why nothing went there.
                let reason = device.active ? unavailable(device.platform) : "the device is inactive: \(device.inactiveReason ?? "deactivated")"
                try await connection.query(
                    """
                    INSERT INTO push_deliveries (id, message_id, device_id, platform, state, next_attempt_at, last_error, create_time, update_time)
                    VALUES (\(AutoID.make()), \(id), \(device.id), \(device.platform.rawValue),
                        \((reason == nil ? DeliveryState.queued : .failed).rawValue), \(now.microseconds), \(reason), \(now.microseconds),
                        \(now.microseconds))
                    """, logger: logger)
            }
            return PushStore.Enqueued(id: id, deliveries: devices.count, duplicate: false)
        }
    }

    // MARK: Claiming and resolving

    func claim(platform: PushPlatform, limit: Int, owner: String, leaseUntil: Timestamp, now: Timestamp) async throws -> (
        deliveries: [Delivery], orphans: [String]
    ) {
        guard limit > 0 else { return ([], []) }
        return try await database.transaction { connection in
            // SKIP LOCKED: rows another server is claiming right now are left to it, not waited for.
            var ids: [String] = []
            for try await id in try await connection.query(
                """
                WITH due AS (
                    SELECT id FROM push_deliveries
                    WHERE (state = 'queued' AND platform = \(platform.rawValue) AND next_attempt_at <= \(now.microseconds))
                       OR (state = 'sending' AND platform = \(platform.rawValue) AND lease_expires_at <= \(now.microseconds))
                    ORDER BY next_attempt_at LIMIT \(limit)
                    FOR UPDATE SKIP LOCKED)
                UPDATE push_deliveries d SET state = 'sending', lease_owner = \(owner), lease_expires_at = \(leaseUntil.microseconds),
                    attempts = d.attempts + 1, update_time = \(now.microseconds)
                FROM due WHERE d.id = due.id
                RETURNING d.id
                """, logger: logger
            ).decode(String.self) {
                ids.append(id)
            }
            guard !ids.isEmpty else { return ([], []) }
            var deliveries: [Delivery] = []
            for row in try await connection.query(
                """
                SELECT d.id AS delivery_id, d.attempts, m.id AS message_id, m.content, m.create_time AS message_time, v.*
                FROM push_deliveries d JOIN push_messages m ON m.id = d.message_id JOIN push_devices v ON v.id = d.device_id
                WHERE d.id = ANY(\(ids))
                ORDER BY d.next_attempt_at
                """, logger: logger
            ).collect() {
                let row = row.makeRandomAccess()
                let content = try PushContent(
                    json: JSONObject(try JSON(parsing: try row["content"].decode(String.self)), context: "stored message"))
                deliveries.append(
                    Delivery(
                        id: try row["delivery_id"].decode(String.self), messageID: try row["message_id"].decode(String.self),
                        attempt: Int(try row["attempts"].decode(Int32.self)), device: try Self.device(row), content: content,
                        messageTime: Timestamp(microseconds: try row["message_time"].decode(Int64.self))))
            }
            let found = Set(deliveries.map(\.id))
            return (deliveries, ids.filter { !found.contains($0) })
        }
    }

    @discardableResult
    func resolve(_ id: String, owner: String, _ resolution: PushStore.Resolution, now: Timestamp) async throws -> Bool {
        let (state, error, next) = resolution.row
        let deliverTime: Int64? = state == .delivered ? now.microseconds : nil
        return try await database.transaction { connection in
            guard
                let row = try await connection.query(
                    """
                    UPDATE push_deliveries SET state = \(state.rawValue), last_error = COALESCE(\(error), last_error),
                        next_attempt_at = COALESCE(\(next), next_attempt_at), lease_owner = NULL, lease_expires_at = NULL,
                        update_time = \(now.microseconds), deliver_time = \(deliverTime)
                    WHERE id = \(id) AND state = 'sending' AND lease_owner = \(owner)
                    RETURNING device_id
                    """, logger: logger
                ).collect().first?.makeRandomAccess()
            else { return false }
            if case .deactivated(let reason) = resolution {
                try await connection.query(
                    """
                    UPDATE push_devices SET active = false, inactive_reason = \(reason), update_time = \(now.microseconds)
                    WHERE id = \(try row["device_id"].decode(String.self))
                    """, logger: logger)
            }
            return true
        }
    }

    func renewLeases(owner: String, until: Timestamp) async throws {
        try await database.client.query(
            "UPDATE push_deliveries SET lease_expires_at = \(until.microseconds) WHERE state = 'sending' AND lease_owner = \(owner)", logger: logger)
    }

    func nextDue(platforms: [PushPlatform]) async throws -> Timestamp? {
        guard !platforms.isEmpty else { return nil }
        let names = platforms.map(\.rawValue)
        guard
            let row = try await database.rows("""
                SELECT LEAST(
                    (SELECT MIN(next_attempt_at) FROM push_deliveries WHERE state = 'queued' AND platform = ANY(\(names))),
                    (SELECT MIN(lease_expires_at) FROM push_deliveries WHERE state = 'sending' AND platform = ANY(\(names)))) AS due
                """
            ).first
        else { return nil }
        return try row["due"].decode(Int64?.self).map(Timestamp.init(microseconds:))
    }

    func counts() async throws -> [DeliveryState: Int] {
        var counts: [DeliveryState: Int] = [.queued: 0, .sending: 0, .dead: 0]
        for row in try await database.rows("SELECT state, COUNT(*)::bigint AS n FROM push_deliveries WHERE state IN ('queued', 'sending', 'dead') GROUP BY state")
        {
            if let state = DeliveryState(rawValue: try row["state"].decode(String.self)) { counts[state] = Int(try row["n"].decode(Int64.self)) }
        }
        return counts
    }

    // MARK: Status and dead letters

    func message(id: String) async throws -> PushStore.MessageStatus? {
        guard let row = try await database.rows("SELECT * FROM push_messages WHERE id = \(id)").first else { return nil }
        let deliveries = try await database.rows("SELECT * FROM push_deliveries WHERE message_id = \(id) ORDER BY create_time, id").map(Self.deliveryStatus)
        return PushStore.MessageStatus(
            id: id, sender: try row["sender"].decode(String.self), content: try JSON(parsing: try row["content"].decode(String.self)),
            targets: try JSON(parsing: try row["targets"].decode(String.self)),
            createTime: Timestamp(microseconds: try row["create_time"].decode(Int64.self)), deliveries: deliveries)
    }

    func deadLetters(after: String?, limit: Int) async throws -> [PushStore.DeliveryStatus] {
        try await database.rows("SELECT * FROM push_deliveries WHERE state = 'dead' AND id > \(after ?? "") ORDER BY id LIMIT \(limit)")
            .map(Self.deliveryStatus)
    }

    func retryDead(id: String?, now: Timestamp) async throws -> Int {
        try await database.rows("""
            UPDATE push_deliveries SET state = 'queued', attempts = 0, next_attempt_at = \(now.microseconds), update_time = \(now.microseconds)
            WHERE state = 'dead' AND (\(id)::text IS NULL OR id = \(id)) RETURNING id
            """
        ).count
    }

    static func deliveryStatus(_ row: PostgresRandomAccessRow) throws -> PushStore.DeliveryStatus {
        PushStore.DeliveryStatus(
            id: try row["id"].decode(String.self), messageID: try row["message_id"].decode(String.self),
            deviceID: try row["device_id"].decode(String.self), platform: try row["platform"].decode(String.self),
            state: DeliveryState(rawValue: try row["state"].decode(String.self)) ?? .failed, attempts: Int(try row["attempts"].decode(Int32.self)),
            lastError: try row["last_error"].decode(String?.self),
            nextAttemptTime: try row["next_attempt_at"].decode(Int64?.self).map(Timestamp.init(microseconds:)),
            updateTime: Timestamp(microseconds: try row["update_time"].decode(Int64.self)),
            deliverTime: try row["deliver_time"].decode(Int64?.self).map(Timestamp.init(microseconds:)))
    }
}
