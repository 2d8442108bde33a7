import FlintCore
public import Logging

/// Every setting of the server, with a default that runs on one machine.
///
/// Built once at start-up from flags and `FLINT_*` environment variables (flags win), validated, then passed down;
/// nothing else reads the environment.
public struct Configuration: Sendable {
    /// The address to listen on (`--host`, `FLINT_HOST`).
    public var host = "127.0.0.1"
    /// The port to listen on; 0 picks a free one (`--port`, `FLINT_PORT`).
    public var port = 8080
    /// Where the database and files live (`--data-dir`, `FLINT_DATA_DIR`).
    public var dataDirectory = "./flint-data"
    /// A PostgreSQL server for the documents instead of the SQLite file in the data directory, so that several servers
    /// can share them (`--database-url`, `FLINT_DATABASE_URL`: `postgres://user:password@host:port/database`).
    public var databaseURL: PostgresURL? = nil
    /// The least severe log level written (`--log-level`, `FLINT_LOG_LEVEL`).
    public var logLevel: Logger.Level = .info
    /// The largest request body accepted, in bytes (`--max-body-size`, `FLINT_MAX_BODY_SIZE`).
    public var maximumBodySize = 16 * 1024 * 1024
    /// How long the change log keeps commits for resuming listeners, in seconds (`--change-log-retention`,
    /// `FLINT_CHANGE_LOG_RETENTION`).
    public var changeLogRetentionSeconds = 24 * 3600
    /// With PostgreSQL, the most commits a server reads from the change log at a time while it catches up, which bounds
    /// the memory that takes (`--change-log-page`, `FLINT_CHANGE_LOG_PAGE`).
    public var changeLogPageSize = 500
    /// The most targets one realtime connection may listen to (`--realtime-max-targets`, `FLINT_REALTIME_MAX_TARGETS`).
    public var realtimeMaximumTargets = 100
    /// The most bytes queued for one realtime client before it is closed as too slow
    /// (`--realtime-queue-bytes`, `FLINT_REALTIME_QUEUE_BYTES`).
    public var realtimeMaximumQueuedBytes = 8 * 1024 * 1024
    /// Seconds between WebSocket pings; a client that does not answer one by the next is disconnected
    /// (`--realtime-ping-interval`, `FLINT_REALTIME_PING_INTERVAL`).
    public var realtimePingIntervalSeconds = 30
    /// The public URL of the server, the `iss` of its tokens (`--public-url`, `FLINT_PUBLIC_URL`); by default
    /// `http://HOST:PORT`.
    public var publicURL: String? = nil
    /// The shortest password accepted (`--password-min-length`, `FLINT_PASSWORD_MIN_LENGTH`).
    public var passwordMinimumLength = 8
    /// scrypt's cost as log2(N) with r=8, p=1 (`--password-cost`, `FLINT_PASSWORD_COST`); 17 is OWASP's recommendation.
    /// Lower it only for tests.
    public var passwordCost = 17
    /// Sign-in attempts allowed per account per minute (`--signin-limit`, `FLINT_SIGNIN_LIMIT`); ten times as many per
    /// client address.
    public var signInLimitPerMinute = 10
    /// The service account ensured at start-up, with the `admin` scope (`FLINT_ADMIN_CLIENT_ID`, `FLINT_ADMIN_CLIENT_SECRET`).
    public var adminClientID: String? = nil
    public var adminClientSecret: String? = nil
    /// External identity providers users may sign in with (`FLINT_AUTH_PROVIDERS`, a JSON array; see sdk-docs/auth.md).
    public var authProviders: [ExternalProvider] = []
    /// A folder whose `firestore.rules` and `storage.rules` are deployed at start-up when they differ from the live
    /// rules (`--rules-dir`, `FLINT_RULES_DIR`). Without it, rules are deployed through `/v1/admin/rules`.
    public var rulesDirectory: String? = nil
    /// The largest file, in bytes (`--max-file-size`, `FLINT_MAX_FILE_SIZE`); uploads are streamed, so this is not
    /// held in memory.
    public var maximumFileSize = 100 * 1024 * 1024
    /// The content types files may have, as media ranges (`--file-content-types`, `FLINT_FILE_CONTENT_TYPES`, comma
    /// separated: `image/*,application/pdf`); `*/*` allows all.
    public var fileContentTypes = ["*/*"]
    /// Bytes of files each user may store; 0 for no limit (`--file-quota`, `FLINT_FILE_QUOTA`). Admins are exempt.
    public var fileQuotaPerUser = 0
    /// Where the files' bytes live (`--files-dir`, `FLINT_FILES_DIR`); by default `files` in the data directory. Servers
    /// sharing a database must share this folder too (a network filesystem), since any of them may serve any file.
    public var filesDirectory: String? = nil
    /// Seconds an unfinished resumable upload is kept (`--upload-expiry`, `FLINT_UPLOAD_EXPIRY`).
    public var uploadExpirySeconds = 24 * 3600
    /// The longest lifetime of a signed download link, in seconds (`--signed-link-max-lifetime`,
    /// `FLINT_SIGNED_LINK_MAX_LIFETIME`).
    public var signedLinkMaximumLifetimeSeconds = 7 * 24 * 3600
    /// Push providers (`FLINT_PUSH_CONFIG`, a JSON object; see sdk-docs/push.md) and the send queue's tuning
    /// (`FLINT_PUSH_*`).
    public var push = PushConfiguration()

    public init() {}

    /// The settings one variable each, as documented in README's configuration table.
    public static let environmentVariables: [(name: String, flag: String, help: String)] = [
        ("FLINT_HOST", "--host", "address to listen on"),
        ("FLINT_PORT", "--port", "port to listen on (0: any free port)"),
        ("FLINT_DATA_DIR", "--data-dir", "folder for the database and files"),
        ("FLINT_DATABASE_URL", "--database-url", "PostgreSQL database for documents, auth, rules, file metadata and push, postgres://user:password@host:port/database"),
        ("FLINT_LOG_LEVEL", "--log-level", "trace, debug, info, notice, warning, error or critical"),
        ("FLINT_MAX_BODY_SIZE", "--max-body-size", "largest request body in bytes"),
        ("FLINT_CHANGE_LOG_RETENTION", "--change-log-retention", "seconds the change log keeps commits for resuming"),
        ("FLINT_CHANGE_LOG_PAGE", "--change-log-page", "commits a server reads from the PostgreSQL change log at a time while catching up"),
        ("FLINT_REALTIME_MAX_TARGETS", "--realtime-max-targets", "most targets per realtime connection"),
        ("FLINT_REALTIME_QUEUE_BYTES", "--realtime-queue-bytes", "bytes queued for a realtime client before it is closed as too slow"),
        ("FLINT_REALTIME_PING_INTERVAL", "--realtime-ping-interval", "seconds between WebSocket pings"),
        ("FLINT_PUBLIC_URL", "--public-url", "public URL of the server, the issuer of its tokens"),
        ("FLINT_PASSWORD_MIN_LENGTH", "--password-min-length", "shortest password accepted"),
        ("FLINT_PASSWORD_COST", "--password-cost", "scrypt cost as log2(N)"),
        ("FLINT_SIGNIN_LIMIT", "--signin-limit", "sign-in attempts per account per minute"),
        ("FLINT_ADMIN_CLIENT_ID", "--admin-client-id", "service account with the admin scope, ensured at start-up"),
        ("FLINT_ADMIN_CLIENT_SECRET", "--admin-client-secret", "its secret"),
        ("FLINT_AUTH_PROVIDERS", "--auth-providers", "external sign-in providers, a JSON array"),
        ("FLINT_RULES_DIR", "--rules-dir", "folder whose firestore.rules and storage.rules are deployed at start-up"),
        ("FLINT_MAX_FILE_SIZE", "--max-file-size", "largest file in bytes"),
        ("FLINT_FILE_CONTENT_TYPES", "--file-content-types", "content types files may have, comma-separated media ranges"),
        ("FLINT_FILE_QUOTA", "--file-quota", "bytes of files each user may store (0: no limit)"),
        ("FLINT_FILES_DIR", "--files-dir", "folder for the files' bytes, shared by servers that share a database"),
        ("FLINT_UPLOAD_EXPIRY", "--upload-expiry", "seconds an unfinished resumable upload is kept"),
        ("FLINT_SIGNED_LINK_MAX_LIFETIME", "--signed-link-max-lifetime", "longest lifetime of a signed download link in seconds"),
        ("FLINT_PUSH_CONFIG", "--push-config", "push providers (APNs, FCM, Web Push, webhook), a JSON object"),
        ("FLINT_PUSH_CONCURRENCY", "--push-concurrency", "sends in flight at once per push provider"),
        ("FLINT_PUSH_MAX_ATTEMPTS", "--push-max-attempts", "attempts per push delivery before it becomes a dead letter"),
        ("FLINT_PUSH_RETRY_BASE_MS", "--push-retry-base-ms", "first push retry's backoff bound in milliseconds, doubled per attempt"),
        ("FLINT_PUSH_RETRY_CAP", "--push-retry-cap", "largest push retry backoff in seconds"),
        ("FLINT_PUSH_LEASE", "--push-lease", "seconds a claimed push delivery stays leased to one server unless renewed"),
        ("FLINT_PUSH_BREAKER_FAILURES", "--push-breaker-failures", "consecutive failures that open a push provider's circuit breaker"),
        ("FLINT_PUSH_BREAKER_PAUSE", "--push-breaker-pause", "seconds an open circuit breaker waits before one probe"),
    ]

    /// Applies `FLINT_*` variables, then the given flag values (keyed by variable name), validating each.
    /// - Throws: `ConfigurationError` naming the setting and what it accepts.
    public mutating func apply(environment: [String: String], flags: [String: String] = [:]) throws(ConfigurationError) {
        var values = environment.filter { $0.key.hasPrefix("FLINT_") }
        values.merge(flags) { _, flag in flag }
        if let host = values["FLINT_HOST"] {
            guard !host.isEmpty else { throw ConfigurationError("FLINT_HOST / --host must not be empty") }
            self.host = host
        }
        if let text = values["FLINT_PORT"] {
            guard let port = Int(text), (0...65535).contains(port) else {
                throw ConfigurationError("FLINT_PORT / --port must be a number from 0 to 65535, not \"\(text)\"")
            }
            self.port = port
        }
        if let directory = values["FLINT_DATA_DIR"] {
            guard !directory.isEmpty else { throw ConfigurationError("FLINT_DATA_DIR / --data-dir must not be empty") }
            self.dataDirectory = directory
        }
        if let text = values["FLINT_DATABASE_URL"] {
            databaseURL = try PostgresURL(parsing: text)
        }
        if let text = values["FLINT_LOG_LEVEL"] {
            guard let level = Logger.Level(rawValue: text.lowercased()) else {
                throw ConfigurationError(
                    "FLINT_LOG_LEVEL / --log-level must be one of trace, debug, info, notice, warning, error, critical; not \"\(text)\"")
            }
            self.logLevel = level
        }
        if let text = values["FLINT_MAX_BODY_SIZE"] {
            guard let size = Int(text), size >= 1024 else {
                throw ConfigurationError("FLINT_MAX_BODY_SIZE / --max-body-size must be a number of bytes, at least 1024, not \"\(text)\"")
            }
            self.maximumBodySize = size
        }
        changeLogRetentionSeconds = try Self.integer(values, "FLINT_CHANGE_LOG_RETENTION", "--change-log-retention", minimum: 1) ?? changeLogRetentionSeconds
        changeLogPageSize = try Self.integer(values, "FLINT_CHANGE_LOG_PAGE", "--change-log-page", minimum: 1) ?? changeLogPageSize
        realtimeMaximumTargets = try Self.integer(values, "FLINT_REALTIME_MAX_TARGETS", "--realtime-max-targets", minimum: 1) ?? realtimeMaximumTargets
        realtimeMaximumQueuedBytes = try Self.integer(values, "FLINT_REALTIME_QUEUE_BYTES", "--realtime-queue-bytes", minimum: 1024) ?? realtimeMaximumQueuedBytes
        realtimePingIntervalSeconds = try Self.integer(values, "FLINT_REALTIME_PING_INTERVAL", "--realtime-ping-interval", minimum: 1) ?? realtimePingIntervalSeconds
        passwordMinimumLength = try Self.integer(values, "FLINT_PASSWORD_MIN_LENGTH", "--password-min-length", minimum: 1) ?? passwordMinimumLength
        passwordCost = try Self.integer(values, "FLINT_PASSWORD_COST", "--password-cost", minimum: 4) ?? passwordCost
        signInLimitPerMinute = try Self.integer(values, "FLINT_SIGNIN_LIMIT", "--signin-limit", minimum: 1) ?? signInLimitPerMinute
        if let url = values["FLINT_PUBLIC_URL"] {
            guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                throw ConfigurationError("FLINT_PUBLIC_URL / --public-url must start with http:// or https://, not \"\(url)\"")
            }
            publicURL = url.hasSuffix("/") ? String(url.dropLast()) : url
        }
        adminClientID = values["FLINT_ADMIN_CLIENT_ID"] ?? adminClientID
        adminClientSecret = values["FLINT_ADMIN_CLIENT_SECRET"] ?? adminClientSecret
        if (adminClientID == nil) != (adminClientSecret == nil) {
            throw ConfigurationError("set both FLINT_ADMIN_CLIENT_ID and FLINT_ADMIN_CLIENT_SECRET, or neither")
        }
        if let text = values["FLINT_AUTH_PROVIDERS"] {
            do {
                authProviders = try ExternalProvider.parse(text)
            } catch {
                throw ConfigurationError(error.message)
            }
        }
        if let directory = values["FLINT_RULES_DIR"] {
            guard !directory.isEmpty else { throw ConfigurationError("FLINT_RULES_DIR / --rules-dir must not be empty") }
            rulesDirectory = directory
        }
        maximumFileSize = try Self.integer(values, "FLINT_MAX_FILE_SIZE", "--max-file-size", minimum: 1) ?? maximumFileSize
        if let text = values["FLINT_FILE_CONTENT_TYPES"] {
            fileContentTypes = try ContentTypePolicy.parse(text).get().allowed
        }
        fileQuotaPerUser = try Self.integer(values, "FLINT_FILE_QUOTA", "--file-quota", minimum: 0) ?? fileQuotaPerUser
        if let directory = values["FLINT_FILES_DIR"] {
            guard !directory.isEmpty else { throw ConfigurationError("FLINT_FILES_DIR / --files-dir must not be empty") }
            filesDirectory = directory
        }
        uploadExpirySeconds = try Self.integer(values, "FLINT_UPLOAD_EXPIRY", "--upload-expiry", minimum: 60) ?? uploadExpirySeconds
        signedLinkMaximumLifetimeSeconds =
            try Self.integer(values, "FLINT_SIGNED_LINK_MAX_LIFETIME", "--signed-link-max-lifetime", minimum: 1) ?? signedLinkMaximumLifetimeSeconds
        if let text = values["FLINT_PUSH_CONFIG"] {
            do {
                try push.applyProviders(text)
            } catch {
                throw ConfigurationError(error.message)
            }
        }
        push.concurrency = try Self.integer(values, "FLINT_PUSH_CONCURRENCY", "--push-concurrency", minimum: 1) ?? push.concurrency
        push.maximumAttempts = try Self.integer(values, "FLINT_PUSH_MAX_ATTEMPTS", "--push-max-attempts", minimum: 1) ?? push.maximumAttempts
        push.retryBaseMilliseconds = try Self.integer(values, "FLINT_PUSH_RETRY_BASE_MS", "--push-retry-base-ms", minimum: 1) ?? push.retryBaseMilliseconds
        push.retryCapSeconds = try Self.integer(values, "FLINT_PUSH_RETRY_CAP", "--push-retry-cap", minimum: 1) ?? push.retryCapSeconds
        push.leaseSeconds = try Self.integer(values, "FLINT_PUSH_LEASE", "--push-lease", minimum: 1) ?? push.leaseSeconds
        push.breakerFailures = try Self.integer(values, "FLINT_PUSH_BREAKER_FAILURES", "--push-breaker-failures", minimum: 1) ?? push.breakerFailures
        push.breakerPauseSeconds = try Self.integer(values, "FLINT_PUSH_BREAKER_PAUSE", "--push-breaker-pause", minimum: 1) ?? push.breakerPauseSeconds
        if let secret = adminClientSecret, secret.count < 16 {
            throw ConfigurationError("FLINT_ADMIN_CLIENT_SECRET must have at least 16 characters")
        }
    }

    private static func integer(_ values: [String: String], _ variable: String, _ flag: String, minimum: Int) throws(ConfigurationError) -> Int? {
        guard let text = values[variable] else { return nil }
        guard let value = Int(text), value >= minimum else {
            throw ConfigurationError("\(variable) / \(flag) must be a whole number, at least \(minimum), not \"\(text)\"")
        }
        return value
    }
}

/// A setting that cannot be used, with a message for the operator.
public struct ConfigurationError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
