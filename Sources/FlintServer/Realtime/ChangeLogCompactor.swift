import FlintCore
import Logging
import ServiceLifecycle

/// Keeps the change log to its retention: every so often forgets the entries of commits older than that.
/// Listeners resuming from a forgotten commit get a fresh snapshot flagged as a reset.
struct ChangeLogCompactor: Service {
    let store: any DocumentStore
    /// How long the change log keeps a commit, in seconds.
    let retentionSeconds: Int
    let logger: Logger

    func run() async throws {
        let interval = Duration.seconds(max(1, min(60, retentionSeconds / 10)))
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let cutoff = Timestamp(microseconds: Timestamp.now().microseconds - Int64(retentionSeconds) * 1_000_000)
            do {
                try await store.compactChangeLog(before: cutoff)
            } catch {
                logger.warning("change log compaction failed", metadata: ["error": "\(error)"])
            }
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
        }
    }
}
