import Crypto
import FlintCore
import FlintRules
import Foundation
import GRDB

/// Every ruleset ever deployed, per service, in the server's database. The newest release of a service is the live
/// one; a rollback is a new release that repeats an older one's source, so the history only grows.
final class RulesStore: RulesStorage {
    /// One deployment.
    struct Release: Sendable, Equatable {
        var id: Int64
        var service: RulesService
        var source: String
        /// The SHA-256 of the source, hex: tells at a glance whether two releases are the same rules.
        var sha256: String
        var createTime: Timestamp
        /// The uid or client id that deployed it; nil when loaded from the rules folder at start-up.
        var deployedBy: String?
        /// For a rollback, the release it repeats.
        var rollbackOf: Int64?

        /// `{"id", "service", "sha256", "createTime", "deployedBy", "rollbackOf"}`, and the source when asked.
        func json(includingSource: Bool) -> JSON {
            var object: [String: JSON] = [
                "id": .integer(id), "service": .string(service.pathName), "sha256": .string(sha256),
                "createTime": .string(createTime.description),
                "deployedBy": deployedBy.map(JSON.string) ?? .null, "rollbackOf": rollbackOf.map(JSON.integer) ?? .null,
            ]
            if includingSource { object["source"] = .string(source) }
            return .object(object)
        }
    }

    let pool: DatabasePool

    init(pool: DatabasePool) throws {
        self.pool = pool
        var migrator = DatabaseMigrator()
        migrator.registerMigration("rules-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE rules_releases (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        service TEXT NOT NULL,
                        source TEXT NOT NULL,
                        sha256 TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        deployed_by TEXT,
                        rollback_of INTEGER
                    );
                    CREATE INDEX rules_releases_service ON rules_releases(service, id);
                    """)
        }
        try migrator.migrate(pool)
    }

    /// Records a new release, which becomes the live one.
    func add(_ service: RulesService, source: String, deployedBy: String?, rollbackOf: Int64?) async throws -> Release {
        let hash = SHA256.hash(data: Array(source.utf8)).map { String(format: "%02x", $0) }.joined()
        let time = Timestamp.now()
        return try await pool.write { db in
            try db.execute(
                sql: "INSERT INTO rules_releases (service, source, sha256, created_at, deployed_by, rollback_of) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [service.rawValue, source, hash, time.microseconds, deployedBy, rollbackOf])
            return Release(
                id: db.lastInsertedRowID, service: service, source: source, sha256: hash, createTime: time, deployedBy: deployedBy,
                rollbackOf: rollbackOf)
        }
    }

    /// A service's releases, newest (the live one) first.
    func releases(_ service: RulesService, limit: Int) async throws -> [Release] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM rules_releases WHERE service = ? ORDER BY id DESC LIMIT ?", arguments: [service.rawValue, limit]
            ).compactMap(Self.release(from:))
        }
    }

    func release(id: Int64) async throws -> Release? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM rules_releases WHERE id = ?", arguments: [id]).flatMap(Self.release(from:))
        }
    }

    /// The live release of each service that has one.
    func live() async throws -> [Release] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM rules_releases WHERE id IN (SELECT MAX(id) FROM rules_releases GROUP BY service)"
            ).compactMap(Self.release(from:))
        }
    }

    private static func release(from row: Row) -> Release? {
        guard let service = RulesService(rawValue: row["service"]) else { return nil }
        return Release(
            id: row["id"], service: service, source: row["source"], sha256: row["sha256"],
            createTime: Timestamp(microseconds: row["created_at"]), deployedBy: row["deployed_by"], rollbackOf: row["rollback_of"])
    }
}

extension RulesService {
    /// The service's name in URLs and files: `firestore` or `storage`.
    var pathName: String {
        switch self {
        case .firestore: "firestore"
        case .storage: "storage"
        }
    }

    init?(pathName: String) {
        switch pathName {
        case "firestore": self = .firestore
        case "storage": self = .storage
        default: return nil
        }
    }
}
