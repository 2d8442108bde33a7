import FlintCore
import GRDB

extension PushStore {

    /// A delivery as the API shows it.
    struct DeliveryStatus: Sendable {
        var id: String
        var messageID: String
        var deviceID: String
        var platform: String
        var state: DeliveryState
        var attempts: Int
        var lastError: String?
        var nextAttemptTime: Timestamp?
        var updateTime: Timestamp
        var deliverTime: Timestamp?

        var json: JSON {
            var members: [String: JSON] = [
                "id": .string(id), "message": .string(messageID), "device": .string(deviceID), "platform": .string(platform),
                "state": .string(state.rawValue), "attempts": .integer(Int64(attempts)), "updateTime": .string(updateTime.description),
            ]
            if let lastError { members["lastError"] = .string(lastError) }
            if let nextAttemptTime, state == .queued { members["nextAttemptTime"] = .string(nextAttemptTime.description) }
            if let deliverTime { members["deliverTime"] = .string(deliverTime.description) }
            return .object(members)
        }
    }

    /// A message with its deliveries.
    struct MessageStatus: Sendable {
        var id: String
        var sender: String
        var content: JSON
        var targets: JSON
        var createTime: Timestamp
        var deliveries: [DeliveryStatus]

        var json: JSON {
            var counts: [String: JSON] = [:]
            for state in DeliveryState.allCases { counts[state.rawValue] = .integer(Int64(deliveries.filter { $0.state == state }.count)) }
            let pending = deliveries.contains { $0.state == .queued || $0.state == .sending }
            return .object([
                "id": .string(id), "sender": .string(sender), "content": content, "to": targets, "createTime": .string(createTime.description),
                "state": .string(pending ? "pending" : "done"), "counts": .object(counts), "deliveries": .array(deliveries.map(\.json)),
            ])
        }
    }

    func message(id: String) async throws -> MessageStatus? {
        try await pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM push_messages WHERE id = ?", arguments: [id]) else { return nil }
            let deliveries = try Row.fetchAll(
                db, sql: "SELECT * FROM push_deliveries WHERE message_id = ? ORDER BY create_time, id", arguments: [id]
            ).map(Self.deliveryStatus)
            return MessageStatus(
                id: id, sender: row["sender"], content: try JSON(parsing: row["content"] as String), targets: try JSON(parsing: row["targets"] as String),
                createTime: Timestamp(microseconds: row["create_time"]), deliveries: deliveries)
        }
    }

    /// A page of dead deliveries in id order, after `after`.
    func deadLetters(after: String?, limit: Int) async throws -> [DeliveryStatus] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM push_deliveries WHERE state = 'dead' AND id > ? ORDER BY id LIMIT ?", arguments: [after ?? "", limit]
            ).map(Self.deliveryStatus)
        }
    }

    /// Puts dead deliveries (one, or all when `id` is nil) back in the queue with a fresh set of attempts.
    /// - Returns: how many were requeued.
    func retryDead(id: String?, now: Timestamp) async throws -> Int {
        try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE push_deliveries SET state = 'queued', attempts = 0, next_attempt_at = ?, update_time = ?
                    WHERE state = 'dead' AND (? IS NULL OR id = ?)
                    """, arguments: [now.microseconds, now.microseconds, id, id])
            return db.changesCount
        }
    }

    static func deliveryStatus(_ row: Row) -> DeliveryStatus {
        DeliveryStatus(
            id: row["id"], messageID: row["message_id"], deviceID: row["device_id"], platform: row["platform"],
            state: DeliveryState(rawValue: row["state"]) ?? .failed, attempts: row["attempts"], lastError: row["last_error"],
            nextAttemptTime: (row["next_attempt_at"] as Int64?).map(Timestamp.init(microseconds:)),
            updateTime: Timestamp(microseconds: row["update_time"]), deliverTime: (row["deliver_time"] as Int64?).map(Timestamp.init(microseconds:)))
    }
}
