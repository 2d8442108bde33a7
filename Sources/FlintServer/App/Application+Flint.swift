public import FlintCore
import Crypto
import Foundation
import GRDB
import Metrics
public import Hummingbird
import HummingbirdCore
public import Logging
import Prometheus
public import ServiceLifecycle
import UnixSignals

/// The assembled server: the Hummingbird application and what must stop before it.
public struct FlintApplication: Sendable {
    /// The HTTP and WebSocket server with its services (the store's writer, change-log compaction).
    public let application: Application<RouterResponder<FlintRequestContext>>
    let hub: SubscriptionHub

    /// Runs until SIGTERM or SIGINT, then drains in order: realtime sockets are closed with "going away",
    /// the HTTP server stops taking connections and finishes the requests in flight, queued commits are written.
    public func runService() async throws {
        let group = ServiceGroup(
            configuration: .init(
                services: [application, RealtimeDrain(hub: hub)], gracefulShutdownSignals: [.sigterm, .sigint],
                logger: application.logger))
        try await group.run()
    }
}

/// Builds the whole server from its configuration: the one function the executable and the tests both use.
/// - Parameter onServerRunning: called with the bound port once the server listens (useful with port 0).
public func buildApplication(
    _ configuration: Configuration, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) async throws -> FlintApplication {
    var logger = Logger(label: "flint")
    logger.logLevel = configuration.logLevel

    do {
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
    } catch {
        throw ConfigurationError("cannot create the data directory \(configuration.dataDirectory): \(error.localizedDescription)")
    }
    let databasePath = URL(fileURLWithPath: configuration.dataDirectory).appendingPathComponent("flint.sqlite").path
    let hub = SubscriptionHub(maximumTargetsPerConnection: configuration.realtimeMaximumTargets)
    let store: any DocumentStore
    // With PostgreSQL, auth, rules, file metadata and push live there too, so that any server can answer any request.
    var database: PostgresDatabase? = nil
    let pool: DatabasePool?
    // The documents' store and the services that keep it: its writer and, on PostgreSQL, the connection pool (first,
    // so that it stops last) and the change-log tailer that feeds the hub with every server's commits.
    let storeServices: [any Service]
    if let url = configuration.databaseURL {
        let postgresDatabase = try await PostgresDatabase.connect(url, logger: logger)
        database = postgresDatabase
        do {
            let postgres = try await PostgresDocumentStore(database: postgresDatabase, logger: logger)
            let tailer = ChangeLogTailer(
                store: postgres, hub: hub, logger: logger, startAfter: try await postgres.latestSequence(), pageSize: configuration.changeLogPageSize)
            store = postgres
            storeServices = [postgresDatabase, postgres, tailer]
        } catch {
            postgresDatabase.close()
            throw ConfigurationError("cannot use the PostgreSQL database at \(url): \(PostgresDatabase.reason(error))")
        }
        pool = nil
    } else {
        let sqlite = try SQLiteDocumentStore(path: databasePath, logger: logger)
        sqlite.observer = hub
        store = sqlite
        pool = sqlite.pool
        storeServices = [sqlite]
    }

    let parts: ServerParts
    do {
        parts = try await ServerParts(
            configuration, store: store, pool: pool, hub: hub, registry: PrometheusCollectorRegistry(), logger: logger, database: database)
    } catch {
        database?.close()
        throw error
    }
    var services = storeServices
    if let watcher = parts.rulesWatcher { services.append(watcher) }
    let router = buildRouter(configuration, parts)
    let upgradeResponder = router.buildResponder()
    let application = Application(
        router: router,
        server: HTTPServerBuilder { responder in
            RealtimeServerChannel(
                responder: responder, upgradeResponder: upgradeResponder, maximumFrameSize: configuration.maximumBodySize)
        },
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "flint"),
        services: services + [
            RealtimeRulesChecker(hub: hub, rules: DocumentRules(rules: parts.rules, store: store)),
            ChangeLogCompactor(store: store, retentionSeconds: configuration.changeLogRetentionSeconds, logger: logger),
            FileHousekeeper(storage: parts.files, logger: logger),
            PushWorker(
                store: parts.push, configuration: configuration.push, vapidKey: parts.vapidKey, metrics: parts.pushMetrics, wake: parts.pushWake,
                logger: logger),
        ],
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? configuration.port
            // Without a configured public URL, the issuer is the address actually bound (port 0 picks one).
            if configuration.publicURL == nil { parts.tokens.issuer = "http://\(configuration.host):\(port)" }
            await onServerRunning(port)
        },
        logger: logger
    )
    return FlintApplication(application: application, hub: hub)
}

/// The long-lived parts the routes share.
struct ServerParts: Sendable {
    let store: any DocumentStore
    let hub: SubscriptionHub
    let registry: PrometheusCollectorRegistry
    let authStore: any AuthStorage
    let tokens: TokenService
    let hasher: PasswordHasher
    let rules: LiveRules
    let files: FileStorage
    let linkSigner: LinkSigner
    let push: any PushStorage
    /// Wakes the push worker when a message is queued or dead letters are retried.
    let pushWake = WakeSignal()
    let pushMetrics: PushMetrics
    /// Picks up rules deployed by the other servers sharing PostgreSQL; nil on SQLite.
    let rulesWatcher: RulesWatcher?
    /// The VAPID key, when Web Push is configured: the configured one, or one made once and kept in the database.
    let vapidKey: P256.Signing.PrivateKey?

    /// Opens the auth, rules, file and push tables in PostgreSQL when `database` is given, else in the SQLite database
    /// `pool` (and the blob store in the configured files folder, by default `files/` beside the SQLite file or in the
    /// data folder), loads (or makes) the signing keys, loads the live rules, and ensures the admin service account from
    /// the configuration.
    /// - Parameters:
    ///   - fileAuthorizer: decides every file operation; the storage security rules unless a test says otherwise.
    ///   - database: the PostgreSQL database shared with other servers, if configured.
    init(
        _ configuration: Configuration, store: any DocumentStore, pool: DatabasePool?, hub: SubscriptionHub,
        registry: PrometheusCollectorRegistry, logger: Logger, fileAuthorizer: FileAuthorizer? = nil, database: PostgresDatabase? = nil
    ) async throws {
        self.store = store
        self.hub = hub
        self.registry = registry
        let rulesStore: any RulesStorage
        let fileMetadata: any FileMetadataStorage
        if let database {
            let postgresRules = try await PostgresRulesStore(database: database)
            rulesStore = postgresRules
            fileMetadata = try await PostgresFileMetadataStore(database: database)
            push = try await PostgresPushStore(database: database)
            authStore = try await PostgresAuthStore(database: database)
            rules = try await LiveRules(store: rulesStore, logger: logger)
            rulesWatcher = RulesWatcher(rules: rules, store: postgresRules, logger: logger)
        } else if let pool {
            rulesStore = try RulesStore(pool: pool)
            fileMetadata = try FileMetadataStore(pool: pool)
            push = try PushStore(pool: pool)
            authStore = try AuthStore(pool: pool)
            rules = try await LiveRules(store: rulesStore, logger: logger)
            rulesWatcher = nil
        } else {
            throw ConfigurationError("the server needs a SQLite database or a PostgreSQL database for its auth, rules, files and push tables")
        }
        if let directory = configuration.rulesDirectory { try await rules.deployFolder(directory, logger: logger) }
        files = FileStorage(
            blobs: try FileSystemBlobStore(
                directory: configuration.filesDirectory
                    ?? URL(fileURLWithPath: pool?.path ?? configuration.dataDirectory + "/flint.sqlite").deletingLastPathComponent()
                        .appendingPathComponent("files").path),
            metadata: fileMetadata, authorizer: fileAuthorizer ?? .storageRules(rules, documents: store),
            limits: FileLimits(configuration), logger: logger)
        linkSigner = LinkSigner(key: try await fileMetadata.linkKey())
        pushMetrics = PushMetrics(factory: PrometheusMetricsFactory(registry: registry))
        if let webPush = configuration.push.webPush {
            var pem = webPush.vapidPrivateKeyPEM
            if pem == nil { pem = try await push.setting("vapid-private-key") { P256.Signing.PrivateKey().pemRepresentation } }
            vapidKey = try P256.Signing.PrivateKey(pemRepresentation: pem!)
        } else {
            vapidKey = nil
        }
        tokens = TokenService(
            store: authStore, issuer: configuration.publicURL ?? "http://\(configuration.host):\(configuration.port)", audience: "flint")
        try await tokens.start()
        hasher = PasswordHasher(cost: .init(logN: configuration.passwordCost, r: 8, p: 1))
        if let id = configuration.adminClientID, let secret = configuration.adminClientSecret {
            let existing = try await authStore.client(id: id)
            if existing.map({ !hasher.verify(secret, against: $0.secretHash ?? "") || $0.scopes != ["admin"] }) ?? true {
                try await authStore.putClient(.init(clientID: id, secretHash: try hasher.hash(secret), scopes: ["admin"]))
            }
        }
    }
}

/// Every route of the server, with its middleware.
func buildRouter(_ configuration: Configuration, _ parts: ServerParts) -> Router<FlintRequestContext> {
    let router = Router(context: FlintRequestContext.self)
    // Each request is logged (at debug level) with its request id, which every other log line of it carries too.
    router.add(middleware: LogRequestsMiddleware(.debug))
    router.add(middleware: MetricsMiddleware(factory: PrometheusMetricsFactory(registry: parts.registry)))
    router.add(middleware: ErrorMiddleware())
    router.add(middleware: AuthenticationMiddleware(tokens: parts.tokens))
    OperationsController(store: parts.store, registry: parts.registry).addRoutes(to: router)
    let documentRules = DocumentRules(rules: parts.rules, store: parts.store)
    DocumentsController(store: parts.store, rules: documentRules, maximumBodySize: configuration.maximumBodySize).addRoutes(to: router)
    RulesController(rules: parts.rules, maximumBodySize: configuration.maximumBodySize).addRoutes(to: router)
    DataTransferController(rules: documentRules).addRoutes(to: router)
    RealtimeController(
        store: parts.store, hub: parts.hub, rules: documentRules, tokens: parts.tokens, maximumMessageSize: configuration.maximumBodySize,
        maximumQueuedBytes: configuration.realtimeMaximumQueuedBytes, pingInterval: .seconds(Int64(configuration.realtimePingIntervalSeconds))
    ).addRoutes(to: router)
    let auth = AuthController(
        store: parts.authStore, tokens: parts.tokens, hasher: parts.hasher,
        accountLimiter: RateLimiter(limit: configuration.signInLimitPerMinute, windowSeconds: 60),
        addressLimiter: RateLimiter(limit: configuration.signInLimitPerMinute * 10, windowSeconds: 60),
        minimumPasswordLength: configuration.passwordMinimumLength, maximumBodySize: configuration.maximumBodySize)
    auth.addRoutes(to: router)
    ProviderController(
        auth: auth, providers: Dictionary(configuration.authProviders.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    ).addRoutes(to: router)
    AdminController(
        store: parts.authStore, tokens: parts.tokens, hasher: parts.hasher, minimumPasswordLength: configuration.passwordMinimumLength,
        maximumBodySize: configuration.maximumBodySize).addRoutes(to: router)
    FilesController(storage: parts.files, signer: parts.linkSigner, publicURL: { [tokens = parts.tokens] in tokens.issuer }).addRoutes(to: router)
    TusController(storage: parts.files).addRoutes(to: router)
    PushController(
        store: parts.push, configuration: configuration.push, vapidPublicKey: parts.vapidKey.map { Array($0.publicKey.x963Representation) },
        wake: parts.pushWake, metrics: parts.pushMetrics, maximumBodySize: configuration.maximumBodySize
    ).addRoutes(to: router)
    return router
}
