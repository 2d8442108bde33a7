import FlintCore
import Foundation
import PostgresNIO

/// Devices, topic subscriptions, messages and their deliveries in PostgreSQL, shared by every server.
///
/// The deliveries table is the send queue, with the same leases as `PushStore`'s. Here a claim picks its rows with
/// `FOR UPDATE SKIP LOCKED`, so the PushWorkers of several servers claim at once without waiting for each other and
/// never claim one delivery twice; a dead server's leases expire and another server's claim takes them over.
final class PostgresPushStore: PushStorage {
    let database: PostgresDatabase
    var logger: Logger { database.logger }

    init(database: PostgresDatabase) async throws {
        self.database = database
        try await database.migrate(
            "push-v1",
            [
                """
                CREATE TABLE push_devices (
                    id text PRIMARY KEY, uid text NOT NULL, platform text NOT NULL, token text NOT NULL, app_id text, locale text,
                    p256dh bytea, auth bytea, active boolean NOT NULL DEFAULT true, inactive_reason text, create_time bigint NOT NULL,
                    update_time bigint NOT NULL, UNIQUE (platform, token))
                """,
                "CREATE INDEX push_devices_uid ON push_devices (uid)",
                """
                CREATE TABLE push_topics (
                    device_id text NOT NULL REFERENCES push_devices (id) ON DELETE CASCADE, topic text NOT NULL,
                    PRIMARY KEY (device_id, topic))
                """,
                "CREATE INDEX push_topics_topic ON push_topics (topic, device_id)",
                """
                CREATE TABLE push_messages (
                    id text PRIMARY KEY, sender text NOT NULL, idempotency_key text, request_hash text NOT NULL, content text NOT NULL,
                    targets text NOT NULL, create_time bigint NOT NULL, UNIQUE (sender, idempotency_key))
                """,
                """
                CREATE TABLE push_deliveries (
                    id text PRIMARY KEY, message_id text NOT NULL REFERENCES push_messages (id) ON DELETE CASCADE, device_id text NOT NULL,
                    platform text NOT NULL, state text NOT NULL, attempts integer NOT NULL DEFAULT 0, next_attempt_at bigint NOT NULL,
                    lease_owner text, lease_expires_at bigint, last_error text, create_time bigint NOT NULL, update_time bigint NOT NULL,
                    deliver_time bigint, UNIQUE (message_id, device_id))
                """,
                "CREATE INDEX push_deliveries_due ON push_deliveries (state, platform, next_attempt_at)",
                "CREATE INDEX push_deliveries_lease ON push_deliveries (state, lease_expires_at) WHERE state = 'sending'",
                "CREATE INDEX push_deliveries_device ON push_deliveries (device_id, state)",
                "CREATE TABLE push_settings (name text PRIMARY KEY, value text NOT NULL)",
            ])
    }


    // MARK: Devices

    func register(_ registration: PushStore.Registration, uid: String, now: Timestamp) async throws -> (PushDevice, created: Bool) {
        let p256dh = registration.p256dh.map { Data($0) }
        let auth = registration.auth.map { Data($0) }
        return try await database.transaction { connection in
            // A new device, unless the platform and token are registered already (perhaps just now, by another server).
            let inserted = try await connection.query(
                """
                INSERT INTO push_devices (id, uid, platform, token, app_id, locale, p256dh, auth, create_time, update_time)
                VALUES (\(AutoID.make()), \(uid), \(registration.platform.rawValue), \(registration.token), \(registration.appID),
                    \(registration.locale), \(p256dh), \(auth), \(now.microseconds), \(now.microseconds))
                ON CONFLICT (platform, token) DO NOTHING RETURNING *
                """, logger: logger
            ).collect().first
            if let inserted { return (try Self.device(inserted.makeRandomAccess()), true) }
            guard
                let existing = try await connection.query(
                    "SELECT * FROM push_devices WHERE platform = \(registration.platform.rawValue) AND token = \(registration.token) FOR UPDATE",
                    logger: logger
                ).collect().first.map({ try Self.device($0.makeRandomAccess()) })
            else { throw FlintError(.aborted, "the device was removed while it was registered; register it again") }
            if existing.uid != uid { try await connection.query("DELETE FROM push_topics WHERE device_id = \(existing.id)", logger: logger) }
            let updated = try await connection.query(
                """
                UPDATE push_devices SET uid = \(uid), app_id = \(registration.appID), locale = \(registration.locale), p256dh = \(p256dh),
                    auth = \(auth), active = true, inactive_reason = NULL, update_time = \(now.microseconds)
                WHERE id = \(existing.id) RETURNING *
                """, logger: logger
            ).collect()
            return (try Self.device(updated[0].makeRandomAccess()), false)
        }
    }

    func device(id: String) async throws -> PushDevice? {
        try await database.rows("SELECT * FROM push_devices WHERE id = \(id)").first.map(Self.device)
    }

    func devices(uid: String) async throws -> [PushDevice] {
        try await database.rows("SELECT * FROM push_devices WHERE uid = \(uid) ORDER BY create_time, id").map(Self.device)
    }

    func topics(deviceID: String) async throws -> [String] {
        try await database.rows("SELECT topic FROM push_topics WHERE device_id = \(deviceID) ORDER BY topic").map { try $0["topic"].decode(String.self) }
    }

    func deleteDevice(id: String, now: Timestamp) async throws -> Bool {
        try await database.transaction { connection in
            try await connection.query(
                """
                UPDATE push_deliveries SET state = 'failed', last_error = 'the device was unregistered', lease_owner = NULL,
                    update_time = \(now.microseconds)
                WHERE device_id = \(id) AND state IN ('queued', 'dead')
                """, logger: logger)
            try await connection.query("DELETE FROM push_topics WHERE device_id = \(id)", logger: logger)
            return try await connection.query("DELETE FROM push_devices WHERE id = \(id) RETURNING id", logger: logger).collect().count > 0
        }
    }

    func subscribe(deviceID: String, topic: String) async throws {
        try await database.client.query(
            "INSERT INTO push_topics (device_id, topic) VALUES (\(deviceID), \(topic)) ON CONFLICT DO NOTHING", logger: logger)
    }

    func unsubscribe(deviceID: String, topic: String) async throws {
        try await database.client.query("DELETE FROM push_topics WHERE device_id = \(deviceID) AND topic = \(topic)", logger: logger)
    }

    static func device(_ row: PostgresRandomAccessRow) throws -> PushDevice {
        PushDevice(
            id: try row["id"].decode(String.self), uid: try row["uid"].decode(String.self),
            platform: PushPlatform(rawValue: try row["platform"].decode(String.self)) ?? .webhook, token: try row["token"].decode(String.self),
            appID: try row["app_id"].decode(String?.self), locale: try row["locale"].decode(String?.self),
            p256dh: try row["p256dh"].decode(Data?.self).map(Array.init), auth: try row["auth"].decode(Data?.self).map(Array.init),
            active: try row["active"].decode(Bool.self), inactiveReason: try row["inactive_reason"].decode(String?.self),
            createTime: Timestamp(microseconds: try row["create_time"].decode(Int64.self)),
            updateTime: Timestamp(microseconds: try row["update_time"].decode(Int64.self)))
    }

    // MARK: Settings

    func setting(_ name: String, orMake make: @Sendable () throws -> String) async throws -> String {
        if let row = try await database.rows("SELECT value FROM push_settings WHERE name = \(name)").first { return try row["value"].decode(String.self) }
        let value = try make()
        // Another server may store its value first: then every server uses that one.
        try await database.client.query(
            "INSERT INTO push_settings (name, value) VALUES (\(name), \(value)) ON CONFLICT (name) DO NOTHING", logger: logger)
        guard let row = try await database.rows("SELECT value FROM push_settings WHERE name = \(name)").first else {
            throw FlintError(.internal, "the push setting \(name) was not stored")
        }
        return try row["value"].decode(String.self)
    }
}
