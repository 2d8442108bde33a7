/// When to try a delivery again: exponential backoff with full jitter, never before the provider's `Retry-After`.
struct RetryPolicy: Sendable {
    var base: Duration
    var cap: Duration
    /// Attempts before a delivery becomes a dead letter.
    var maximumAttempts: Int

    /// The wait after attempt `attempt` (1 for the first) failed: a random time up to `min(cap, base × 2^(attempt-1))`,
    /// at least `retryAfter` when the provider gave one.
    func delay(after attempt: Int, retryAfter: Duration?, random: Double = Double.random(in: 0...1)) -> Duration {
        let exponent = min(max(attempt - 1, 0), 30)
        let bound = min(cap, base * (1 << exponent))
        let jittered = bound * random
        guard let retryAfter else { return jittered }
        return max(retryAfter, jittered)
    }
}
