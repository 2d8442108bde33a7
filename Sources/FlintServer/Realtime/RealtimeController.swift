import FlintCore
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import ServiceLifecycle

/// `GET /v1/realtime`: the WebSocket that carries a client's listeners and writes (`sdk-docs/protocol.md`).
struct RealtimeController: Sendable {
    let store: any DocumentStore
    let hub: SubscriptionHub
    /// Checks listens, every change sent to a listener, and commits.
    let rules: DocumentRules
    /// Verifies the access tokens clients present in `auth` messages.
    let tokens: TokenService
    /// The largest frame a client may send.
    let maximumFrameSize: Int
    /// The most bytes queued for one client before it is closed as too slow.
    let maximumQueuedBytes: Int

    /// Outbound messages larger than this go out as several frames (a text message with continuations).
    static let fragmentSize = 64 * 1024

    init(
        store: any DocumentStore, hub: SubscriptionHub, rules: DocumentRules, tokens: TokenService, maximumFrameSize: Int,
        maximumQueuedBytes: Int
    ) {
        self.store = store
        self.hub = hub
        self.rules = rules
        self.tokens = tokens
        self.maximumFrameSize = maximumFrameSize
        self.maximumQueuedBytes = maximumQueuedBytes
    }

    func addRoutes(to router: Router<FlintRequestContext>) {
        router.ws("/v1/realtime", shouldUpgrade: { request, _ in
            guard request.headers[.upgrade]?.lowercased() == "websocket" else {
                throw FlintError.invalidArgument(
                    "/v1/realtime is a WebSocket: connect with a WebSocket client (Upgrade: websocket); see sdk-docs/protocol.md")
            }
            return .upgrade([:])
        }) { inbound, outbound, context in
            // A bearer token on the upgrade request was verified by the authentication middleware.
            try await self.serve(
                inbound: inbound, outbound: outbound, identity: context.requestContext.identity, logger: context.logger)
        }
    }

    /// One connection: a writer task drains the outbound queue while this task reads and answers messages.
    func serve(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, identity: Identity?, logger: Logger) async throws {
        let id = hub.makeConnectionID()
        let connection = RealtimeConnection(id: id, maximumQueuedBytes: maximumQueuedBytes)
        connection.identity = identity
        hub.add(connection)
        defer {
            hub.remove(connection)
            connection.finish()
        }
        connection.enqueue(ServerMessage.hello(sequence: hub.sequence, connectionID: id))
        try await withGracefulShutdownHandler {
            // The writer is a child task; this task reads (one task fewer per connection keeps idle sockets small).
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await self.write(connection, to: outbound) }
                do {
                    for try await message in inbound.messages(maxSize: maximumFrameSize) {
                        await self.handle(message, on: connection, logger: logger)
                        if connection.isClosing { break }
                    }
                } catch {
                    logger.debug("realtime connection ended", metadata: ["error": "\(error)"])
                }
                // The client is gone, or the connection is closing: let the writer send what is queued (or the
                // close frame), then end.
                connection.close(.goingAway)
                try await group.next()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            connection.close(.goingAway)
        }
    }

    /// Sends what the connection queues, in order, until it is told to close.
    private func write(_ connection: RealtimeConnection, to outbound: WebSocketOutboundWriter) async throws {
        // Targets the rules ended, with the last commit queued for them before they ended.
        var ended: [Int64: Int64] = [:]
        for await _ in connection.signals {
            drain: while true {
                switch connection.next() {
                case .send(let items):
                    for item in items {
                        switch item {
                        case .message(let message):
                            try await Self.send(message, to: outbound)
                        case .checked(let changes):
                            for message in await check(changes, on: connection, ended: &ended) {
                                try await Self.send(message, to: outbound)
                            }
                        }
                    }
                case .close(let reason):
                    try await outbound.close(.init(codeNumber: Int(reason.code)), reason: reason.reason)
                    return
                case .wait:
                    break drain
                }
            }
        }
    }

    private static func send(_ message: ByteBuffer, to outbound: WebSocketOutboundWriter) async throws {
        if message.readableBytes <= fragmentSize {
            try await outbound.write(.custom(.init(fin: true, opcode: .text, data: message)))
            return
        }
        var rest = message
        var opcode = WebSocketOpcode.text
        while rest.readableBytes > fragmentSize {
            let part = rest.readSlice(length: fragmentSize)!
            try await outbound.write(.custom(.init(fin: false, opcode: opcode, data: part)))
            opcode = .continuation
        }
        try await outbound.write(.custom(.init(fin: true, opcode: .continuation, data: rest)))
    }

    // MARK: Messages

    /// The messages to send for one commit's changes: as encoded when the rules allow every document they carry;
    /// otherwise without the targets that now show a forbidden document, each of which ends with `permission-denied`.
    private func check(
        _ changes: RealtimeConnection.CheckedChanges, on connection: RealtimeConnection, ended: inout [Int64: Int64]
    ) async -> [ByteBuffer] {
        let identity = connection.identity
        var kept: [(targetID: Int64, changes: [TargetChange])] = []
        var denied: [Int64] = []
        for entry in changes.targets {
            if let last = ended[entry.targetID], changes.sequence <= last { continue }
            var allowed = true
            for change in entry.changes {
                switch change {
                case .added(let document), .modified(let document):
                    allowed = await rules.allows(document, in: entry.target, identity: identity)
                case .removed:
                    // The client held the document; its leaving tells nothing new.
                    continue
                }
                if !allowed { break }
            }
            if allowed { kept.append((entry.targetID, entry.changes)) } else { denied.append(entry.targetID) }
        }
        if kept.count == changes.targets.count { return [changes.message] }
        var messages: [ByteBuffer] = []
        if !kept.isEmpty {
            var cache = DocumentJSONCache()
            messages.append(ByteBuffer(bytes: ServerMessage.changes(
                sequence: changes.sequence, commitTime: changes.commitTime, targets: kept, replay: false, cache: &cache)))
        }
        for targetID in denied {
            ended[targetID] = hub.end(.init(connection: connection.id, target: targetID))
            messages.append(ByteBuffer(bytes: ServerMessage.error(
                FlintError(.permissionDenied, "the security rules no longer allow this target to see a changed document; the target has ended"),
                targetID: targetID)))
        }
        return messages
    }

    private func handle(_ message: WebSocketMessage, on connection: RealtimeConnection, logger: Logger) async {
        let bytes: [UInt8]
        switch message {
        case .text(let text): bytes = Array(text.utf8)
        case .binary(let buffer): bytes = Array(buffer.readableBytesView)
        }
        let parsed: ClientMessage
        do {
            parsed = try ClientMessage(frame: bytes)
        } catch {
            switch error {
            case .notJSON(let detail): connection.close(.notJSON(detail))
            case .invalid(let problem, let targetID, let id): connection.enqueue(ServerMessage.error(problem, targetID: targetID, id: id))
            }
            return
        }
        switch parsed {
        case .listen(let targetID, let target, let token):
            await listen(targetID: targetID, target: target, resumeToken: token, on: connection)
        case .unlisten(let targetID):
            if hub.unregister(.init(connection: connection.id, target: targetID)) {
                connection.enqueue(ServerMessage.unlistened(targetID: targetID))
            } else {
                connection.enqueue(ServerMessage.error(.notFound("no target \(targetID) on this connection"), targetID: targetID))
            }
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
        case .ping(let id):
            connection.enqueue(ServerMessage.pong(id: id))
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
