@_exported public import FlintCore
import AsyncHTTPClient
public import Foundation
import Logging
import NIOCore
import Synchronization

/// A connection to one Flint server: documents, queries, listeners, auth, files and push, with an offline cache.
///
/// ```swift
/// let app = try FlintApp(url: "http://127.0.0.1:8080", cacheDirectory: "/var/lib/myapp/flint")
/// try await app.auth.signInAnonymously()
/// try await app.collection("rooms").document("r1").setData(["name": "Lobby"])
/// await app.close()
/// ```
///
/// The cache directory holds the SQLite cache (documents, queued writes, listen state) and the session; give each app
/// its own, and use one `FlintApp` per directory at a time. A Linux process has no app lifecycle: `close()` ends the
/// connection and the background work.
public final class FlintApp: Sendable {
    /// Tuning; the defaults suit an app.
    public struct Settings: Sendable {
        /// How many bytes of documents the cache keeps before evicting the least recently used ones (never one with
        /// pending writes or held by a listener). 100 MiB by default.
        public var cacheSizeBytes = 100 << 20
        /// Access tokens are refreshed this long before they expire.
        public var tokenRefreshMargin: Duration = .seconds(300)
        /// The first pause before reconnecting; it doubles after each failed attempt up to `maximumReconnectDelay`.
        public var minimumReconnectDelay: Duration = .milliseconds(500)
        public var maximumReconnectDelay: Duration = .seconds(60)
        /// How often the client pings the server over the realtime socket (a dead connection is noticed by then).
        public var pingInterval: Duration = .seconds(20)
        /// How long the realtime connection may take from connecting to the server's `hello` before it is given up
        /// and tried again.
        public var handshakeTimeout: Duration = .seconds(15)
        /// How long a REST request may take.
        public var requestTimeout: Duration = .seconds(60)

        public init() {}
    }

    /// The server's base URL, without a trailing slash.
    public let url: String
    public let settings: Settings
    /// Signing in and out, the current user.
    public let auth: Auth
    /// Files: uploads with progress, downloads.
    public let storage: FileStorage
    /// Push: registering this device and its topics.
    public let push: PushNotifications
    let rest: RESTClient
    let engine: SyncEngine
    let http: HTTPClient
    private let background = Mutex<Task<Void, Never>?>(nil)
    private let listenerIDs = Atomic<Int>(0)

    /// Opens the cache in `cacheDirectory` (created if needed) and starts connecting to the server at `url`
    /// (`http://host:port` or `https://…`). Writes queued before a previous `close()` (or crash) are sent again.
    public init(url: String, cacheDirectory: String, settings: Settings = Settings()) throws {
        var base = url
        while base.hasSuffix("/") { base.removeLast() }
        guard base.hasPrefix("http://") || base.hasPrefix("https://") else {
            throw FlintError(.invalidArgument, "the server URL must start with http:// or https://, not \"\(url)\"")
        }
        self.url = base
        self.settings = settings
        try FileManager.default.createDirectory(atPath: cacheDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(10), read: TimeAmount.nanoseconds(Int64(settings.requestTimeout.seconds * 1e9)))
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        rest = RESTClient(http: http, baseURL: base, timeout: .nanoseconds(Int64(settings.requestTimeout.seconds * 1e9)))
        let logger = Logger(label: "flint.client")
        auth = Auth(
            rest: rest, store: SessionFile(path: cacheDirectory + "/session.json"), refreshMargin: settings.tokenRefreshMargin)
        let store = try LocalStore(path: cacheDirectory + "/cache.sqlite")
        let realtime = (base.hasPrefix("https://") ? "wss://" + base.dropFirst(8) : "ws://" + base.dropFirst(7)) + "/v1/realtime"
        engine = try SyncEngine(
            store: store, settings: settings, realtimeURL: realtime, auth: auth, uid: SessionFile(path: cacheDirectory + "/session.json").load()?.user.uid,
            logger: logger)
        storage = FileStorage(rest: rest, auth: auth, http: http)
        push = PushNotifications(rest: rest, auth: auth)
        // The background work of an app without a service group: the connection and the token refresher, until close().
        let engine = self.engine
        let auth = self.auth
        background.withLock {
            $0 = Task {
                await auth.observe { change in await engine.authChanged(change) }
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { await engine.run() }
                    group.addTask { await auth.runRefresher() }
                }
            }
        }
    }

    /// `init(url:cacheDirectory:settings:)` with URLs.
    public convenience init(url: URL, cacheDirectory: URL, settings: Settings = Settings()) throws {
        try self.init(url: url.absoluteString, cacheDirectory: cacheDirectory.path, settings: settings)
    }

    /// Ends the connection, every listener and the background work, and closes the cache. Writes not yet acknowledged
    /// stay queued on disk and are sent by the next `FlintApp` on the same directory.
    public func close() async {
        await engine.shutDown()
        let task = background.withLock { task -> Task<Void, Never>? in
            defer { task = nil }
            return task
        }
        task?.cancel()
        await task?.value
        await auth.finishWatchers()
        try? await http.shutdown()
    }

    // MARK: Documents

    /// The collection at a slash-separated path (`rooms`, `rooms/r1/messages`).
    public func collection(_ path: String) -> CollectionReference { CollectionReference(app: self, path: path) }

    /// The document at a slash-separated path (`rooms/r1`).
    public func document(_ path: String) -> DocumentReference { DocumentReference(app: self, path: path) }

    /// Every collection named `id`, anywhere in the database.
    public func collectionGroup(_ id: String) -> Query {
        do {
            return Query(app: self, state: .success(FlintCore.Query(collection: try CollectionPath(id), allDescendants: true)))
        } catch {
            return Query(app: self, state: .failure(error))
        }
    }

    /// A new batch of writes.
    public func batch() -> WriteBatch { WriteBatch(app: self) }

    /// Every write the server refuses from now on (security rules, preconditions), with its error. A refused write has
    /// been taken out of every view; a caller awaiting it gets the same error.
    public func rejectedWrites() async -> AsyncStream<RejectedWrite> { await engine.rejectedWrites() }

    /// Waits until every write queued so far has been answered by the server (acknowledged or refused).
    public func waitForPendingWrites() async { await engine.waitForPendingWrites() }

    /// Stops using the network: listeners see the cache (`isFromCache`), writes wait in the queue.
    public func disableNetwork() async { await engine.disableNetwork() }

    /// Uses the network again after `disableNetwork()`: reconnects at once.
    public func enableNetwork() async { await engine.enableNetwork() }

    // MARK: Listeners

    /// Starts a listener on the engine; the sink's termination (the consumer stops iterating) ends it.
    func startListening(_ target: ListenTarget, sink: ListenerSink, includeMetadataChanges: Bool) {
        let id = listenerIDs.add(1, ordering: .relaxed).newValue
        let engine = self.engine
        let onTermination: @Sendable () -> Void = { Task { await engine.stopListening(id) } }
        switch sink {
        case .document(_, let continuation): continuation.onTermination = { _ in onTermination() }
        case .query(_, let continuation): continuation.onTermination = { _ in onTermination() }
        }
        Task { await engine.listen(target, id: id, sink: sink, includeMetadataChanges: includeMetadataChanges) }
    }
}
