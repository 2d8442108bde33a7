import PostgresNIO

extension PSQLError {
    /// The server refused a row because a unique constraint already holds its key (SQLSTATE 23505).
    var isUniqueViolation: Bool { serverInfo?[.sqlState] == "23505" }
}
