/// A bearer credential reused until shortly before it expires, fetched once however many sends ask for it at the
/// same time: the APNs provider token (refreshed well within its hour) and FCM's OAuth access token.
actor AccessTokenCache {
    private var cached: (value: String, refreshAt: ContinuousClock.Instant)?
    private var pending: Task<(value: String, lifetime: Duration), any Error>?

    /// The cached token, or a new one from `fetch` (with how long to use it).
    func token(_ fetch: @escaping @Sendable () async throws -> (value: String, lifetime: Duration)) async throws -> String {
        if let cached, ContinuousClock.now < cached.refreshAt { return cached.value }
        if let pending { return try await pending.value.value }
        let task = Task { try await fetch() }
        pending = task
        defer { pending = nil }
        let fresh = try await task.value
        cached = (fresh.value, ContinuousClock.now + fresh.lifetime)
        return fresh.value
    }

    /// Forgets `value` (the service refused it), so the next send fetches a new one.
    func invalidate(_ value: String) {
        if cached?.value == value { cached = nil }
    }
}
