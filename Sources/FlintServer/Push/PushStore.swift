import FlintCore
import Foundation
import GRDB

/// Devices, topic subscriptions, messages and their deliveries, in the server's SQLite database beside the documents.
///
/// The deliveries table is the send queue: one row per message and device, with its state, attempts, the time of
/// its next attempt, and the lease of the server sending it. Work is claimed with one conditional UPDATE, so several
/// servers sharing one database (PostgreSQL later) never send the same delivery at once, and a server that dies
/// mid-send leaves a lease that expires and lets another (or itself, restarted) send again.
final class PushStore: PushStorage {
    let pool: DatabasePool

    init(pool: DatabasePool) throws {
        self.pool = pool
        try Self.migrator.migrate(pool)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("push-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE push_devices (
                        id TEXT PRIMARY KEY,
                        uid TEXT NOT NULL,
                        platform TEXT NOT NULL,
                        token TEXT NOT NULL,
                        app_id TEXT,
                        locale TEXT,
                        p256dh BLOB,
                        auth BLOB,
                        active INTEGER NOT NULL DEFAULT 1,
                        inactive_reason TEXT,
                        create_time INTEGER NOT NULL,
                        update_time INTEGER NOT NULL,
                        UNIQUE (platform, token)
                    );
                    CREATE INDEX push_devices_uid ON push_devices(uid);
                    CREATE TABLE push_topics (
                        device_id TEXT NOT NULL REFERENCES push_devices(id) ON DELETE CASCADE,
                        topic TEXT NOT NULL,
                        PRIMARY KEY (device_id, topic)
                    ) WITHOUT ROWID;
                    CREATE INDEX push_topics_topic ON push_topics(topic, device_id);
                    CREATE TABLE push_messages (
                        id TEXT PRIMARY KEY,
                        sender TEXT NOT NULL,
                        idempotency_key TEXT,
                        request_hash TEXT NOT NULL,
                        content TEXT NOT NULL,
                        targets TEXT NOT NULL,
                        create_time INTEGER NOT NULL,
                        UNIQUE (sender, idempotency_key)
                    );
                    CREATE TABLE push_deliveries (
                        id TEXT PRIMARY KEY,
                        message_id TEXT NOT NULL REFERENCES push_messages(id) ON DELETE CASCADE,
                        device_id TEXT NOT NULL,
                        platform TEXT NOT NULL,
                        state TEXT NOT NULL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        next_attempt_at INTEGER NOT NULL,
                        lease_owner TEXT,
                        lease_expires_at INTEGER,
                        last_error TEXT,
                        create_time INTEGER NOT NULL,
                        update_time INTEGER NOT NULL,
                        deliver_time INTEGER,
                        UNIQUE (message_id, device_id)
                    );
                    CREATE INDEX push_deliveries_due ON push_deliveries(state, platform, next_attempt_at);
                    CREATE INDEX push_deliveries_lease ON push_deliveries(state, lease_expires_at) WHERE state = 'sending';
                    CREATE INDEX push_deliveries_device ON push_deliveries(device_id, state);
                    CREATE TABLE push_settings (
                        name TEXT PRIMARY KEY,
                        value NOT NULL
                    );
                    """)
        }
        return migrator
    }

    // MARK: Devices

    /// What a client sends to register a device.
    struct Registration: Sendable {
        var platform: PushPlatform
        var token: String
        var appID: String?
        var locale: String?
        var p256dh: [UInt8]?
        var auth: [UInt8]?
    }

    /// Registers a device for `uid`, or updates (and reactivates) the device that has the same platform and token.
    /// A device that moves to another user (someone else signed in on it) loses its topic subscriptions.
    /// - Returns: the device and whether it is new.
    func register(_ registration: Registration, uid: String, now: Timestamp) async throws -> (PushDevice, created: Bool) {
        try await pool.write { db in
            let existing = try Row.fetchOne(
                db, sql: "SELECT * FROM push_devices WHERE platform = ? AND token = ?",
                arguments: [registration.platform.rawValue, registration.token]
            ).map(Self.device)
            let id = existing?.id ?? AutoID.make()
            if let existing {
                if existing.uid != uid { try db.execute(sql: "DELETE FROM push_topics WHERE device_id = ?", arguments: [id]) }
                try db.execute(
                    sql: """
                        UPDATE push_devices SET uid = ?, app_id = ?, locale = ?, p256dh = ?, auth = ?, active = 1, inactive_reason = NULL,
                        update_time = ? WHERE id = ?
                        """,
                    arguments: [
                        uid, registration.appID, registration.locale, registration.p256dh.map { Data($0) }, registration.auth.map { Data($0) },
                        now.microseconds, id,
                    ])
            } else {
                try db.execute(
                    sql: """
                        INSERT INTO push_devices (id, uid, platform, token, app_id, locale, p256dh, auth, create_time, update_time)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        id, uid, registration.platform.rawValue, registration.token, registration.appID, registration.locale,
                        registration.p256dh.map { Data($0) }, registration.auth.map { Data($0) }, now.microseconds, now.microseconds,
                    ])
            }
            let device = try Row.fetchOne(db, sql: "SELECT * FROM push_devices WHERE id = ?", arguments: [id]).map(Self.device)!
            return (device, existing == nil)
        }
    }

    func device(id: String) async throws -> PushDevice? {
        try await pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM push_devices WHERE id = ?", arguments: [id]).map(Self.device) }
    }

    /// The devices of `uid`, oldest first.
    func devices(uid: String) async throws -> [PushDevice] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM push_devices WHERE uid = ? ORDER BY create_time, id", arguments: [uid]).map(Self.device)
        }
    }

    /// The topics a device is subscribed to, in name order.
    func topics(deviceID: String) async throws -> [String] {
        try await pool.read { db in
            try String.fetchAll(db, sql: "SELECT topic FROM push_topics WHERE device_id = ? ORDER BY topic", arguments: [deviceID])
        }
    }

    /// Removes a device and its subscriptions; its deliveries not yet sent fail with that reason.
    func deleteDevice(id: String, now: Timestamp) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE push_deliveries SET state = 'failed', last_error = 'the device was unregistered', lease_owner = NULL, update_time = ?
                    WHERE device_id = ? AND state IN ('queued', 'dead')
                    """, arguments: [now.microseconds, id])
            try db.execute(sql: "DELETE FROM push_topics WHERE device_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM push_devices WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    func subscribe(deviceID: String, topic: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO push_topics (device_id, topic) VALUES (?, ?)", arguments: [deviceID, topic])
        }
    }

    func unsubscribe(deviceID: String, topic: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM push_topics WHERE device_id = ? AND topic = ?", arguments: [deviceID, topic])
        }
    }

    /// Marks a device inactive: the push service said its token is no longer valid.
    static func deactivate(deviceID: String, reason: String, now: Timestamp, _ db: Database) throws {
        try db.execute(
            sql: "UPDATE push_devices SET active = 0, inactive_reason = ?, update_time = ? WHERE id = ?",
            arguments: [reason, now.microseconds, deviceID])
    }

    static func device(_ row: Row) -> PushDevice {
        PushDevice(
            id: row["id"], uid: row["uid"], platform: PushPlatform(rawValue: row["platform"]) ?? .webhook, token: row["token"],
            appID: row["app_id"], locale: row["locale"], p256dh: (row["p256dh"] as Data?).map(Array.init), auth: (row["auth"] as Data?).map(Array.init),
            active: row["active"], inactiveReason: row["inactive_reason"], createTime: Timestamp(microseconds: row["create_time"]),
            updateTime: Timestamp(microseconds: row["update_time"]))
    }

    // MARK: Settings

    /// The stored value of a setting, made (and stored) by `make` the first time.
    func setting(_ name: String, orMake make: @Sendable () throws -> String) async throws -> String {
        try await pool.write { db in
            if let value = try String.fetchOne(db, sql: "SELECT value FROM push_settings WHERE name = ?", arguments: [name]) { return value }
            let value = try make()
            try db.execute(sql: "INSERT INTO push_settings (name, value) VALUES (?, ?)", arguments: [name, value])
            return value
        }
    }
}
