@testable import FlintServer
import FlintTestSupport
import Logging
import PostgresNIO
import Testing

/// The shared PostgreSQL pieces: connecting with a clear error, and migrations applied once across servers.
@Suite struct PostgresDatabaseTests {
    @Test func anUnreachableServerIsAClearStartupError() async throws {
        // Port 1 on loopback: nothing listens there, the connection is refused.
        let url = try PostgresURL(parsing: "postgres://flint@127.0.0.1:1/flint?sslmode=disable")
        do {
            let database = try await PostgresDatabase.connect(url, logger: Logger(label: "test"))
            database.close()
            Issue.record("connected to a port where nothing listens")
        } catch let error as ConfigurationError {
            #expect(error.description.contains("cannot use the PostgreSQL database at postgres://flint@127.0.0.1:1/flint"))
        }
    }

    // Skipped without a PostgreSQL server or its binaries (see TestPostgres.unavailableReason).
    @Test(.enabled(if: TestPostgres.isAvailable, Comment(rawValue: TestPostgres.unavailableReason)))
    func migrationsApplyOnceWhenTwoServersStartTogether() async throws {
        try await TestPostgres.withDatabase { url in
            var migrator = PostgresMigrator()
            // Not idempotent on purpose: applied twice, the second CREATE TABLE would fail.
            migrator.register("widgets-v1", ["CREATE TABLE widgets (id bigint PRIMARY KEY)", "INSERT INTO widgets VALUES (1)"])
            migrator.register("widgets-v2", ["ALTER TABLE widgets ADD COLUMN name text"])
            let first = try await PostgresDatabase.connect(url, logger: Logger(label: "test"))
            let second = try await PostgresDatabase.connect(url, logger: Logger(label: "test"))
            defer {
                first.close()
                second.close()
            }
            async let a = migrator.migrate(first)
            async let b = migrator.migrate(second)
            let applied = try await [a, b]
            #expect(applied.flatMap { $0 }.sorted() == ["widgets-v1", "widgets-v2"])
            #expect(applied.contains([]))
            #expect(try await migrator.migrate(first) == [])
            var names: [String] = []
            for try await name in try await first.client.query("SELECT name FROM flint_migrations ORDER BY name").decode(String.self) {
                names.append(name)
            }
            #expect(names == ["widgets-v1", "widgets-v2"])
            #expect(await first.isReady())
        }
    }
}
