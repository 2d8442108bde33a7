import ArgumentParser
import FlintServer
import Foundation
import Hummingbird

/// `flint-server`: reads its configuration from flags and `FLINT_*` variables and serves until SIGTERM or SIGINT.
@main
struct FlintServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flint-server",
        abstract: "Flint: documents, realtime, auth, files and push behind one URL.",
        discussion: "Every option can also be set by its environment variable; a flag wins over the variable.")

    @Option(help: "Address to listen on (FLINT_HOST). Default 127.0.0.1.") var host: String?
    @Option(help: "Port to listen on, 0 for any free port (FLINT_PORT). Default 8080.") var port: String?
    @Option(help: "Folder for the database and files (FLINT_DATA_DIR). Default ./flint-data.") var dataDir: String?
    @Option(help: "PostgreSQL server for the documents, postgres://user:password@host:port/database (FLINT_DATABASE_URL). Default: SQLite in the data folder.")
    var databaseUrl: String?
    @Option(help: "trace, debug, info, notice, warning, error or critical (FLINT_LOG_LEVEL). Default info.") var logLevel: String?
    @Option(help: "Largest request body in bytes (FLINT_MAX_BODY_SIZE). Default 16777216.") var maxBodySize: String?
    @Option(help: "Seconds the change log keeps commits for resuming listeners (FLINT_CHANGE_LOG_RETENTION). Default 86400.")
    var changeLogRetention: String?
    @Option(help: "Commits read from the PostgreSQL change log at a time while catching up (FLINT_CHANGE_LOG_PAGE). Default 500.")
    var changeLogPage: String?
    @Option(help: "Most targets per realtime connection (FLINT_REALTIME_MAX_TARGETS). Default 100.") var realtimeMaxTargets: String?
    @Option(help: "Bytes queued for a realtime client before it is closed as too slow (FLINT_REALTIME_QUEUE_BYTES). Default 8388608.")
    var realtimeQueueBytes: String?
    @Option(help: "Seconds between WebSocket pings (FLINT_REALTIME_PING_INTERVAL). Default 30.") var realtimePingInterval: String?
    @Option(help: "Public URL of the server, the issuer of its tokens (FLINT_PUBLIC_URL). Default http://HOST:PORT.") var publicURL: String?
    @Option(help: "Shortest password accepted (FLINT_PASSWORD_MIN_LENGTH). Default 8.") var passwordMinLength: String?
    @Option(help: "scrypt cost as log2(N), r=8, p=1 (FLINT_PASSWORD_COST). Default 17 (OWASP).") var passwordCost: String?
    @Option(help: "Sign-in attempts per account per minute (FLINT_SIGNIN_LIMIT). Default 10.") var signinLimit: String?
    @Option(help: "Service account with the admin scope, ensured at start-up (FLINT_ADMIN_CLIENT_ID).") var adminClientId: String?
    @Option(help: "Its secret, at least 16 characters (FLINT_ADMIN_CLIENT_SECRET); prefer the variable.") var adminClientSecret: String?
    @Option(help: "External sign-in providers, a JSON array (FLINT_AUTH_PROVIDERS); see sdk-docs/auth.md.") var authProviders: String?
    @Option(help: "Folder whose firestore.rules and storage.rules are deployed at start-up (FLINT_RULES_DIR).") var rulesDir: String?
    @Option(help: "Largest file in bytes (FLINT_MAX_FILE_SIZE). Default 104857600.") var maxFileSize: String?
    @Option(help: "Content types files may have, comma-separated media ranges such as image/*,application/pdf (FLINT_FILE_CONTENT_TYPES). Default */*.")
    var fileContentTypes: String?
    @Option(help: "Bytes of files each user may store, 0 for no limit (FLINT_FILE_QUOTA). Default 0.") var fileQuota: String?
    @Option(help: "Folder for the files' bytes, shared by servers that share a database (FLINT_FILES_DIR). Default DATA_DIR/files.")
    var filesDir: String?
    @Option(help: "Seconds an unfinished resumable upload is kept (FLINT_UPLOAD_EXPIRY). Default 86400.") var uploadExpiry: String?
    @Option(help: "Longest lifetime of a signed download link in seconds (FLINT_SIGNED_LINK_MAX_LIFETIME). Default 604800.")
    var signedLinkMaxLifetime: String?
    @Option(help: "Push providers (APNs, FCM, Web Push, webhook), a JSON object (FLINT_PUSH_CONFIG); see sdk-docs/push.md.") var pushConfig: String?
    @Option(help: "Sends in flight at once per push provider (FLINT_PUSH_CONCURRENCY). Default 8.") var pushConcurrency: String?
    @Option(help: "Attempts per push delivery before it becomes a dead letter (FLINT_PUSH_MAX_ATTEMPTS). Default 10.") var pushMaxAttempts: String?
    @Option(help: "First push retry's backoff bound in milliseconds, doubled per attempt (FLINT_PUSH_RETRY_BASE_MS). Default 1000.")
    var pushRetryBaseMs: String?
    @Option(help: "Largest push retry backoff in seconds (FLINT_PUSH_RETRY_CAP). Default 3600.") var pushRetryCap: String?
    @Option(help: "Seconds a claimed push delivery stays leased to one server unless renewed (FLINT_PUSH_LEASE). Default 60.")
    var pushLease: String?
    @Option(help: "Consecutive failures that open a push provider's circuit breaker (FLINT_PUSH_BREAKER_FAILURES). Default 5.")
    var pushBreakerFailures: String?
    @Option(help: "Seconds an open circuit breaker waits before one probe (FLINT_PUSH_BREAKER_PAUSE). Default 30.") var pushBreakerPause: String?

    func run() async throws {
        var configuration = FlintServer.Configuration()
        var flags: [String: String] = [:]
        flags["FLINT_HOST"] = host
        flags["FLINT_PORT"] = port
        flags["FLINT_DATA_DIR"] = dataDir
        flags["FLINT_DATABASE_URL"] = databaseUrl
        flags["FLINT_LOG_LEVEL"] = logLevel
        flags["FLINT_MAX_BODY_SIZE"] = maxBodySize
        flags["FLINT_CHANGE_LOG_RETENTION"] = changeLogRetention
        flags["FLINT_CHANGE_LOG_PAGE"] = changeLogPage
        flags["FLINT_REALTIME_MAX_TARGETS"] = realtimeMaxTargets
        flags["FLINT_REALTIME_QUEUE_BYTES"] = realtimeQueueBytes
        flags["FLINT_REALTIME_PING_INTERVAL"] = realtimePingInterval
        flags["FLINT_PUBLIC_URL"] = publicURL
        flags["FLINT_PASSWORD_MIN_LENGTH"] = passwordMinLength
        flags["FLINT_PASSWORD_COST"] = passwordCost
        flags["FLINT_SIGNIN_LIMIT"] = signinLimit
        flags["FLINT_ADMIN_CLIENT_ID"] = adminClientId
        flags["FLINT_ADMIN_CLIENT_SECRET"] = adminClientSecret
        flags["FLINT_AUTH_PROVIDERS"] = authProviders
        flags["FLINT_RULES_DIR"] = rulesDir
        flags["FLINT_MAX_FILE_SIZE"] = maxFileSize
        flags["FLINT_FILE_CONTENT_TYPES"] = fileContentTypes
        flags["FLINT_FILE_QUOTA"] = fileQuota
        flags["FLINT_FILES_DIR"] = filesDir
        flags["FLINT_UPLOAD_EXPIRY"] = uploadExpiry
        flags["FLINT_SIGNED_LINK_MAX_LIFETIME"] = signedLinkMaxLifetime
        flags["FLINT_PUSH_CONFIG"] = pushConfig
        flags["FLINT_PUSH_CONCURRENCY"] = pushConcurrency
        flags["FLINT_PUSH_MAX_ATTEMPTS"] = pushMaxAttempts
        flags["FLINT_PUSH_RETRY_BASE_MS"] = pushRetryBaseMs
        flags["FLINT_PUSH_RETRY_CAP"] = pushRetryCap
        flags["FLINT_PUSH_LEASE"] = pushLease
        flags["FLINT_PUSH_BREAKER_FAILURES"] = pushBreakerFailures
        flags["FLINT_PUSH_BREAKER_PAUSE"] = pushBreakerPause
        do {
            try configuration.apply(environment: ProcessInfo.processInfo.environment, flags: flags)
        } catch {
            throw ValidationError(error.description)
        }
        let host = configuration.host
        let app = try await buildApplication(configuration) { port in
            // One line on standard output that tools (and the tests) read for the bound address.
            FileHandle.standardOutput.write(Data("flint-server listening on http://\(host):\(port)\n".utf8))
        }
        try await app.runService()
    }
}
