import FlintCore
import Foundation
public import Logging
import PostgresNIO
public import ServiceLifecycle

/// The connection pool to the PostgreSQL server of `FLINT_DATABASE_URL`, shared by every store that lives there.
///
/// The pool must run before the application's services start (stores read their state while the application is
/// assembled), so `connect` starts it and checks that the server answers; as a service in the application's group,
/// it then stays up until the group stops, and closes its connections last.
public final class PostgresDatabase: Service, Sendable {
    let client: PostgresClient
    let url: PostgresURL
    let logger: Logger
    private let runner: Task<Void, Never>

    private init(url: PostgresURL, maximumConnections: Int, logger: Logger) {
        self.url = url
        self.logger = logger
        let client = PostgresClient(configuration: url.clientConfiguration(maximumConnections: maximumConnections), backgroundLogger: logger)
        self.client = client
        runner = Task { await client.run() }
    }

    /// Starts the pool and waits until the server answers a query.
    /// - Throws: `ConfigurationError` naming the server when it cannot be reached or refuses the connection.
    public static func connect(_ url: PostgresURL, maximumConnections: Int = 20, logger: Logger) async throws -> PostgresDatabase {
        let database = PostgresDatabase(url: url, maximumConnections: maximumConnections, logger: logger)
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await database.client.query("SELECT 1") }
                group.addTask {
                    try await Task.sleep(for: .seconds(15))
                    throw ConfigurationError("no answer within 15 seconds")
                }
                try await group.next()
                group.cancelAll()
            }
        } catch {
            database.close()
            throw ConfigurationError("cannot use the PostgreSQL database at \(url): \(Self.reason(error))")
        }
        return database
    }

    /// What went wrong, in the server's words when it said something, without the query or the password.
    static func reason(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] { return message }
            return "\(error.code)"
        }
        return "\(error)"
    }

    /// Keeps the pool until graceful shutdown (the services before it in the group have stopped by then), then closes it.
    public func run() async throws {
        try? await gracefulShutdown()
        close()
    }

    /// Closes every connection; queries after this fail.
    public func close() {
        runner.cancel()
    }

    /// Whether the server answers a trivial query: the readiness check.
    public func isReady() async -> Bool {
        do {
            let rows = try await client.query("SELECT 1")
            for try await value in rows.decode(Int.self) { return value == 1 }
            return false
        } catch {
            return false
        }
    }

    /// Runs `body` in a transaction on one connection: committed when it returns, rolled back when it throws (and
    /// then its error is rethrown as it was).
    /// - Parameter isolation: the SQL isolation level, such as `REPEATABLE READ`; PostgreSQL's default when nil.
    func transaction<T: Sendable>(isolation: String? = nil, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await client.withConnection { connection in
            try await connection.query(PostgresQuery(unsafeSQL: isolation.map { "BEGIN ISOLATION LEVEL \($0)" } ?? "BEGIN"), logger: logger)
            do {
                let value = try await body(connection)
                try await connection.query("COMMIT", logger: logger)
                return value
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }
}
