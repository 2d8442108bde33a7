import ServiceLifecycle

/// On graceful shutdown, closes every realtime connection with "going away" (1001) before the HTTP server
/// stops, and waits for them to go, so that clients know to reconnect elsewhere and resume.
struct RealtimeDrain: Service {
    let hub: SubscriptionHub

    func run() async throws {
        try? await gracefulShutdown()
        await hub.closeAll()
    }
}
