import PostgresNIO

extension PostgresDatabase {
    /// Runs one statement on a pooled connection and returns every row it gives, each readable by column name.
    func rows(_ query: PostgresQuery) async throws -> [PostgresRandomAccessRow] {
        try await client.query(query, logger: logger).collect().map { $0.makeRandomAccess() }
    }
}

extension PostgresDatabase {
    /// Applies one store's migration with the shared runner, unless it was applied before (by any server).
    func migrate(_ name: String, _ statements: [String]) async throws {
        var migrator = PostgresMigrator()
        migrator.register(name, statements)
        try await migrator.migrate(self)
    }
}
