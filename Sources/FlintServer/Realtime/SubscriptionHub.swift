import FlintCore
import NIOCore
import Synchronization

/// Realtime fan-out: every listener's target, indexed so that a committed change is matched only against the
/// targets it can concern, and every resulting message queued to its connection without waiting for any socket.
///
/// Changes come in through one ordered path: on SQLite the store calls `didCommit` from its writer, in commit order,
/// before the commits are acknowledged; on PostgreSQL the change-log tailer calls `apply` and `finish`, one delivery
/// at a time, in sequence order. So each client sees commits in order, each commit in one message.
final class SubscriptionHub: ChangeObserver, Sendable {
    struct TargetKey: Hashable, Sendable {
        var connection: Int
        var target: Int64
    }

    /// Where query targets are filed: by collection path, or by collection id for collection-group queries.
    enum Scope: Hashable, Sendable {
        case collection(String)
        case group(String)
    }

    /// A query target filed under one of its equality filters: found only by documents with that value.
    struct EqualityKey: Hashable, Sendable {
        var scope: Scope
        var field: FieldPath
        var value: [UInt8]
    }

    struct State {
        var sequence: Int64 = 0
        var lastConnectionID = 0
        var connections: [Int: RealtimeConnection] = [:]
        var targets: [TargetKey: TargetState] = [:]
        var byDocument: [DocumentPath: Set<TargetKey>] = [:]
        var byScope: [Scope: Set<TargetKey>] = [:]
        var byEquality: [EqualityKey: Set<TargetKey>] = [:]
        /// For each scope, the fields that equality-filed targets use, with how many targets use each.
        var equalityFields: [Scope: [FieldPath: Int]] = [:]
        /// The targets whose client holds a document: they must hear when it stops matching.
        var holders: [DocumentPath: Set<TargetKey>] = [:]
        /// The limited windows that lost members and wait to be read again, at the state of the last commit of a
        /// delivery (until then a window may be short).
        var refillsDue: Set<TargetKey> = []
        /// Waiting for the last connection to go (shutdown).
        var drainWaiters: [CheckedContinuation<Void, Never>] = []
        /// Where each commit's changes for connections that the rules govern go to be checked (set by the hub).
        var checkQueue: AsyncStream<RulesCheck>.Continuation? = nil
    }

    /// One commit's changes to the connections that the security rules govern, each held in its queue until checked.
    typealias RulesCheck = [(connection: RealtimeConnection, message: RealtimeConnection.CheckedMessage)]

    private let state: Mutex<State>
    let maximumTargetsPerConnection: Int
    /// Each commit's changes to check against the rules, in commit order, for `RealtimeRulesChecker`.
    let checks: AsyncStream<RulesCheck>

    init(maximumTargetsPerConnection: Int = 100) {
        self.maximumTargetsPerConnection = maximumTargetsPerConnection
        let (checks, checkQueue) = AsyncStream.makeStream(of: RulesCheck.self)
        self.checks = checks
        state = Mutex(State(checkQueue: checkQueue))
    }

    /// The last commit the hub has delivered.
    var sequence: Int64 { state.withLock { $0.sequence } }

    /// How many targets are listening, for metrics and tests.
    var targetCount: Int { state.withLock { $0.targets.count } }

    // MARK: Connections and targets

    /// A new connection's id, unique within this process.
    func makeConnectionID() -> Int {
        state.withLock { state in
            state.lastConnectionID += 1
            return state.lastConnectionID
        }
    }

    func add(_ connection: RealtimeConnection) {
        state.withLock { $0.connections[connection.id] = connection }
    }

    func remove(_ connection: RealtimeConnection) {
        let drained = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.connections[connection.id] = nil
            for key in state.targets.keys where key.connection == connection.id { state.removeTarget(key) }
            guard state.connections.isEmpty else { return [] }
            defer { state.drainWaiters.removeAll() }
            return state.drainWaiters
        }
        for waiter in drained { waiter.resume() }
    }

    /// Closes every connection with "going away" and waits until all are gone.
    func closeAll() async {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state -> Bool in
                for connection in state.connections.values { connection.close(.goingAway) }
                if state.connections.isEmpty { return true }
                state.drainWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    enum Registration {
        case registered
        /// The hub has delivered commits past the read: read again and retry.
        case behind
        case duplicateTarget
        case tooManyTargets
    }

    /// Files a target whose starting point was read at `state.since`, after queueing `initial` (its snapshot or
    /// replay) to the connection, atomically with respect to deliveries: no commit can fall between.
    func register(_ key: TargetKey, _ target: TargetState, initial: [[UInt8]]) -> Registration {
        state.withLock { state in
            if state.targets[key] != nil { return .duplicateTarget }
            if state.targets.keys.count(where: { $0.connection == key.connection }) >= maximumTargetsPerConnection {
                return .tooManyTargets
            }
            if state.sequence > target.since { return .behind }
            guard let connection = state.connections[key.connection] else { return .registered }
            for message in initial { connection.enqueue(message) }
            state.addTarget(key, target)
            return .registered
        }
    }

    func unregister(_ key: TargetKey) -> Bool {
        state.withLock { state in
            guard state.targets[key] != nil else { return false }
            state.removeTarget(key)
            return true
        }
    }

    /// Ends a target that the security rules no longer allow. Returns the last commit delivered before it ended:
    /// changes for it queued up to that commit must be dropped.
    func end(_ key: TargetKey) -> Int64 {
        state.withLock { state in
            state.removeTarget(key)
            return state.sequence
        }
    }

    // MARK: Delivery

    func didCommit(_ batches: [ChangeBatch], read: (Query) throws -> [Document]) {
        guard !batches.isEmpty else { return }
        state.withLock { state in
            let pending = state.deliver(batches)
            var refilled: [TargetKey: [Document]] = [:]
            for (key, query) in pending.refills { refilled[key] = try? read(query) }
            state.finish(pending, refilled: refilled)
        }
    }

    /// The first half of a delivery for a store whose reads are asynchronous (PostgreSQL's change-log tailer, the only
    /// caller there, so deliveries never overlap): applies `batches` and sends every batch but the last, which waits
    /// for `finish`, with the queries of the windows due for a refill. The hub's sequence is the last batch's from
    /// here on: targets registered before `finish` start after it (earlier ones are told they are behind).
    func apply(_ batches: [ChangeBatch]) -> PendingDelivery {
        state.withLock { $0.deliver(batches) }
    }

    /// The second half of a delivery: sends its last batch with the differences of the windows read again at the state
    /// of that batch (and no later commit). Windows due but not in `refilled` stay due, for a later delivery's last
    /// batch.
    func finish(_ pending: PendingDelivery, refilled: [TargetKey: [Document]] = [:]) {
        state.withLock { $0.finish(pending, refilled: refilled) }
    }
}
/// The last batch of a delivery, its changes worked out, waiting for the windows it emptied to be read again.
struct PendingDelivery {
    var batch: ChangeBatch
    var outgoing: [Int: [(targetID: Int64, changes: [TargetChange])]] = [:]
    var positions: [SubscriptionHub.TargetKey: Int] = [:]
    /// The windows due for a refill, with their queries.
    var refills: [SubscriptionHub.TargetKey: Query] = [:]

    mutating func add(_ key: SubscriptionHub.TargetKey, _ changes: [TargetChange]) {
        guard !changes.isEmpty else { return }
        if let position = positions[key] {
            outgoing[key.connection]![position].changes += changes
        } else {
            positions[key] = outgoing[key.connection, default: []].count
            outgoing[key.connection, default: []].append((key.target, changes))
        }
    }
}

extension SubscriptionHub.State {
    /// Applies `batches` to the targets and sends every batch but the last; returns the last, to `finish` once the
    /// windows due for a refill are read again. The hub's sequence is the last batch's from here on.
    mutating func deliver(_ batches: [ChangeBatch]) -> PendingDelivery {
        var pending = PendingDelivery(batch: batches[batches.count - 1])
        for (index, batch) in batches.enumerated() {
            var current = PendingDelivery(batch: batch)
            for change in batch.changes {
                for key in candidates(for: change) {
                    guard let since = targets[key]?.since, since < batch.sequence else { continue }
                    // Mutated in place: copying a target out would copy the documents it holds on every commit.
                    let wasHeld = targets[key]!.memberPaths.contains(change.path)
                    let changes = targets[key]!.apply(change)
                    let isHeld = targets[key]!.memberPaths.contains(change.path)
                    updateHolders(key, path: change.path, wasHeld: wasHeld, isHeld: isHeld)
                    for case .removed(let path) in changes where path != change.path {
                        updateHolders(key, path: path, wasHeld: true, isHeld: false)
                    }
                    if targets[key]!.needsRefill { refillsDue.insert(key) }
                    current.add(key, changes)
                }
            }
            sequence = batch.sequence
            if index == batches.count - 1 {
                pending = current
            } else {
                send(current)
            }
        }
        // A window that lost members is read again once, at the state of the last commit of the group,
        // and its difference travels with that commit.
        for key in refillsDue {
            if case .query(let query)? = targets[key]?.target { pending.refills[key] = query }
        }
        return pending
    }

    /// Applies the windows read again and sends the last batch.
    mutating func finish(_ pending: PendingDelivery, refilled: [SubscriptionHub.TargetKey: [Document]]) {
        var pending = pending
        let sequence = pending.batch.sequence
        for (key, documents) in refilled {
            guard let since = targets[key]?.since, since < sequence else { continue }
            refillsDue.remove(key)
            let before = Set(targets[key]!.memberPaths)
            let changes = targets[key]!.refill(with: documents)
            let after = Set(targets[key]!.memberPaths)
            for path in before.subtracting(after) { updateHolders(key, path: path, wasHeld: true, isHeld: false) }
            for path in after.subtracting(before) { updateHolders(key, path: path, wasHeld: false, isHeld: true) }
            pending.add(key, changes)
        }
        // Between `deliver` and `finish` a target may have gone (unlistened, or its connection closed), or another
        // taken its id: that one starts after this batch.
        for (connectionID, entries) in pending.outgoing {
            pending.outgoing[connectionID] = entries.filter {
                guard let since = targets[.init(connection: connectionID, target: $0.targetID)]?.since else { return false }
                return since < sequence
            }
        }
        send(pending)
    }

    /// Queues one batch's message to each connection it concerns. Connections told the same changes (listeners of
    /// one query, say) share one message, encoded and framed once: the same bytes go to every socket.
    private mutating func send(_ delivery: PendingDelivery) {
        let batch = delivery.batch
        var cache = DocumentJSONCache()
        var framed: [ChangesMessageKey: ByteBuffer] = [:]
        var check: SubscriptionHub.RulesCheck = []
        for (connectionID, targets) in delivery.outgoing where !targets.isEmpty {
            guard let connection = connections[connectionID] else { continue }
            let key = ChangesMessageKey(targets)
            let message: ByteBuffer
            if let shared = framed[key] {
                message = shared
            } else {
                message = WebSocketFrames.text(ServerMessage.changes(
                    sequence: batch.sequence, commitTime: batch.commitTime, targets: targets, replay: false, cache: &cache))
                framed[key] = message
            }
            let accepted: Bool
            if connection.checksRules {
                let checked = RealtimeConnection.CheckedMessage(
                    .init(
                        message: message, sequence: batch.sequence, commitTime: batch.commitTime,
                        targets: targets.compactMap { entry in
                            self.targets[SubscriptionHub.TargetKey(connection: connectionID, target: entry.targetID)].map {
                                (entry.targetID, $0.target, entry.changes)
                            }
                        }))
                accepted = connection.enqueue(checked: checked)
                if accepted { check.append((connection, checked)) }
            } else {
                accepted = connection.enqueue(framed: message)
            }
            if !accepted {
                // Too slow: it is being closed; forget its targets so its memory is freed now.
                for key in self.targets.keys where key.connection == connectionID { removeTarget(key) }
            }
        }
        if !check.isEmpty { checkQueue?.yield(check) }
    }
}

/// What one commit's changes message says to a connection, short of encoding it: connections with equal keys are sent
/// the same bytes. A document is named by its path and version, which fix its JSON.
struct ChangesMessageKey: Hashable {
    private enum Part: Hashable {
        case target(Int64)
        case added(DocumentPath, Int64)
        case modified(DocumentPath, Int64)
        case removed(DocumentPath)
    }

    private var parts: [Part] = []

    init(_ targets: [(targetID: Int64, changes: [TargetChange])]) {
        for target in targets {
            parts.append(.target(target.targetID))
            for change in target.changes {
                switch change {
                case .added(let document): parts.append(.added(document.path, document.version))
                case .modified(let document): parts.append(.modified(document.path, document.version))
                case .removed(let path): parts.append(.removed(path))
                }
            }
        }
    }
}

extension SubscriptionHub.State {
    /// The targets a change can concern: listeners of that document, holders of it, and the queries filed under its
    /// collection — all of them, or, for equality-filed queries, only those whose value the document has.
    func candidates(for change: Change) -> Set<SubscriptionHub.TargetKey> {
        var result = byDocument[change.path] ?? []
        if let held = holders[change.path] { result.formUnion(held) }
        let path = change.path
        for scope in [SubscriptionHub.Scope.collection(path.collection.description), .group(path.collectionID)] {
            if let all = byScope[scope] { result.formUnion(all) }
            guard let document = change.document, let fields = equalityFields[scope] else { continue }
            for field in fields.keys {
                guard let value = document.value(at: field) else { continue }
                if let matching = byEquality[.init(scope: scope, field: field, value: IndexKey.encode(value))] {
                    result.formUnion(matching)
                }
            }
        }
        return result
    }

    mutating func updateHolders(_ key: SubscriptionHub.TargetKey, path: DocumentPath, wasHeld: Bool, isHeld: Bool) {
        if isHeld, !wasHeld { holders[path, default: []].insert(key) }
        if wasHeld, !isHeld {
            holders[path]?.remove(key)
            if holders[path]?.isEmpty == true { holders[path] = nil }
        }
    }

    /// Where a target is filed: a document, an equality filter of a query, or a query's whole scope.
    private func filing(_ target: ListenTarget) -> Filing {
        switch target {
        case .document(let path): return .document(path)
        case .query(let query):
            let scope: SubscriptionHub.Scope =
                query.allDescendants ? .group(query.collectionID) : .collection(query.collectionPath.description)
            if let equality = query.filter?.conjuncts.first(where: { $0.op == .equal && !$0.field.isDocumentName }) {
                return .equality(.init(scope: scope, field: equality.field, value: IndexKey.encode(equality.value)))
            }
            return .scope(scope)
        }
    }

    private enum Filing {
        case document(DocumentPath)
        case scope(SubscriptionHub.Scope)
        case equality(SubscriptionHub.EqualityKey)
    }

    mutating func addTarget(_ key: SubscriptionHub.TargetKey, _ target: TargetState) {
        targets[key] = target
        for path in target.memberPaths { holders[path, default: []].insert(key) }
        switch filing(target.target) {
        case .document(let path): byDocument[path, default: []].insert(key)
        case .scope(let scope): byScope[scope, default: []].insert(key)
        case .equality(let equality):
            byEquality[equality, default: []].insert(key)
            equalityFields[equality.scope, default: [:]][equality.field, default: 0] += 1
        }
    }

    mutating func removeTarget(_ key: SubscriptionHub.TargetKey) {
        guard let target = targets.removeValue(forKey: key) else { return }
        refillsDue.remove(key)
        for path in target.memberPaths { updateHolders(key, path: path, wasHeld: true, isHeld: false) }
        switch filing(target.target) {
        case .document(let path):
            byDocument[path]?.remove(key)
            if byDocument[path]?.isEmpty == true { byDocument[path] = nil }
        case .scope(let scope):
            byScope[scope]?.remove(key)
            if byScope[scope]?.isEmpty == true { byScope[scope] = nil }
        case .equality(let equality):
            byEquality[equality]?.remove(key)
            if byEquality[equality]?.isEmpty == true { byEquality[equality] = nil }
            equalityFields[equality.scope]?[equality.field]! -= 1
            if equalityFields[equality.scope]?[equality.field] == 0 { equalityFields[equality.scope]?[equality.field] = nil }
            if equalityFields[equality.scope]?.isEmpty == true { equalityFields[equality.scope] = nil }
        }
    }
}
