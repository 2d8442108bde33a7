import FlintCore
import Logging
import PostgresNIO

/// Named, ordered schema migrations for a PostgreSQL database, each applied once.
///
/// The applied names are kept in `flint_migrations`. Everything runs in one transaction under a transaction-level
/// advisory lock, so two servers starting together against a new database do not race: the second waits, then sees
/// the first one's migrations as applied. Each store registers its own migrations under names of its own
/// (`documents-v1`, `auth-v1`, …); the names are the identity, so a migration, once shipped, is never edited.
struct PostgresMigrator {
    /// One migration: SQL statements run in order (one statement each: the extended protocol runs one at a time).
    struct Migration {
        var name: String
        var statements: [String]
    }

    /// The advisory lock's key (`pg_advisory_xact_lock(bigint)`), the same for every Flint server: "flint-mg" in ASCII.
    static let lockKey: Int64 = 0x666c_696e_742d_6d67

    private(set) var migrations: [Migration] = []

    mutating func register(_ name: String, _ statements: [String]) {
        precondition(!migrations.contains { $0.name == name }, "migration \(name) registered twice")
        migrations.append(Migration(name: name, statements: statements))
    }

    /// Applies the migrations not yet applied, in registration order, and returns their names.
    @discardableResult
    func migrate(_ database: PostgresDatabase) async throws -> [String] {
        let migrations = self.migrations
        let logger = database.logger
        return try await database.transaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.lockKey))", logger: logger)
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS flint_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
                logger: logger)
            var applied = Set<String>()
            for try await name in try await connection.query("SELECT name FROM flint_migrations", logger: logger).decode(String.self) {
                applied.insert(name)
            }
            var names: [String] = []
            for migration in migrations where !applied.contains(migration.name) {
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("INSERT INTO flint_migrations (name) VALUES (\(migration.name))", logger: logger)
                names.append(migration.name)
                logger.info("applied PostgreSQL migration", metadata: ["migration": "\(migration.name)"])
            }
            return names
        }
    }
}
