import Foundation
import Logging
import NIOSSL
import PostgresNIO

/// A PostgreSQL server's address as `FLINT_DATABASE_URL` gives it: `postgres://user:password@host:port/database`,
/// optionally with `?sslmode=disable|prefer|require` (libpq's names; `prefer` when absent).
///
/// Parsed once at start-up, so a malformed URL is a configuration error that names the setting.
public struct PostgresURL: Sendable, Equatable, CustomStringConvertible {
    public enum TLSMode: String, Sendable {
        case disable, prefer, require
    }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var tls: TLSMode

    /// - Throws: `ConfigurationError` saying what is wrong with `text`.
    public init(parsing text: String) throws(ConfigurationError) {
        func invalid(_ reason: String) -> ConfigurationError {
            ConfigurationError("FLINT_DATABASE_URL / --database-url must look like postgres://user:password@host:5432/database; \(reason)")
        }
        guard let components = URLComponents(string: text) else { throw invalid("it is not a URL") }
        guard components.scheme == "postgres" || components.scheme == "postgresql" else {
            throw invalid("the scheme must be postgres:// or postgresql://")
        }
        guard let host = components.host, !host.isEmpty else { throw invalid("the host is missing") }
        guard let username = components.user, !username.isEmpty else { throw invalid("the user name is missing") }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else { throw invalid("the database name is missing") }
        if let port = components.port, !(1...65535).contains(port) { throw invalid("the port must be from 1 to 65535") }
        var tls = TLSMode.prefer
        for item in components.queryItems ?? [] {
            guard item.name == "sslmode" else { throw invalid("the only parameter understood is sslmode, not \(item.name)") }
            guard let value = item.value, let mode = TLSMode(rawValue: value) else {
                throw invalid("sslmode must be disable, prefer or require")
            }
            tls = mode
        }
        self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        self.port = components.port ?? 5432
        self.username = username
        self.password = components.password
        self.database = database.removingPercentEncoding ?? database
        self.tls = tls
    }

    /// The URL without its password, for logs and messages.
    public var description: String {
        "postgres://\(username)@\(host.contains(":") ? "[\(host)]" : host):\(port)/\(database)?sslmode=\(tls.rawValue)"
    }

    /// The same server with another database, for tests that make one database each.
    public func with(database: String) -> PostgresURL {
        var copy = self
        copy.database = database
        return copy
    }

    /// The configuration of a postgres-nio client for this server.
    /// - Parameter maximumConnections: the pool's size; each server keeps at most this many connections.
    func clientConfiguration(maximumConnections: Int = 20) -> PostgresClient.Configuration {
        let tlsConfiguration: PostgresClient.Configuration.TLS
        switch tls {
        case .disable: tlsConfiguration = .disable
        case .prefer: tlsConfiguration = .prefer(.makeClientConfiguration())
        case .require: tlsConfiguration = .require(.makeClientConfiguration())
        }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tlsConfiguration)
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }
}
