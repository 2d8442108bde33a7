public import Hummingbird

/// The per-request context of every route: Hummingbird's core storage now; the caller's identity joins it with auth.
public struct FlintRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage

    public init(source: Source) {
        self.coreContext = .init(source: source)
    }
}
