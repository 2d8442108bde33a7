public import Hummingbird

/// The per-request context of every route: Hummingbird's core storage, the verified caller (if any), the client's
/// address, and the WebSocket seam.
public struct FlintRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The WebSocket seam: present on an upgrade request only, where the `/v1/realtime` route accepts the upgrade.
    var realtimeUpgrade: RealtimeUpgrade? = nil
    /// The verified caller, when the request carried an access token.
    public var identity: Identity?
    /// The client's IP address, for rate limits.
    public let clientAddress: String?

    public init(source: Source) {
        self.coreContext = .init(source: source)
        self.clientAddress = source.channel.remoteAddress?.ipAddress
    }
}
