import FlintCore
import Hummingbird
import Logging
import NIOCore

/// `GET /v1/realtime`: the WebSocket that carries a client's listeners and writes (`sdk-docs/protocol.md`).
struct RealtimeController: Sendable {
    let store: any DocumentStore
    let hub: SubscriptionHub
    /// Checks listens, every change sent to a listener, and commits.
    let rules: DocumentRules
    /// Verifies the access tokens clients present in `auth` messages.
    let tokens: TokenService
    /// The largest message a client may send (all its frames together).
    let maximumMessageSize: Int
    /// The most bytes queued for one client before it is closed as too slow.
    let maximumQueuedBytes: Int
    /// How often the server pings each connection; a client that has not answered by the next ping is closed.
    let pingInterval: TimeAmount

    init(
        store: any DocumentStore, hub: SubscriptionHub, rules: DocumentRules, tokens: TokenService, maximumMessageSize: Int,
        maximumQueuedBytes: Int, pingInterval: TimeAmount
    ) {
        self.store = store
        self.hub = hub
        self.rules = rules
        self.tokens = tokens
        self.maximumMessageSize = maximumMessageSize
        self.maximumQueuedBytes = maximumQueuedBytes
        self.pingInterval = pingInterval
    }

    /// The upgrade route: the router's middleware has verified a bearer token on the request (the identity); the
    /// connection itself is served by a `RealtimeWebSocketHandler` that `RealtimeServerChannel` sets up.
    func addRoutes(to router: Router<FlintRequestContext>) {
        router.get("/v1/realtime") { request, context -> Response in
            guard let upgrade = context.realtimeUpgrade, request.headers[.upgrade]?.lowercased() == "websocket" else {
                throw FlintError.invalidArgument(
                    "/v1/realtime is a WebSocket: connect with a WebSocket client (Upgrade: websocket); see sdk-docs/protocol.md")
            }
            upgrade.accept(self, identity: context.identity)
            return Response(status: .ok)
        }
    }

    /// A client message on its way to `handle`: as received, or already parsed on the event loop.
    enum Inbound: Sendable {
        case frame(ByteBuffer)
        case parsed(ClientMessage)
    }

    /// Parses a client message; a message that is not JSON closes the connection (1007), any other problem is
    /// answered with an `error` message. Nil when there is nothing more to do with it.
    func parse(_ bytes: some Collection<UInt8>, on connection: RealtimeConnection) -> ClientMessage? {
        do {
            return try ClientMessage(frame: bytes)
        } catch {
            switch error {
            case .notJSON(let detail): connection.close(.notJSON(detail))
            case .invalid(let problem, let targetID, let id): connection.enqueue(ServerMessage.error(problem, targetID: targetID, id: id))
            }
            return nil
        }
    }

    /// Handles the messages that need no waiting (`ping`, `unlisten`) at once; false for the others.
    func handleInline(_ message: ClientMessage, on connection: RealtimeConnection) -> Bool {
        switch message {
        case .ping(let id):
            connection.enqueue(ServerMessage.pong(id: id))
        case .unlisten(let targetID):
            if hub.unregister(.init(connection: connection.id, target: targetID)) {
                connection.enqueue(ServerMessage.unlistened(targetID: targetID))
            } else {
                connection.enqueue(ServerMessage.error(.notFound("no target \(targetID) on this connection"), targetID: targetID))
            }
        case .listen, .commit, .auth:
            return false
        }
        return true
    }

    // MARK: Messages

    /// Handles one client message; messages of one connection are handled one at a time, in order.
    func handle(_ message: Inbound, on connection: RealtimeConnection, logger: Logger) async {
        let parsed: ClientMessage
        switch message {
        case .frame(let bytes):
            guard let message = parse(bytes.readableBytesView, on: connection) else { return }
            if handleInline(message, on: connection) { return }
            parsed = message
        case .parsed(let message):
            parsed = message
        }
        switch parsed {
        case .listen(let targetID, let target, let token):
            await listen(targetID: targetID, target: target, resumeToken: token, on: connection)
        case .commit(let id, let commit):
            do {
                let result = try await rules.commit(commit, identity: connection.identity)
                connection.enqueue(ServerMessage.committed(id: id, result: result))
            } catch let error as FlintError {
                connection.enqueue(ServerMessage.error(error, id: id))
            } catch {
                logger.error("realtime commit failed", metadata: ["error": "\(String(reflecting: error))"])
                connection.enqueue(ServerMessage.error(FlintError(.internal, "the commit failed; nothing was written"), id: id))
            }
        case .auth(let token):
            do {
                let claims = try await tokens.verify(token)
                connection.identity = Identity(claims: claims)
                connection.enqueue(ServerMessage.authenticated(uid: claims.sub, expires: claims.exp))
            } catch {
                connection.enqueue(ServerMessage.error(error))
            }
        case .ping, .unlisten:
            // Handled inline above.
            return
        }
    }

    /// Reads the target's starting point, then files it with the hub, reading again if commits slipped in between.
    private func listen(targetID: Int64, target: ListenTarget, resumeToken: Int64?, on connection: RealtimeConnection) async {
        let key = SubscriptionHub.TargetKey(connection: connection.id, target: targetID)
        // A windowed query cannot be replayed exactly (documents outside the window are unknown): start afresh.
        let token = target.isWindowed ? nil : resumeToken
        for _ in 0..<100 {
            let read: TargetRead
            do {
                read = try await store.read(target, resumingAfter: token)
            } catch {
                let problem = error as? FlintError ?? FlintError(.unavailable, "the target could not be read; retry")
                connection.enqueue(ServerMessage.error(problem, targetID: targetID))
                return
            }
            do {
                try await authorizeListen(target, read, identity: connection.identity)
            } catch {
                connection.enqueue(ServerMessage.error(error, targetID: targetID))
                return
            }
            var cache = DocumentJSONCache()
            var initial: [[UInt8]] = []
            if let missed = read.missed {
                initial = Self.replay(missed, targetID: targetID, target: target, cache: &cache)
                initial.append(ServerMessage.current(targetID: targetID, sequence: read.sequence))
            } else {
                initial = [ServerMessage.snapshot(
                    targetID: targetID, sequence: read.sequence, documents: read.documents, reset: resumeToken != nil, cache: &cache)]
            }
            let state = TargetState(target: target, documents: read.documents, since: read.sequence)
            switch hub.register(key, state, initial: initial) {
            case .registered: return
            case .behind: continue
            case .duplicateTarget:
                connection.enqueue(ServerMessage.error(.invalidArgument("targetId \(targetID) is already listening; unlisten it first"), targetID: targetID))
                return
            case .tooManyTargets:
                connection.enqueue(ServerMessage.error(
                    FlintError(.resourceExhausted, "this connection already has \(hub.maximumTargetsPerConnection) targets; unlisten some first"),
                    targetID: targetID))
                return
            }
        }
        connection.enqueue(ServerMessage.error(FlintError(.unavailable, "the target could not catch up with the commits; retry"), targetID: targetID))
    }

    /// Checks a target's first snapshot, and the documents of the commits it replays, against the rules.
    private func authorizeListen(_ target: ListenTarget, _ read: TargetRead, identity: Identity?) async throws(FlintError) {
        try await rules.authorizeListen(target, documents: read.documents, identity: identity)
        for batch in read.missed ?? [] {
            for change in batch.changes {
                guard let document = change.document, target.includes(change.path, document) else { continue }
                if await !rules.allows(document, in: target, identity: identity) {
                    if case .query = target { throw DocumentRules.denied("list", change.path.description, identity) }
                    throw DocumentRules.denied("get", change.path.description, identity)
                }
            }
        }
    }

    /// The missed commits as change messages, one per commit that touched the target, flagged as a replay.
    /// The server does not know which documents the client held, so `modified` may name one it lacks (treat it as
    /// added) and `removed` may name one it never had (ignore it); applied in order they give the exact state.
    static func replay(_ missed: [ChangeBatch], targetID: Int64, target: ListenTarget, cache: inout DocumentJSONCache) -> [[UInt8]] {
        guard let tokenTime = missed.first?.commitTime else { return [] }
        var reported = Set<DocumentPath>()
        var messages: [[UInt8]] = []
        for batch in missed {
            var changes: [TargetChange] = []
            for change in batch.changes {
                let inScope: Bool
                switch target {
                case .document(let path): inScope = path == change.path
                case .query(let query): inScope = query.isInScope(change.path)
                }
                guard inScope else { continue }
                if target.includes(change.path, change.document), let document = change.document {
                    let created = document.createTime >= tokenTime && !reported.contains(change.path)
                    changes.append(created ? .added(document) : .modified(document))
                    reported.insert(change.path)
                } else {
                    changes.append(.removed(change.path))
                    reported.remove(change.path)
                }
            }
            if !changes.isEmpty {
                messages.append(ServerMessage.changes(
                    sequence: batch.sequence, commitTime: batch.commitTime, targets: [(targetID, changes)], replay: true, cache: &cache))
            }
        }
        return messages
    }
}
