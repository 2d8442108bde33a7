import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOWebSocket
import Synchronization

/// The server's child channel: HTTP/1.1, and the WebSocket upgrade of `/v1/realtime` to a `RealtimeWebSocketHandler`.
///
/// As with Hummingbird's `HTTP1WebSocketUpgradeChannel`, an upgrade request goes through the router (and its
/// middleware: authentication, logging, metrics) before it is accepted. Unlike it, an upgraded connection is served by
/// a channel handler on its event loop, so that `handle(value:logger:)` returns at once and no task waits for an
/// idle connection.
struct RealtimeServerChannel: ServerChildChannel, HTTPChannelHandler {
    enum UpgradeResult: Sendable {
        case realtime
        case notUpgraded(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
        case failedUpgrade(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
    }

    struct Value: ServerChildChannelValue {
        let upgradeResult: EventLoopFuture<UpgradeResult>
        let channel: any Channel
    }

    let responder: HTTPChannelHandler.Responder
    /// Decides upgrade requests: the router, whose `/v1/realtime` route accepts them (`RealtimeController`).
    let upgradeResponder: RouterResponder<FlintRequestContext>
    let http1: HTTP1Channel.Configuration
    /// The largest single frame the decoder takes (a message's frames together are limited by the controller).
    let maximumFrameSize: Int

    /// - Parameters:
    ///   - responder: answers plain HTTP requests.
    ///   - upgradeResponder: answers upgrade requests; an upgrade happens when `RealtimeUpgrade` was accepted.
    init(
        responder: @escaping HTTPChannelHandler.Responder, upgradeResponder: RouterResponder<FlintRequestContext>,
        http1: HTTP1Channel.Configuration = .init(), maximumFrameSize: Int
    ) {
        self.responder = Self.redirectingLateUpgrades(responder)
        self.upgradeResponder = upgradeResponder
        self.http1 = http1
        self.maximumFrameSize = maximumFrameSize
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let upgradeAttempted = NIOLoopBoundBox(false, eventLoop: channel.eventLoop)
            let upgrader = RealtimeUpgrader(
                responder: upgradeResponder, maximumFrameSize: maximumFrameSize, logger: logger,
                attempted: { upgradeAttempted.value = true })
            let configuration = NIOTypedHTTPServerUpgradeConfiguration<UpgradeResult>(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                        try channel.pipeline.syncOperations.addHandlers(http1.additionalChannelHandlers())
                        try channel.pipeline.syncOperations.addHandler(
                            HTTPConnectionStateHandler(idleTimeout: http1.idleTimeout.map { .init($0) }, logger: logger))
                        let asyncChannel = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                            wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                        return upgradeAttempted.value ? .failedUpgrade(asyncChannel) : .notUpgraded(asyncChannel)
                    }
                })
            var pipeline = NIOUpgradableHTTPServerPipelineConfiguration<UpgradeResult>(upgradeConfiguration: configuration)
            pipeline.enablePipelining = false  // HTTP is pipelined by NIOAsyncChannel
            pipeline.enableErrorHandling = false  // Hummingbird handles errors
            pipeline.enableResponseHeaderValidation = false  // HTTP types validate headers already
            pipeline.decoderConfiguration.maxHeaderFieldSize = http1.httpDecoder.maxHeaderFieldSize
            pipeline.decoderConfiguration.maxHeaderListSize = http1.httpDecoder.maxHeaderListSize
            pipeline.decoderConfiguration.maxHeaderFieldCount = http1.httpDecoder.maxHeaderFieldCount
            let result = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(configuration: pipeline)
            return Value(upgradeResult: result, channel: channel)
        }
    }

    func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.upgradeResult.get() {
            case .realtime:
                // The channel handler serves the connection from here on; this task ends.
                return
            case .notUpgraded(let http1):
                await handleHTTP(asyncChannel: http1, logger: logger)
            case .failedUpgrade(let http1):
                logger.debug("WebSocket upgrade refused")
                await Self.refuseUpgrade(http1, logger: logger)
            }
        } catch let error as ChannelError where error == .inputClosed {
            logger.trace("the connection closed during the upgrade")
        } catch {
            logger.debug("the upgrade failed", metadata: ["error": "\(error)"])
        }
    }

    /// Answers a refused upgrade with an empty 400 and closes.
    private static func refuseUpgrade(_ channel: NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, logger: Logger) async {
        do {
            try await channel.executeThenClose { _, outbound in
                let head = HTTPResponse(status: .badRequest, headerFields: [.connection: "close", .contentLength: "0"])
                try await outbound.write(contentsOf: [.head(head), .end(nil)])
            }
        } catch {
            logger.trace("could not answer the refused upgrade", metadata: ["error": "\(error)"])
        }
    }

    /// NIO offers the upgrade on a connection's first request only: a later upgrade request is redirected to the same
    /// address and its connection closed, so that the client upgrades on a new connection (as Hummingbird does).
    private static func redirectingLateUpgrades(_ responder: @escaping HTTPChannelHandler.Responder) -> HTTPChannelHandler.Responder {
        struct RedirectedUpgrade: Error {}
        return { request, responseWriter, channel in
            guard request.headers[.upgrade]?.lowercased() == "websocket" else {
                return try await responder(request, responseWriter, channel)
            }
            var path = request.uri.path
            if let query = request.uri.query { path += "?\(query)" }
            try await responseWriter.writeResponse(
                HTTPResponse(status: .temporaryRedirect, headerFields: [.connection: "close", .location: path]))
            throw RedirectedUpgrade()
        }
    }
}

/// What the `/v1/realtime` route leaves for the channel when it accepts an upgrade: the controller that serves the
/// connection and who the client is. The request context carries it only on upgrade requests.
final class RealtimeUpgrade: Sendable {
    private let accepted = Mutex<(controller: RealtimeController, identity: Identity?)?>(nil)

    func accept(_ controller: RealtimeController, identity: Identity?) {
        accepted.withLock { $0 = (controller, identity) }
    }

    var acceptance: (controller: RealtimeController, identity: Identity?)? { accepted.withLock { $0 } }
}

/// The WebSocket handshake (RFC 6455 section 4.2): asks the router, answers with `Sec-WebSocket-Accept`, and sets the
/// pipeline up with NIO's frame decoder and a `RealtimeWebSocketHandler`. Outbound frames are written as bytes by the
/// handler (see `WebSocketFrames`), so no frame encoder is added.
private final class RealtimeUpgrader: NIOTypedHTTPServerProtocolUpgrader, Sendable {
    typealias UpgradeResult = RealtimeServerChannel.UpgradeResult

    let supportedProtocol = "websocket"
    /// The key and version are checked by hand: the spec does not make clients list them in `Connection`.
    let requiredUpgradeHeaders: [String] = []

    private let responder: RouterResponder<FlintRequestContext>
    private let maximumFrameSize: Int
    private let logger: Logger
    private let attempted: @Sendable () -> Void
    private let accepted = NIOLockedValueBox<(controller: RealtimeController, identity: Identity?, logger: Logger)?>(nil)

    init(responder: RouterResponder<FlintRequestContext>, maximumFrameSize: Int, logger: Logger, attempted: @escaping @Sendable () -> Void) {
        self.responder = responder
        self.maximumFrameSize = maximumFrameSize
        self.logger = logger
        self.attempted = attempted
    }

    func buildUpgradeResponse(channel: any Channel, upgradeRequest: HTTPRequestHead, initialResponseHeaders: HTTPHeaders) -> EventLoopFuture<HTTPHeaders> {
        attempted()
        let keys = upgradeRequest.headers["Sec-WebSocket-Key"]
        guard keys.count == 1, upgradeRequest.headers["Sec-WebSocket-Version"] == ["13"] else {
            return channel.eventLoop.makeFailedFuture(NIOWebSocketUpgradeError.invalidUpgradeHeader)
        }
        let request: HTTPRequest
        do {
            request = try HTTPRequest(upgradeRequest, secure: false, splitCookie: false)
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        let promise = channel.eventLoop.makePromise(of: HTTPHeaders.self)
        let logger = logger.with(requestID: RequestID())
        promise.completeWithTask { [responder, accepted] in
            let upgrade = RealtimeUpgrade()
            var context = FlintRequestContext(source: .init(channel: channel, logger: logger))
            context.realtimeUpgrade = upgrade
            let response = try await responder.respond(to: Request(head: request, body: .init(buffer: .init())), context: context)
            guard response.status == .ok, let acceptance = upgrade.acceptance else {
                throw NIOWebSocketUpgradeError.unsupportedWebSocketTarget
            }
            accepted.withLockedValue { $0 = (acceptance.controller, acceptance.identity, logger) }
            let digest = Insecure.SHA1.hash(data: Array((keys[0] + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").utf8))
            var headers = HTTPHeaders(response.headers)
            headers.replaceOrAdd(name: "Upgrade", value: "websocket")
            headers.replaceOrAdd(name: "Connection", value: "upgrade")
            headers.add(name: "Sec-WebSocket-Accept", value: Data(digest).base64EncodedString())
            return headers
        }
        return promise.futureResult
    }

    func upgrade(channel: any Channel, upgradeRequest: HTTPRequestHead) -> EventLoopFuture<UpgradeResult> {
        channel.eventLoop.makeCompletedFuture {
            guard let accepted = accepted.withLockedValue({ $0 }) else {
                throw NIOWebSocketUpgradeError.unsupportedWebSocketTarget
            }
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: maximumFrameSize)))
            try channel.pipeline.syncOperations.addHandler(
                RealtimeWebSocketHandler(controller: accepted.controller, identity: accepted.identity, logger: accepted.logger))
            return .realtime
        }
    }
}

extension Logger {
    /// This logger with the request id that every log line of one request (or WebSocket connection) carries.
    fileprivate func with(requestID: RequestID) -> Logger {
        var logger = self
        logger[metadataKey: "hb.request.id"] = .stringConvertible(requestID)
        return logger
    }
}
