import FlintCore
import NIOCore
import Synchronization

/// One WebSocket client's outbound side: a bounded queue of encoded messages that the hub and the
/// connection's own handler fill without waiting, and that one writer task empties onto the socket.
/// A client that reads too slowly fills the queue and is closed, instead of growing the server's memory.
final class RealtimeConnection: Sendable {
    /// Why the server closes a connection, with the close codes `sdk-docs/protocol.md` documents.
    enum CloseReason: Sendable, Equatable {
        /// 4001: the client fell too far behind; it can resume from its last sequence.
        case tooSlow
        /// 1001: the server is shutting down.
        case goingAway
        /// 1007: a frame was not JSON at all.
        case notJSON(String)

        var code: UInt16 {
            switch self {
            case .tooSlow: 4001
            case .goingAway: 1001
            case .notJSON: 1007
            }
        }

        var reason: String {
            switch self {
            case .tooSlow: "too slow: the outbound queue is full; reconnect and resume from your last sequence"
            case .goingAway: "server shutting down; reconnect and resume from your last sequence"
            case .notJSON(let detail): "not JSON: \(String(detail.prefix(80)))"
            }
        }
    }

    /// Something queued for the client.
    enum Outbound: Sendable {
        /// A message to send as it is.
        case message(ByteBuffer)
        /// A commit's changes for a client whose reads the security rules decide: sent only once each document it
        /// carries passes the rules (checked on the writer's task, never in the hub's fan-out).
        case checked(CheckedChanges)
    }

    /// One commit's changes to one connection's targets, encoded, with what the rules need to check them.
    struct CheckedChanges: Sendable {
        var message: ByteBuffer
        var sequence: Int64
        var commitTime: Timestamp
        var targets: [(targetID: Int64, target: ListenTarget, changes: [TargetChange])]
    }

    enum Next: Sendable {
        case send([Outbound])
        case close(CloseReason)
        case wait
    }

    private struct State {
        var queue: [Outbound] = []
        var queuedBytes = 0
        var closing: CloseReason? = nil
        var identity: Identity? = nil
    }

    let id: Int
    /// The most bytes waiting for one client before it is closed as too slow.
    let maximumQueuedBytes: Int
    private let state = Mutex(State())
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    init(id: Int, maximumQueuedBytes: Int) {
        self.id = id
        self.maximumQueuedBytes = maximumQueuedBytes
        (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Who the client is: from the upgrade request's token, replaced by each `auth` message.
    var identity: Identity? {
        get { state.withLock { $0.identity } }
        set { state.withLock { $0.identity = newValue } }
    }

    /// Whether what this client is sent must pass the security rules (everyone but admins).
    var checksRules: Bool { state.withLock { $0.identity?.isAdmin != true } }

    /// Queues a message; false (and the connection set to close as too slow) when the queue is full.
    @discardableResult
    func enqueue(_ bytes: [UInt8]) -> Bool {
        enqueue(.message(ByteBuffer(bytes: bytes)), size: bytes.count)
    }

    /// Queues changes that the writer checks against the rules before sending.
    @discardableResult
    func enqueue(checked changes: CheckedChanges) -> Bool {
        enqueue(.checked(changes), size: changes.message.readableBytes)
    }

    private func enqueue(_ item: Outbound, size: Int) -> Bool {
        let accepted = state.withLock { state -> Bool in
            guard state.closing == nil else { return false }
            if state.queuedBytes + size > maximumQueuedBytes {
                state.closing = .tooSlow
                state.queue.removeAll()
                state.queuedBytes = 0
                return false
            }
            state.queue.append(item)
            state.queuedBytes += size
            return true
        }
        wake.yield()
        return accepted
    }

    /// Asks the writer to close the connection after what is queued (or at once, when too slow).
    func close(_ reason: CloseReason) {
        state.withLock { state in
            if state.closing == nil { state.closing = reason }
        }
        wake.yield()
    }

    /// Whether the connection is closing; the hub stops feeding it.
    var isClosing: Bool { state.withLock { $0.closing != nil } }

    /// The writer's side: what to do next.
    func next() -> Next {
        state.withLock { state in
            if !state.queue.isEmpty {
                let batch = state.queue
                state.queue.removeAll(keepingCapacity: true)
                state.queuedBytes = 0
                return .send(batch)
            }
            if let reason = state.closing { return .close(reason) }
            return .wait
        }
    }

    /// Wakes whenever there is something to send or a close to perform.
    var signals: AsyncStream<Void> { wakeups }

    /// Ends the writer's signals once the connection is gone.
    func finish() { wake.finish() }
}
