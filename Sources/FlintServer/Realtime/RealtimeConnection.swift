import FlintCore
import NIOCore
import Synchronization

/// One WebSocket client's outbound side: a bounded queue of framed messages that the hub and the connection's own
/// handler fill without waiting, and that the connection's channel handler empties onto the socket on its event loop.
/// A client that reads too slowly fills the queue and is closed, instead of growing the server's memory.
final class RealtimeConnection: Sendable {
    /// Why the server closes a connection, with the close codes `sdk-docs/protocol.md` documents.
    enum CloseReason: Sendable, Equatable {
        /// 4001: the client fell too far behind; it can resume from its last sequence.
        case tooSlow
        /// 1001: the server is shutting down.
        case goingAway
        /// 1001: the client did not answer a ping before the next one was due.
        case pingTimeout
        /// 1007: a message was not JSON at all.
        case notJSON(String)
        /// 1002: a frame broke the WebSocket protocol (RFC 6455 section 5).
        case protocolError(String)
        /// 1009: a message (all its frames together) is larger than the server takes.
        case messageTooLarge(Int)

        var code: UInt16 {
            switch self {
            case .tooSlow: 4001
            case .goingAway, .pingTimeout: 1001
            case .notJSON: 1007
            case .protocolError: 1002
            case .messageTooLarge: 1009
            }
        }

        var reason: String {
            switch self {
            case .tooSlow: "too slow: the outbound queue is full; reconnect and resume from your last sequence"
            case .goingAway: "server shutting down; reconnect and resume from your last sequence"
            case .pingTimeout: "ping timeout"
            case .notJSON(let detail): "not JSON: \(String(detail.prefix(80)))"
            case .protocolError(let detail): "protocol error: \(detail)"
            case .messageTooLarge(let limit): "message too large: at most \(limit) bytes"
            }
        }
    }

    /// Something queued for the client.
    enum Outbound: Sendable {
        /// A message to send as it is, already framed (`WebSocketFrames`).
        case message(ByteBuffer)
        /// A commit's changes for a client whose reads the security rules decide: sent only once each document it
        /// carries passes the rules (`RealtimeRulesChecker`, never in the hub's fan-out); what follows waits for it.
        case checked(CheckedMessage)
    }

    /// Changes waiting in the queue for the rules check, and then what to send for them.
    final class CheckedMessage: Sendable {
        let changes: CheckedChanges
        private let outcome = Mutex<[ByteBuffer]?>(nil)

        init(_ changes: CheckedChanges) {
            self.changes = changes
        }

        /// The framed messages to send, once checked.
        var frames: [ByteBuffer]? { outcome.withLock { $0 } }

        func complete(_ frames: [ByteBuffer]) {
            outcome.withLock { $0 = frames }
        }
    }

    /// One commit's changes to one connection's targets, framed, with what the rules need to check them.
    struct CheckedChanges: Sendable {
        var message: ByteBuffer
        var sequence: Int64
        var commitTime: Timestamp
        var targets: [(targetID: Int64, target: ListenTarget, changes: [TargetChange])]
    }

    /// What the channel handler does next.
    enum Next: Sendable {
        case send([Outbound])
        case close(CloseReason)
        /// Nothing to do until the next wake (or until the socket drains, when it is full).
        case wait
    }

    private struct State {
        var queue: [Outbound] = []
        var queuedBytes = 0
        var closing: CloseReason? = nil
        var identity: Identity? = nil
        /// A drain is due or running: further messages need no wake of their own. Cleared by `next` when it finds
        /// nothing to do, so one event-loop task writes (and flushes once) what a burst of deliveries queued.
        var drainDue = false
        /// Schedules a drain on the channel's event loop; nil before the handler attaches and after the connection ends.
        var wake: (@Sendable () -> Void)? = nil
        /// Targets the rules ended, with the last commit delivered before they ended: their changes up to it are dropped.
        var endedTargets: [Int64: Int64] = [:]
    }

    let id: Int
    /// The most bytes waiting for one client before it is closed as too slow.
    let maximumQueuedBytes: Int
    private let state: Mutex<State>

    init(id: Int, maximumQueuedBytes: Int, identity: Identity?) {
        self.id = id
        self.maximumQueuedBytes = maximumQueuedBytes
        state = Mutex(State(identity: identity))
    }

    /// Connects the queue to the channel handler that drains it; `wake` must not call back into the hub.
    func attach(wake: @escaping @Sendable () -> Void) {
        let due = state.withLock { state -> Bool in
            state.wake = wake
            return state.drainDue
        }
        if due { wake() }
    }

    /// Who the client is: from the upgrade request's token, replaced by each `auth` message.
    var identity: Identity? {
        get { state.withLock { $0.identity } }
        set { state.withLock { $0.identity = newValue } }
    }

    /// Whether what this client is sent must pass the security rules (everyone but admins).
    var checksRules: Bool { state.withLock { $0.identity?.isAdmin != true } }

    /// Queues a message (one JSON text); false (and the connection set to close as too slow) when the queue is full.
    @discardableResult
    func enqueue(_ bytes: [UInt8]) -> Bool {
        enqueue(framed: WebSocketFrames.text(bytes))
    }

    /// Queues a message framed by `WebSocketFrames`, perhaps shared with other connections.
    @discardableResult
    func enqueue(framed message: ByteBuffer) -> Bool {
        enqueue(.message(message), size: message.readableBytes)
    }

    /// Queues changes that are checked against the rules before they are sent.
    @discardableResult
    func enqueue(checked message: CheckedMessage) -> Bool {
        enqueue(.checked(message), size: message.changes.message.readableBytes)
    }

    /// Wakes the handler even while a drain is due: a checked message it waits for is ready.
    func wakeNow() {
        state.withLock { $0.wake }?()
    }

    /// Targets the rules ended, with the last commit delivered before each ended.
    var endedTargets: [Int64: Int64] { state.withLock { $0.endedTargets } }

    /// Records that the rules ended a target: its changes up to commit `sequence` are not sent.
    func targetEnded(_ targetID: Int64, after sequence: Int64) {
        state.withLock { $0.endedTargets[targetID] = sequence }
    }

    private func enqueue(_ item: Outbound, size: Int) -> Bool {
        let (accepted, wake) = state.withLock { state -> (Bool, (@Sendable () -> Void)?) in
            guard state.closing == nil else { return (false, nil) }
            if state.queuedBytes + size > maximumQueuedBytes {
                state.closing = .tooSlow
                state.queue.removeAll()
                state.queuedBytes = 0
                // Even when a drain is due (the socket may be full), the close must go out now.
                state.drainDue = true
                return (false, state.wake)
            }
            state.queue.append(item)
            state.queuedBytes += size
            // Changes still to be checked are not worth a wake: the rules checker wakes the handler once they are.
            if state.drainDue { return (true, nil) }
            if case .checked = item { return (true, nil) }
            state.drainDue = true
            return (true, state.wake)
        }
        wake?()
        return accepted
    }

    /// Asks the handler to close the connection after what is queued (or at once, when too slow).
    func close(_ reason: CloseReason) {
        let wake = state.withLock { state -> (@Sendable () -> Void)? in
            guard state.closing == nil else { return nil }
            state.closing = reason
            state.drainDue = true
            return state.wake
        }
        wake?()
    }

    /// Whether the connection is closing; the hub stops feeding it.
    var isClosing: Bool { state.withLock { $0.closing != nil } }

    /// Whether the queue overflowed: the connection closes without sending what is left.
    var isTooSlow: Bool { state.withLock { $0.closing == .tooSlow } }

    /// The handler's side: what to do next. While the socket is full (`writable` false) queued messages wait, and
    /// the handler drains again once it empties; a too-slow close goes out regardless.
    func next(writable: Bool) -> Next {
        state.withLock { state in
            if state.closing == .tooSlow { return .close(.tooSlow) }
            if !state.queue.isEmpty {
                guard writable else { return .wait }
                // Taken whole (no copy), leaving an empty array: an idle connection keeps no queue capacity.
                let batch = state.queue
                state.queue = []
                state.queuedBytes = 0
                return .send(batch)
            }
            if let reason = state.closing { return .close(reason) }
            state.drainDue = false
            return .wait
        }
    }

    /// Stops waking the handler once the connection is gone (which also releases the handler).
    func finish() {
        state.withLock { state in
            if state.closing == nil { state.closing = .goingAway }
            state.wake = nil
            state.queue.removeAll()
            state.queuedBytes = 0
        }
    }
}
