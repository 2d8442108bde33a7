import FlintCore
import Foundation
import Logging

/// The heart of the SDK: one WebSocket shared by every listener, the persisted queue of the app's writes, and the
/// views listeners see (the cached server documents with the pending writes over them).
///
/// Everything that changes state runs on this actor, and no method suspends between reading and changing state except
/// where it says so: a server message, a write or a listener is handled whole, in arrival order.
actor SyncEngine {
    nonisolated let store: LocalStore
    let settings: FlintApp.Settings
    let realtimeURL: String
    let auth: Auth
    let logger: Logger

    /// The signed-in user's uid ("" signed out): only their queued writes are shown and sent.
    var uid: String
    /// The user's queued writes, oldest first.
    var pending: [PendingMutation] = []
    /// Writes the server acknowledged whose effect the cache has not seen yet (the server's changes may come later).
    var acknowledged: [Overlay] = []
    /// Callers awaiting the server's answer to their write, by batch id.
    var waiters: [Int64: [CheckedContinuation<Void, any Error>]] = [:]
    /// Everyone who wants to hear of refused writes.
    var rejectionWatchers: [UUID: AsyncStream<RejectedWrite>.Continuation] = [:]

    var targets: [String: ActiveTarget] = [:]
    var targetKeys: [Int64: String] = [:]
    var listeners: [Int: Listener] = [:]
    var nextTargetID: Int64 = 1
    var latestListenerID = 0
    var stoppedEarly = Set<Int>()

    /// The live connection, if any.
    var connection: Connection?
    var generation = 0
    /// The batch id of the commit sent and not yet answered on this connection.
    var inFlight: Int64?
    /// The latest commit whose changes this client has processed.
    var processedSequence: Int64 = 0
    /// The latest commit the server had made when this connection began.
    var serverSequence: Int64 = 0
    var networkEnabled = true
    /// Whether the server is known to be out of reach: a connection attempt failed or dropped, or the network is
    /// disabled. Until the first attempt ends, it is not known, and listeners wait for the server's first answer
    /// rather than show an empty cache.
    var knownOffline = false
    let wakeup = Wakeup()
    /// The least-recently-used stamp for the next documents touched.
    var stamp: Int64
    var closed = false
    /// What the server has sent, for tests and diagnostics.
    var statistics = Statistics()

    struct Statistics: Sendable {
        /// `snapshot` messages (first answers and resets).
        var snapshots = 0
        /// `changes` messages replaying commits missed before a resume.
        var replays = 0
        /// Connections that reached `hello`.
        var connections = 0
    }

    init(store: LocalStore, settings: FlintApp.Settings, realtimeURL: String, auth: Auth, uid: String?, logger: Logger) throws {
        self.store = store
        self.settings = settings
        self.realtimeURL = realtimeURL
        self.auth = auth
        self.logger = logger
        self.uid = uid ?? ""
        self.stamp = try store.latestStamp() + 1
        self.pending = try store.pendingMutations(uid: self.uid)
    }

    /// The connection of the moment: where outgoing text goes, and whether the server's `hello` has come.
    struct Connection {
        let generation: Int
        let outgoing: AsyncStream<String>.Continuation
        var ready = false
    }

    /// A document or query the server is asked to follow for one or more listeners.
    struct ActiveTarget {
        let key: String
        let id: Int64
        let target: ListenTarget
        var listeners: Set<Int> = []
        /// The documents the server says the target holds.
        var members: Set<DocumentPath> = []
        var resumeToken: Int64?
        /// The server's snapshot (or replay) has come and the connection has not dropped since.
        var current = false
    }

    /// One `snapshots()` sequence.
    struct Listener {
        let id: Int
        let targetKey: String
        let sink: ListenerSink
        let includeMetadataChanges: Bool
        /// What it last saw; nil before its first snapshot.
        var last: [ViewDocument]?
        var lastMetadata: SnapshotMetadata?
    }

    var online: Bool { connection?.ready == true }

    func nextStamp() -> Int64 {
        defer { stamp += 1 }
        return stamp
    }

    // MARK: Listeners

    /// Starts a listener; its first snapshot comes from the cache at once when the cache knows something (or the
    /// client is offline), else from the server.
    func listen(_ target: ListenTarget, id: Int, sink: ListenerSink, includeMetadataChanges: Bool) {
        latestListenerID = max(latestListenerID, id)
        if stoppedEarly.remove(id) != nil || closed {
            sink.finish(throwing: nil)
            return
        }
        let key = Self.key(of: target)
        if targets[key] == nil {
            var active = ActiveTarget(key: key, id: nextTargetID, target: target)
            nextTargetID += 1
            if let record = try? store.target(key) {
                active.members = record.members
                active.resumeToken = record.resumeToken
            }
            targets[key] = active
            targetKeys[active.id] = key
            if online { sendListen(active) }
        }
        targets[key]!.listeners.insert(id)
        listeners[id] = Listener(id: id, targetKey: key, sink: sink, includeMetadataChanges: includeMetadataChanges)
        refresh(listener: id)
    }

    /// Ends a listener (its sequence was dropped or cancelled); the last listener of a target ends the target.
    func stopListening(_ id: Int) {
        guard let listener = listeners.removeValue(forKey: id) else {
            // Stopped before its start reached the engine (both travel as tasks).
            if id > latestListenerID { stoppedEarly.insert(id) }
            return
        }
        listener.sink.finish(throwing: nil)
        guard var target = targets[listener.targetKey] else { return }
        target.listeners.remove(id)
        if target.listeners.isEmpty {
            targets[listener.targetKey] = nil
            targetKeys[target.id] = nil
            if online { send(.object(["type": .string("unlisten"), "targetId": .integer(target.id)])) }
        } else {
            targets[listener.targetKey] = target
        }
    }

    /// The canonical key of a target: its JSON form.
    static func key(of target: ListenTarget) -> String {
        switch target {
        case .document(let path): "doc:" + path.description
        case .query(let query): "query:" + query.json.text
        }
    }

    // MARK: Closing

    /// Ends every listener and waiter; queued writes stay on disk for the next start.
    func shutDown() {
        closed = true
        connection?.outgoing.finish()
        connection = nil
        for listener in listeners.values { listener.sink.finish(throwing: nil) }
        listeners = [:]
        targets = [:]
        let closedError = FlintError(.unavailable, "the app was closed before the server acknowledged the write; it stays queued")
        for list in waiters.values { for waiter in list { waiter.resume(throwing: closedError) } }
        waiters = [:]
        for watcher in rejectionWatchers.values { watcher.finish() }
        rejectionWatchers = [:]
        wakeup.signal()
        store.close()
    }
}

/// Where a listener's snapshots go.
enum ListenerSink: Sendable {
    case document(DocumentReference, AsyncThrowingStream<DocumentSnapshot, any Error>.Continuation)
    case query(Query, AsyncThrowingStream<QuerySnapshot, any Error>.Continuation)

    func finish(throwing error: (any Error)?) {
        switch self {
        case .document(_, let continuation): continuation.finish(throwing: error)
        case .query(_, let continuation): continuation.finish(throwing: error)
        }
    }
}

/// A write the server refused: it was taken off the queue and out of every view.
public struct RejectedWrite: Sendable {
    /// The documents the write (or batch) would have changed.
    public var paths: [String]
    /// The server's reason.
    public var error: FlintError
}
