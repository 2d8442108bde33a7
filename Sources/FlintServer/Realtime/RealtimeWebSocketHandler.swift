import FlintCore
import Logging
import NIOCore
import NIOWebSocket

/// One realtime WebSocket after the upgrade, on its channel's event loop: no task waits while the connection is idle.
///
/// Inbound, it reassembles fragmented messages (up to `maximumMessageSize`), answers pings, keeps the close handshake,
/// and hands each message, in order, to the controller: inline when it needs no waiting (`ping`, `unlisten`, bad
/// input), else on a short task while further reads wait. Outbound, it drains the connection's queue on the event
/// loop, writing every queued frame and flushing once; changes that the security rules must check first hold back
/// what follows them until `RealtimeRulesChecker` has decided. It pings every `pingInterval` and closes a client that
/// did not answer the previous ping.
final class RealtimeWebSocketHandler: ChannelDuplexHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// How long the server waits for the client's answer to its close frame before closing the socket.
    static let closeTimeout = TimeAmount.seconds(5)
    /// Messages up to this size are parsed on the event loop; larger ones on the task that handles them.
    static let inlineParseLimit = 16 * 1024

    private let controller: RealtimeController
    private let connection: RealtimeConnection
    private let logger: Logger
    private var context: ChannelHandlerContext? = nil

    /// The frames of a fragmented message received so far.
    private var fragments: ByteBuffer? = nil
    /// Messages waiting for the one being handled on a task.
    private var inbound: [RealtimeController.Inbound] = []
    private var handlingInbound = false
    /// A read the channel asked for while messages wait: issued once they are handled.
    private var readHeld = false

    /// Queued messages taken from the connection and not yet written: they wait for the first one, whose changes the
    /// rules checker has not decided yet.
    private var held: ArraySlice<RealtimeConnection.Outbound> = []

    private enum CloseState {
        case open
        /// The server wrote its close frame and waits for the client's: `closeTimeout` from when the frame left (nil
        /// until then), or two ping periods for a client that reads nothing (`stalled` after the first).
        case closing(timeout: Scheduled<Void>?, stalled: Bool)
        case closed
    }
    private var closeState = CloseState.open
    private var pingTimer: RepeatedTask? = nil
    private var awaitingPong = false

    init(controller: RealtimeController, identity: Identity?, logger: Logger) {
        self.controller = controller
        self.logger = logger
        connection = RealtimeConnection(
            id: controller.hub.makeConnectionID(), maximumQueuedBytes: controller.maximumQueuedBytes, identity: identity)
    }

    // MARK: Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        connection.attach { eventLoop.execute { handler.value.drain() } }
        controller.hub.add(connection)
        connection.enqueue(ServerMessage.hello(sequence: controller.hub.sequence, connectionID: connection.id))
        let period = controller.pingInterval
        pingTimer = eventLoop.scheduleRepeatedTask(initialDelay: period, delay: period) { _ in handler.value.ping() }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        end()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        end()
        context.fireChannelInactive()
    }

    /// The connection is gone: its targets leave the hub, timers stop, and the queue stops waking this handler.
    private func end() {
        pingTimer?.cancel()
        pingTimer = nil
        if case .closing(let timeout?, _) = closeState { timeout.cancel() }
        closeState = .closed
        inbound = []
        fragments = nil
        held = []
        controller.hub.remove(connection)
        connection.finish()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // The HTTP server is quiescing (shutdown): say "going away" like `RealtimeDrain` does.
        if event is ChannelShouldQuiesceEvent {
            connection.close(.goingAway)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch error {
        case NIOWebSocketError.invalidFrameLength:
            // A single frame over the limit: the decoder refuses it before buffering it.
            fail(.messageTooLarge(controller.maximumMessageSize))
        case let error as NIOWebSocketError:
            fail(.protocolError("\(error)"))
        default:
            logger.debug("realtime connection failed", metadata: ["error": "\(error)"])
            context.close(promise: nil)
        }
    }

    // MARK: Inbound frames

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .open = closeState else {
            // Only the client's answer to our close frame matters now (RFC 6455 section 5.5.1).
            if case .closing = closeState, unwrapInboundIn(data).opcode == .connectionClose { context.close(promise: nil) }
            return
        }
        let frame = unwrapInboundIn(data)
        guard frame.rsv1 == false, frame.rsv2 == false, frame.rsv3 == false else {
            return fail(.protocolError("reserved bits set without an extension"))
        }
        switch frame.opcode {
        case .text, .binary:
            guard fragments == nil else { return fail(.protocolError("a new message began before the last one ended")) }
            let data = frame.unmaskedData
            guard data.readableBytes <= controller.maximumMessageSize else { return fail(.messageTooLarge(controller.maximumMessageSize)) }
            if frame.fin { received(data) } else { fragments = data }
        case .continuation:
            guard var message = fragments else { return fail(.protocolError("a continuation frame without a message")) }
            fragments = nil
            var data = frame.unmaskedData
            guard message.readableBytes + data.readableBytes <= controller.maximumMessageSize else {
                return fail(.messageTooLarge(controller.maximumMessageSize))
            }
            message.writeBuffer(&data)
            if frame.fin { received(message) } else { fragments = message }
        case .ping:
            // Answered at once, with the same data (section 5.5.2); the decoder refuses long or fragmented controls.
            context.writeAndFlush(wrapOutboundOut(WebSocketFrames.control(.pong, payload: frame.unmaskedData)), promise: nil)
        case .pong:
            // Any pong shows that the client is there (an unsolicited one is a heartbeat, section 5.5.3).
            awaitingPong = false
        case .connectionClose:
            receivedClose(frame.unmaskedData, context: context)
        default:
            fail(.protocolError("reserved opcode"))
        }
    }

    /// The client closes: answer with a close frame (1000, or 1002 for a code it may not send) and close the socket.
    private func receivedClose(_ payload: ByteBuffer, context: ChannelHandlerContext) {
        var payload = payload
        var code: UInt16 = 1000
        if payload.readableBytes == 1 {
            code = 1002
        } else if let received = payload.readInteger(as: UInt16.self) {
            // Codes a peer may send (section 7.4): 1000–1003, 1007–1011, and 3000–4999.
            let valid = (1000...1003).contains(received) || (1007...1011).contains(received) || (3000...4999).contains(received)
            if !valid || String(validating: payload.readableBytesView, as: UTF8.self) == nil { code = 1002 }
        }
        closeState = .closed
        connection.close(.goingAway)
        let loopBoundContext = context.loopBound
        context.writeAndFlush(wrapOutboundOut(WebSocketFrames.close(code: code, reason: ""))).whenComplete { _ in
            loopBoundContext.value.close(promise: nil)
        }
    }

    /// Ends the connection for a protocol fault: the queued messages are dropped, the close frame goes out now.
    private func fail(_ reason: RealtimeConnection.CloseReason) {
        fragments = nil
        inbound = []
        connection.finish()
        sendClose(reason)
    }

    // MARK: Inbound messages

    private func received(_ message: ByteBuffer) {
        // After a message that closes the connection (not JSON), the client's later messages are not handled.
        guard !connection.isClosing else { return }
        if handlingInbound {
            inbound.append(.frame(message))
        } else {
            handle(.frame(message))
        }
    }

    /// Handles one message: inline when it needs no waiting, else on a task that reports back to the event loop.
    private func handle(_ message: RealtimeController.Inbound) {
        var message = message
        if case .frame(let bytes) = message, bytes.readableBytes <= Self.inlineParseLimit {
            guard let parsed = controller.parse(bytes.readableBytesView, on: connection) else { return }
            if controller.handleInline(parsed, on: connection) { return }
            message = .parsed(parsed)
        }
        handlingInbound = true
        let handler = NIOLoopBound(self, eventLoop: context!.eventLoop)
        let eventLoop = context!.eventLoop
        let (controller, connection, logger) = (controller, connection, logger)
        Task {
            await controller.handle(message, on: connection, logger: logger)
            eventLoop.execute { handler.value.handledInbound() }
        }
    }

    /// The task handled its message: go on with the next one waiting, then let the channel read again.
    private func handledInbound() {
        handlingInbound = false
        while !handlingInbound, !inbound.isEmpty, case .open = closeState {
            handle(inbound.removeFirst())
        }
        if !handlingInbound, readHeld, let context {
            readHeld = false
            context.read()
        }
    }

    func read(context: ChannelHandlerContext) {
        // While a message waits for the one being handled, read no more: the client's messages are handled in order,
        // one at a time, and a fast sender is held back by TCP rather than by this server's memory.
        if handlingInbound, !inbound.isEmpty {
            readHeld = true
        } else {
            context.read()
        }
    }

    // MARK: Outbound

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { drain() }
        context.fireChannelWritabilityChanged()
    }

    /// Writes what the connection queued, flushing once; stops at changes the rules checker has not decided (it wakes
    /// this handler when it has), at a full socket (drained again once it empties), or at the close.
    private func drain() {
        guard let context, case .open = closeState else { return }
        if connection.isTooSlow {
            // The queue overflowed: what is held is dropped with it, and the close goes out now.
            held = []
            return sendClose(.tooSlow)
        }
        var wrote = false
        defer { if wrote { context.flush() } }
        var items = held
        held = []
        while true {
            for (index, item) in zip(items.indices, items) {
                switch item {
                case .message(let frame):
                    context.write(wrapOutboundOut(frame), promise: nil)
                    wrote = true
                case .checked(let message):
                    guard let frames = message.frames else {
                        held = items[index...]
                        return
                    }
                    for frame in frames { context.write(wrapOutboundOut(frame), promise: nil) }
                    wrote = wrote || !frames.isEmpty
                }
            }
            switch connection.next(writable: context.channel.isWritable) {
            case .send(let batch):
                items = batch[...]
            case .close(let reason):
                if wrote {
                    context.flush()
                    wrote = false
                }
                sendClose(reason)
                return
            case .wait:
                return
            }
        }
    }

    /// Sends the close frame, after what was written before it, and once it has left waits `closeTimeout` for the
    /// client's before closing the socket (a client still reading what came before has the time it needs).
    private func sendClose(_ reason: RealtimeConnection.CloseReason) {
        guard let context, case .open = closeState else { return }
        let written = context.writeAndFlush(wrapOutboundOut(WebSocketFrames.close(code: reason.code, reason: reason.reason)))
        if reason == .pingTimeout {
            closeState = .closed
            context.close(promise: nil)
            return
        }
        closeState = .closing(timeout: nil, stalled: false)
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        written.whenSuccess { handler.value.closeFrameWritten() }
    }

    private func closeFrameWritten() {
        guard let context, case .closing(nil, _) = closeState else { return }
        let loopBoundContext = context.loopBound
        let timeout = context.eventLoop.scheduleTask(in: Self.closeTimeout) { loopBoundContext.value.close(promise: nil) }
        closeState = .closing(timeout: timeout, stalled: false)
    }

    /// Every `pingInterval`: a ping, or the close when the last one went unanswered (or when a closing client has not
    /// read the close frame for a whole period).
    private func ping() {
        guard let context else { return }
        switch closeState {
        case .open: break
        case .closing(nil, false): closeState = .closing(timeout: nil, stalled: true)
        case .closing(nil, true): context.close(promise: nil)
        case .closing, .closed: return
        }
        guard case .open = closeState else { return }
        if awaitingPong {
            connection.finish()
            sendClose(.pingTimeout)
            return
        }
        awaitingPong = true
        context.writeAndFlush(wrapOutboundOut(WebSocketFrames.control(.ping, payload: ByteBuffer())), promise: nil)
    }
}
