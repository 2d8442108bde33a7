public import FlintCore
import Foundation
public import Hummingbird
import HummingbirdWebSocket
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
) throws -> FlintApplication {
    var logger = Logger(label: "flint")
    logger.logLevel = configuration.logLevel

    do {
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
    } catch {
        throw ConfigurationError("cannot create the data directory \(configuration.dataDirectory): \(error.localizedDescription)")
    }
    let databasePath = URL(fileURLWithPath: configuration.dataDirectory).appendingPathComponent("flint.sqlite").path
    let store = try SQLiteDocumentStore(path: databasePath, logger: logger)
    let hub = SubscriptionHub(maximumTargetsPerConnection: configuration.realtimeMaximumTargets)
    store.observer = hub

    let registry = PrometheusCollectorRegistry()

    let router = buildRouter(configuration, store: store, hub: hub, registry: registry)
    let application = Application(
        router: router,
        server: .http1WebSocketUpgrade(
            webSocketRouter: router,
            configuration: .init(
                ws: .init(
                    maxFrameSize: 1 << 20, autoPing: .enabled(timePeriod: .seconds(configuration.realtimePingIntervalSeconds)),
                    closeTimeout: .seconds(5)))),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "flint"),
        services: [store, ChangeLogCompactor(store: store, retentionSeconds: configuration.changeLogRetentionSeconds, logger: logger)],
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) },
        logger: logger
    )
    return FlintApplication(application: application, hub: hub)
}

/// Every route of the server, with its middleware.
func buildRouter(
    _ configuration: Configuration, store: SQLiteDocumentStore, hub: SubscriptionHub, registry: PrometheusCollectorRegistry
) -> Router<FlintRequestContext> {
    let router = Router(context: FlintRequestContext.self)
    // Each request is logged (at debug level) with its request id, which every other log line of it carries too.
    router.add(middleware: LogRequestsMiddleware(.debug))
    router.add(middleware: MetricsMiddleware(factory: PrometheusMetricsFactory(registry: registry)))
    router.add(middleware: ErrorMiddleware())
    OperationsController(store: store, registry: registry).addRoutes(to: router)
    DocumentsController(store: store, maximumBodySize: configuration.maximumBodySize).addRoutes(to: router)
    RealtimeController(
        store: store, hub: hub, maximumFrameSize: configuration.maximumBodySize,
        maximumQueuedBytes: configuration.realtimeMaximumQueuedBytes
    ).addRoutes(to: router)
    return router
}
