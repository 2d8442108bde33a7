public import FlintCore
import HummingbirdWSClient
import Logging
import NIOCore
import NIOWebSocket

/// A real WebSocket client (hummingbird-websocket's) on `/v1/realtime`, for tests: send JSON text, await the
/// server's messages one by one, see how the server closed the connection.
public final class RealtimeTestClient: Sendable {
    private let inbox = Inbox()
    private let outgoing: AsyncStream<Outgoing>.Continuation
    private let connection: Task<WebSocketCloseFrame?, any Error>

    enum Outgoing: Sendable {
        case text(String)
        case close
    }

    /// How long `next()` waits for a message before reporting that none came: a guard against hanging, not a
    /// measure of speed.
    public static let patience = Duration.seconds(20)

    /// Connects to the server on `port`; the first message will be `hello`.
    public init(port: Int) {
        let (stream, continuation) = AsyncStream.makeStream(of: Outgoing.self)
        outgoing = continuation
        let inbox = self.inbox
        connection = Task {
            defer { Task { await inbox.finish() } }
            return try await WebSocketClient.connect(
                url: "ws://127.0.0.1:\(port)/v1/realtime", configuration: .init(maxFrameSize: 1 << 20),
                logger: Logger(label: "realtime-test-client")
            ) { inbound, outbound, _ in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for try await message in inbound.messages(maxSize: 64 << 20) {
                            guard case .text(let text) = message, let json = try? JSON(parsing: text) else { continue }
                            await inbox.push(json)
                        }
                    }
                    group.addTask {
                        for await item in stream {
                            switch item {
                            case .text(let text): try await outbound.write(.text(text))
                            case .close:
                                try await outbound.close(.normalClosure, reason: nil)
                                return
                            }
                        }
                    }
                    try await group.next()
                    group.cancelAll()
                }
            }
        }
    }

    /// Sends one text frame.
    public func send(_ text: String) {
        outgoing.yield(.text(text))
    }

    /// The next message from the server; nil if the connection ended (or nothing came within `patience`).
    public func next() async -> JSON? {
        await inbox.receive(within: Self.patience)
    }

    /// The next message whose `type` is one of `types`, skipping others (`hello`, acknowledgements).
    public func next(ofType types: String...) async -> JSON? {
        while let message = await next() {
            if case .string(let type)? = message.member("type"), types.contains(type) { return message }
        }
        return nil
    }

    /// Closes the connection from the client side.
    public func close() {
        outgoing.yield(.close)
        outgoing.finish()
    }

    /// How the server closed the connection (its close code), once it has.
    public func closeCode() async -> UInt16? {
        guard let frame = try? await connection.value else { return nil }
        switch frame.closeCode {
        case .goingAway: return 1001
        case .normalClosure: return 1000
        case .unacceptableData: return 1003
        case .dataInconsistentWithMessage: return 1007
        case .policyViolation: return 1008
        case .unknown(let code): return code
        default: return 0
        }
    }
}

/// Messages received and not yet taken, and at most one waiter.
private actor Inbox {
    private var buffer: [JSON] = []
    private var waiter: (id: Int, continuation: CheckedContinuation<JSON?, Never>)? = nil
    private var waits = 0
    private var finished = false

    func push(_ message: JSON) {
        if let waiter {
            self.waiter = nil
            waiter.continuation.resume(returning: message)
        } else {
            buffer.append(message)
        }
    }

    func finish() {
        finished = true
        if let waiter {
            self.waiter = nil
            waiter.continuation.resume(returning: nil)
        }
    }

    func receive(within patience: Duration) async -> JSON? {
        if !buffer.isEmpty { return buffer.removeFirst() }
        if finished { return nil }
        waits += 1
        let id = waits
        return await withCheckedContinuation { continuation in
            waiter = (id, continuation)
            // A guard against a test hanging forever when a message never comes, not a measure of speed: the
            // expected message normally arrives in milliseconds, and `patience` is far beyond that.
            Task {
                try? await Task.sleep(for: patience)
                self.expire(id)
            }
        }
    }

    private func expire(_ id: Int) {
        guard let waiter, waiter.id == id else { return }
        self.waiter = nil
        waiter.continuation.resume(returning: nil)
    }
}

extension JSON {
    /// An object's member, for tests.
    public func member(_ key: String) -> JSON? {
        guard case .object(let members) = self else { return nil }
        return members[key]
    }
}
