import Crypto
import FlintCore
import FlintRules
import Foundation
import PostgresNIO

/// Every deployed ruleset in PostgreSQL, shared by every server. A new release is announced on the `flint_rules`
/// channel when it commits, so that the other servers' `RulesWatcher`s swap it in.
final class PostgresRulesStore: RulesStorage {
    /// The LISTEN/NOTIFY channel that carries the id of each new release.
    static let channel = "flint_rules"

    let database: PostgresDatabase
    var logger: Logger { database.logger }

    init(database: PostgresDatabase) async throws {
        self.database = database
        try await database.migrate(
            "rules-v1",
            [
                """
                CREATE TABLE rules_releases (
                    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, service text NOT NULL, source text NOT NULL, sha256 text NOT NULL,
                    created_at bigint NOT NULL, deployed_by text, rollback_of bigint)
                """,
                "CREATE INDEX rules_releases_service ON rules_releases (service, id)",
            ])
    }

    func add(_ service: RulesService, source: String, deployedBy: String?, rollbackOf: Int64?) async throws -> RulesStore.Release {
        let hash = SHA256.hash(data: Array(source.utf8)).map { String(format: "%02x", $0) }.joined()
        let time = Timestamp.now()
        let id = try await database.transaction { connection in
            let rows = try await connection.query(
                """
                INSERT INTO rules_releases (service, source, sha256, created_at, deployed_by, rollback_of)
                VALUES (\(service.rawValue), \(source), \(hash), \(time.microseconds), \(deployedBy), \(rollbackOf)) RETURNING id
                """, logger: logger)
            var id: Int64 = 0
            for try await value in rows.decode(Int64.self) { id = value }
            // Delivered to the listeners when the transaction commits, not before.
            try await connection.query("SELECT pg_notify(\(Self.channel), \(String(id)))", logger: logger)
            return id
        }
        return RulesStore.Release(
            id: id, service: service, source: source, sha256: hash, createTime: time, deployedBy: deployedBy, rollbackOf: rollbackOf)
    }

    func releases(_ service: RulesService, limit: Int) async throws -> [RulesStore.Release] {
        try await fetch("SELECT * FROM rules_releases WHERE service = \(service.rawValue) ORDER BY id DESC LIMIT \(limit)")
    }

    func release(id: Int64) async throws -> RulesStore.Release? {
        try await fetch("SELECT * FROM rules_releases WHERE id = \(id)").first
    }

    func live() async throws -> [RulesStore.Release] {
        try await fetch("SELECT DISTINCT ON (service) * FROM rules_releases ORDER BY service, id DESC")
    }

    /// The id of the newest release of any service, 0 before the first: what the watcher compares.
    func latestID() async throws -> Int64 {
        for try await id in try await database.client.query("SELECT COALESCE(MAX(id), 0)::bigint FROM rules_releases", logger: logger)
            .decode(Int64.self)
        {
            return id
        }
        return 0
    }

    private func fetch(_ query: PostgresQuery) async throws -> [RulesStore.Release] {
        try await database.client.query(query, logger: logger).collect().compactMap { row in
            let row = row.makeRandomAccess()
            guard let service = RulesService(rawValue: try row["service"].decode(String.self)) else { return nil }
            return RulesStore.Release(
                id: try row["id"].decode(Int64.self), service: service, source: try row["source"].decode(String.self),
                sha256: try row["sha256"].decode(String.self), createTime: Timestamp(microseconds: try row["created_at"].decode(Int64.self)),
                deployedBy: try row["deployed_by"].decode(String?.self), rollbackOf: try row["rollback_of"].decode(Int64?.self))
        }
    }
}
