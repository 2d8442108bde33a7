import FlintCore
import Synchronization

/// Counts attempts per key in fixed windows: at most `limit` in each `windowSeconds`.
/// Used for sign-in attempts, per account and per client address.
final class RateLimiter: Sendable {
    let limit: Int
    let windowSeconds: Int64
    private struct Window {
        var start: Int64
        var count: Int
    }
    private let windows = Mutex<[String: Window]>([:])

    init(limit: Int, windowSeconds: Int64) {
        self.limit = limit
        self.windowSeconds = windowSeconds
    }

    /// Records an attempt; nil if allowed, else the seconds to wait.
    func attempt(_ key: String) -> Int64? {
        let now = Timestamp.now().microseconds / 1_000_000
        return windows.withLock { windows in
            if windows.count > 100_000 { windows = windows.filter { now - $0.value.start < windowSeconds } }
            var window = windows[key] ?? Window(start: now, count: 0)
            if now - window.start >= windowSeconds { window = Window(start: now, count: 0) }
            window.count += 1
            windows[key] = window
            return window.count > limit ? max(1, window.start + windowSeconds - now) : nil
        }
    }
}
