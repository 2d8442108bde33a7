import _ConnectionPoolModule
import PostgresNIO

extension PSQLError {
    /// The server refused a row because a unique constraint already holds its key (SQLSTATE 23505).
    var isUniqueViolation: Bool { serverInfo?[.sqlState] == "23505" }
}

/// Whether `error` says the PostgreSQL database could not be reached or dropped the connection, rather than refusing
/// a statement: the request may well work on a retry, so the client is told `unavailable` (503), not `internal`.
func isDatabaseUnavailable(_ error: any Error) -> Bool {
    // The pool is shut down, or could not connect for a while.
    if error is ConnectionPoolError { return true }
    guard let error = error as? PSQLError else { return false }
    guard error.code == .server, let state = error.serverInfo?[.sqlState] else { return true }
    // 08: connection exception; 53: insufficient resources; 57P01–57P03: the server is shutting down or starting.
    return state.hasPrefix("08") || state.hasPrefix("53") || ["57P01", "57P02", "57P03"].contains(state)
}
