import FlintCore
import Foundation
import GRDB

/// Whom a message goes to.
enum PushTarget: Sendable, Equatable {
    case device(String)
    /// Every active device of a user.
    case uid(String)
    /// Every active device subscribed to a topic.
    case topic(String)

    var json: JSON {
        switch self {
        case .device(let id): .object(["device": .string(id)])
        case .uid(let uid): .object(["uid": .string(uid)])
        case .topic(let topic): .object(["topic": .string(topic)])
        }
    }
}

/// Where a delivery stands: queued → sending → delivered | failed | dead.
enum DeliveryState: String, Sendable, CaseIterable {
    /// Waiting for its next attempt.
    case queued
    /// Leased to a server that is sending it.
    case sending
    case delivered
    /// Not deliverable: the device is gone or inactive, the provider refused the message, or it expired.
    case failed
    /// Out of attempts: in the dead-letter list until an admin retries it.
    case dead
}

extension PushStore {
    /// A message to queue.
    struct NewMessage: Sendable {
        var sender: String
        var content: PushContent
        var targets: [PushTarget]
        var idempotencyKey: String?
        /// A digest of the request, to tell a repeated request from a different one under the same idempotency key.
        var requestHash: String
    }

    /// A queued message.
    struct Enqueued: Sendable, Equatable {
        var id: String
        var deliveries: Int
        /// The idempotency key was seen before: this is the earlier message, and nothing new was queued.
        var duplicate: Bool
    }

    /// Writes the message and one delivery per target device in one transaction, so that an acknowledged message has
    /// all its deliveries durably queued. Users' and topics' devices are resolved now; a device reached by several
    /// targets gets one delivery.
    /// - Parameter unavailable: why a platform cannot be sent to (its provider is not configured), or nil.
    /// - Throws: `not-found` for a device target that does not exist; `already-exists` for an idempotency key used
    ///   with a different request.
    func enqueue(_ message: NewMessage, unavailable: @Sendable (PushPlatform) -> String?, now: Timestamp) async throws -> Enqueued {
        try await pool.write { db in
            if let key = message.idempotencyKey,
                let row = try Row.fetchOne(
                    db, sql: "SELECT id, request_hash FROM push_messages WHERE sender = ? AND idempotency_key = ?", arguments: [message.sender, key])
            {
                guard row["request_hash"] == message.requestHash else {
                    throw FlintError(.alreadyExists, "the idempotency key \(key) was already used for a different message")
                }
                let id: String = row["id"]
                let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM push_deliveries WHERE message_id = ?", arguments: [id]) ?? 0
                return Enqueued(id: id, deliveries: count, duplicate: true)
            }
            var devices: [PushDevice] = []
            var seen: Set<String> = []
            for (index, target) in message.targets.enumerated() {
                let found: [PushDevice]
                switch target {
                case .device(let id):
                    guard let device = try Row.fetchOne(db, sql: "SELECT * FROM push_devices WHERE id = ?", arguments: [id]).map(Self.device) else {
                        throw FlintError.notFound("body.to[\(index)].device: there is no device \(id)")
                    }
                    found = [device]
                case .uid(let uid):
                    found = try Row.fetchAll(db, sql: "SELECT * FROM push_devices WHERE uid = ? AND active = 1", arguments: [uid]).map(Self.device)
                case .topic(let topic):
                    found = try Row.fetchAll(
                        db,
                        sql: """
                            SELECT d.* FROM push_topics t JOIN push_devices d ON d.id = t.device_id WHERE t.topic = ? AND d.active = 1
                            """, arguments: [topic]
                    ).map(Self.device)
                }
                for device in found where seen.insert(device.id).inserted { devices.append(device) }
            }
            let id = AutoID.make()
            try db.execute(
                sql: """
                    INSERT INTO push_messages (id, sender, idempotency_key, request_hash, content, targets, create_time)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    id, message.sender, message.idempotencyKey, message.requestHash, message.content.json.text,
                    JSON.array(message.targets.map(\.json)).text, now.microseconds,
                ])
            for device in devices {
                // A device named directly but inactive, or a platform without a provider, is recorded as failed, so
                // that the sender sees why nothing went there.
                let reason =
                    device.active ? unavailable(device.platform) : "the device is inactive: \(device.inactiveReason ?? "deactivated")"
                try db.execute(
                    sql: """
                        INSERT INTO push_deliveries (id, message_id, device_id, platform, state, next_attempt_at, last_error, create_time, update_time)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        AutoID.make(), id, device.id, device.platform.rawValue,
                        (reason == nil ? DeliveryState.queued : .failed).rawValue, now.microseconds, reason, now.microseconds, now.microseconds,
                    ])
            }
            return Enqueued(id: id, deliveries: devices.count, duplicate: false)
        }
    }

    // MARK: Claiming and resolving

    /// Leases up to `limit` due deliveries of `platform` to `owner` until `leaseUntil`: queued ones whose time has
    /// come, and ones being sent whose lease expired (their server died, or lost the database). Each claim counts as
    /// an attempt, so a delivery whose sends keep crashing a server still runs out of attempts.
    /// - Returns: the claimed deliveries, and the ids of claimed ones whose device no longer exists.
    func claim(platform: PushPlatform, limit: Int, owner: String, leaseUntil: Timestamp, now: Timestamp) async throws -> (
        deliveries: [Delivery], orphans: [String]
    ) {
        guard limit > 0 else { return ([], []) }
        // Most polls find nothing: asking a reader first keeps them off the single writer.
        let due = try await pool.read { db in
            try Bool.fetchOne(
                db,
                sql: """
                    SELECT EXISTS (SELECT 1 FROM push_deliveries WHERE state = 'queued' AND platform = ? AND next_attempt_at <= ?)
                        OR EXISTS (SELECT 1 FROM push_deliveries WHERE state = 'sending' AND platform = ? AND lease_expires_at <= ?)
                    """, arguments: [platform.rawValue, now.microseconds, platform.rawValue, now.microseconds]) ?? false
        }
        guard due else { return ([], []) }
        return try await pool.write { db in
            // On PostgreSQL the inner SELECT takes `FOR UPDATE SKIP LOCKED`; SQLite has one writer, so it needs nothing.
            let ids = try String.fetchAll(
                db,
                sql: """
                    UPDATE push_deliveries SET state = 'sending', lease_owner = ?, lease_expires_at = ?, attempts = attempts + 1, update_time = ?
                    WHERE id IN (
                        SELECT id FROM push_deliveries
                        WHERE (state = 'queued' AND platform = ? AND next_attempt_at <= ?)
                           OR (state = 'sending' AND platform = ? AND lease_expires_at <= ?)
                        ORDER BY next_attempt_at LIMIT ?)
                    RETURNING id
                    """,
                arguments: [
                    owner, leaseUntil.microseconds, now.microseconds, platform.rawValue, now.microseconds, platform.rawValue, now.microseconds,
                    limit,
                ])
            var deliveries: [Delivery] = []
            var orphans: [String] = []
            for id in ids {
                guard
                    let row = try Row.fetchOne(
                        db,
                        sql: """
                            SELECT d.id AS delivery_id, d.attempts, m.id AS message_id, m.content, m.create_time AS message_time, v.*
                            FROM push_deliveries d JOIN push_messages m ON m.id = d.message_id JOIN push_devices v ON v.id = d.device_id
                            WHERE d.id = ?
                            """, arguments: [id])
                else {
                    orphans.append(id)
                    continue
                }
                let content = try PushContent(json: JSONObject(try JSON(parsing: row["content"] as String), context: "stored message"))
                deliveries.append(
                    Delivery(
                        id: row["delivery_id"], messageID: row["message_id"], attempt: row["attempts"], device: Self.device(row),
                        content: content, messageTime: Timestamp(microseconds: row["message_time"])))
            }
            return (deliveries, orphans)
        }
    }

    /// What the queue does with a delivery after an attempt.
    enum Resolution: Sendable, Equatable {
        case delivered
        case retry(at: Timestamp, error: String)
        case failed(String)
        /// Failed, and its device deactivated.
        case deactivated(String)
        case dead(String)

        /// The delivery's new state, its error (nil keeps the last one) and its next attempt (nil keeps it).
        var row: (state: DeliveryState, error: String?, nextAttempt: Int64?) {
            switch self {
            case .delivered: (.delivered, nil, nil)
            case .retry(let at, let error): (.queued, error, at.microseconds)
            case .failed(let error), .deactivated(let error): (.failed, error, nil)
            case .dead(let error): (.dead, error, nil)
            }
        }
    }

    /// Records the end of an attempt, if `owner` still holds the delivery's lease (it did not expire into another
    /// server's hands meanwhile).
    /// - Returns: whether it was recorded.
    @discardableResult
    func resolve(_ id: String, owner: String, _ resolution: Resolution, now: Timestamp) async throws -> Bool {
        try await pool.write { db in
            let (state, error, next) = resolution.row
            try db.execute(
                sql: """
                    UPDATE push_deliveries SET state = ?, last_error = COALESCE(?, last_error), next_attempt_at = COALESCE(?, next_attempt_at),
                    lease_owner = NULL, lease_expires_at = NULL, update_time = ?, deliver_time = ?
                    WHERE id = ? AND state = 'sending' AND lease_owner = ?
                    """,
                arguments: [
                    state.rawValue, error, next, now.microseconds, state == .delivered ? now.microseconds : nil, id, owner,
                ])
            guard db.changesCount > 0 else { return false }
            if case .deactivated(let reason) = resolution,
                let device = try String.fetchOne(db, sql: "SELECT device_id FROM push_deliveries WHERE id = ?", arguments: [id])
            {
                try Self.deactivate(deviceID: device, reason: reason, now: now, db)
            }
            return true
        }
    }

    /// Extends the leases `owner` holds on the deliveries it is still sending.
    func renewLeases(owner: String, until: Timestamp) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE push_deliveries SET lease_expires_at = ? WHERE state = 'sending' AND lease_owner = ?",
                arguments: [until.microseconds, owner])
        }
    }

    /// The earliest time a delivery of one of `platforms` becomes due (a queued one's next attempt, or a lease's end).
    func nextDue(platforms: [PushPlatform]) async throws -> Timestamp? {
        guard !platforms.isEmpty else { return nil }
        let list = platforms.map { "'\($0.rawValue)'" }.joined(separator: ", ")
        return try await pool.read { db in
            let queued = try Int64.fetchOne(
                db, sql: "SELECT MIN(next_attempt_at) FROM push_deliveries WHERE state = 'queued' AND platform IN (\(list))")
            let leased = try Int64.fetchOne(
                db, sql: "SELECT MIN(lease_expires_at) FROM push_deliveries WHERE state = 'sending' AND platform IN (\(list))")
            return [queued, leased].compactMap { $0 }.min().map(Timestamp.init(microseconds:))
        }
    }

    /// How many deliveries are queued, being sent, and dead.
    func counts() async throws -> [DeliveryState: Int] {
        try await pool.read { db in
            var counts: [DeliveryState: Int] = [.queued: 0, .sending: 0, .dead: 0]
            for row in try Row.fetchAll(
                db, sql: "SELECT state, COUNT(*) AS n FROM push_deliveries WHERE state IN ('queued', 'sending', 'dead') GROUP BY state")
            {
                if let state = DeliveryState(rawValue: row["state"]) { counts[state] = row["n"] }
            }
            return counts
        }
    }
}
