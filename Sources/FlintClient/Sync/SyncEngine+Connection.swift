import FlintCore
import Foundation
import HTTPTypes
import HummingbirdWSClient
import Logging
import NIOWebSocket

/// The WebSocket: connecting, reconnecting with exponential backoff and jitter, and what is sent when a connection
/// becomes ready (the user's token, every target with its resume token, the queued writes).
extension SyncEngine {
    /// Keeps a connection open while the network is enabled, until the task is cancelled (the app closes).
    func run() async {
        var failures = 0
        while !Task.isCancelled && !closed {
            guard networkEnabled else {
                _ = await wakeup.wait(timeout: nil)
                continue
            }
            let wasReady = await connectOnce()
            if Task.isCancelled || closed { return }
            failures = wasReady ? 0 : failures + 1
            guard networkEnabled else { continue }
            _ = await wakeup.wait(timeout: backoff(after: failures))
        }
    }

    /// The pause before the next attempt: doubling from the minimum up to the maximum, with full jitter over its
    /// upper half so that many clients cut off together do not come back together.
    func backoff(after failures: Int) -> Duration {
        let minimum = settings.minimumReconnectDelay.seconds
        let maximum = settings.maximumReconnectDelay.seconds
        let ceiling = min(maximum, minimum * pow(2, Double(min(failures, 30))))
        return .seconds(Double.random(in: (ceiling / 2)...max(ceiling, ceiling / 2 + 0.001)))
    }

    /// One connection, from connecting to its end; returns whether it got as far as the server's `hello`.
    private func connectOnce() async -> Bool {
        generation += 1
        let generation = self.generation
        let token: String?
        do {
            token = try await auth.accessToken()
        } catch {
            // Signed in, but no valid token (the refresh could not reach the server): connecting without one would
            // send this user's queued writes as nobody.
            knownOffline = true
            refreshAll()
            return false
        }
        guard !closed, networkEnabled, generation == self.generation else { return false }
        let (outgoing, continuation) = AsyncStream.makeStream(of: String.self)
        connection = Connection(generation: generation, outgoing: continuation)
        var configuration = WebSocketClientConfiguration(maxFrameSize: 1 << 20, closeTimeout: .seconds(2))
        configuration.autoPing = .enabled(timePeriod: settings.pingInterval)
        if let token { configuration.additionalHeaders[.authorization] = "Bearer \(token)" }
        var logger = self.logger
        logger.logLevel = .critical
        // The session runs on a task of its own so that a stalled opening handshake can be left behind: swift-websocket's
        // client allows half-closed connections, so when the server (or something between) closes the connection
        // before answering the upgrade, its connect waits forever. Without the server's `hello` within
        // `settings.handshakeTimeout`, this connection is given up and the next one tried.
        let (ended, end) = AsyncStream.makeStream(of: Never.self)
        let session = Task { [realtimeURL, logger] in
            do {
                try await WebSocketClient.connect(url: realtimeURL, configuration: configuration, logger: logger) { inbound, outbound, _ in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for await text in outgoing { try await outbound.write(.text(text)) }
                            try await outbound.close(.normalClosure, reason: nil)
                        }
                        group.addTask {
                            for try await message in inbound.messages(maxSize: 256 << 20) {
                                guard case .text(let text) = message else { continue }
                                await self.receive(text, generation: generation)
                            }
                        }
                        try await group.next()
                        group.cancelAll()
                    }
                }
            } catch {
                logger.debug("realtime connection ended", metadata: ["error": "\(error)"])
            }
            end.finish()
        }
        let handshakeGuard = Task { [timeout = settings.handshakeTimeout] in
            try await Task.sleep(for: timeout)
            if await !self.isReady(generation) { end.finish() }
        }
        for await _ in ended {}
        handshakeGuard.cancel()
        session.cancel()
        let wasReady = connection?.generation == generation && connection?.ready == true
        if connection?.generation == generation { disconnected() }
        return wasReady
    }

    /// Whether connection `generation` has had the server's `hello`.
    func isReady(_ generation: Int) -> Bool { connection?.generation == generation && connection?.ready == true }

    /// The connection is gone: every target waits for the next one, and so does the write in flight.
    func disconnected() {
        connection?.outgoing.finish()
        connection = nil
        knownOffline = true
        inFlight = nil
        for key in targets.keys { targets[key]!.current = false }
        refreshAll()
    }

    /// Closes the current connection, if any; `run()` connects again (at once, when `reconnect`).
    func dropConnection(reconnect: Bool) {
        connection?.outgoing.finish()
        if connection != nil { disconnected() }
        // A deliberate reconnect (another user) does not mean the server is out of reach.
        knownOffline = !reconnect
        generation += 1
        if reconnect { wakeup.signal() }
    }

    /// After `hello`: listen to every target and start sending the queued writes.
    func connectionReady(serverSequence: Int64) {
        connection?.ready = true
        knownOffline = false
        statistics.connections += 1
        self.serverSequence = serverSequence
        for target in targets.values.sorted(by: { $0.id < $1.id }) { sendListen(target) }
        pumpWrites()
        refreshAll()
    }

    func sendListen(_ target: ActiveTarget) {
        var message: [String: JSON] = ["type": .string("listen"), "targetId": .integer(target.id)]
        switch target.target {
        case .document(let path): message["document"] = .string(path.description)
        case .query(let query): message["query"] = query.json
        }
        if let token = target.resumeToken { message["resumeToken"] = .integer(token) }
        send(.object(message))
    }

    func send(_ message: JSON) {
        guard let connection, connection.ready || Self.type(of: message) == "auth" else { return }
        connection.outgoing.yield(message.text)
    }

    private static func type(of message: JSON) -> String? {
        if case .object(let members) = message, case .string(let type)? = members["type"] { return type }
        return nil
    }

    // MARK: Network and users

    /// Stops using the network until `enableNetwork()`: listeners get cache snapshots, writes wait in the queue.
    func disableNetwork() {
        networkEnabled = false
        dropConnection(reconnect: false)
    }

    func enableNetwork() {
        networkEnabled = true
        wakeup.signal()
    }

    /// A change from `Auth`: another user reconnects as them (with their queued writes); a refreshed token is sent.
    func authChanged(_ change: AuthChange) {
        switch change {
        case .token(let token):
            if online { send(.object(["type": .string("auth"), "token": .string(token)])) }
        case .user(let newUID):
            let next = newUID ?? ""
            guard next != uid else { return }
            uid = next
            acknowledged = []
            // Another user starts afresh: no resume state of the previous one's targets.
            try? store.forgetAllTargets()
            pending = (try? store.pendingMutations(uid: uid)) ?? []
            for key in targets.keys {
                targets[key]!.current = false
                targets[key]!.resumeToken = nil
            }
            dropConnection(reconnect: true)
            refreshAll()
        }
    }
}
