public import Hummingbird
public import HummingbirdWebSocket

/// The per-request context of every route: Hummingbird's core storage, the verified caller (if any), the client's
/// address, and the WebSocket seam.
public struct FlintRequestContext: RequestContext, WebSocketRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The WebSocket seam: set when a route upgrades the connection (`/v1/realtime`).
    public let webSocket: WebSocketHandlerReference<FlintRequestContext>
    /// The verified caller, when the request carried an access token.
    public var identity: Identity?
    /// The client's IP address, for rate limits.
    public let clientAddress: String?

    public init(source: Source) {
        self.coreContext = .init(source: source)
        self.webSocket = .init()
        self.clientAddress = source.channel.remoteAddress?.ipAddress
    }
}
