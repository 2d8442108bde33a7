import FlintCore
import Synchronization

/// What PostgreSQL's change-log tailer has to look at, gathered until it looks: the commits this server's writer made
/// durable, and whether the log must be read (another server committed, a poll, a commit whose outcome is unknown).
/// Wake-ups coalesce, but nothing they announce is lost: each `take` returns everything gathered since the last one.
final class CommitHandoff: Sendable {
    /// What a `take` finds.
    struct Gathered: Sendable {
        /// This server's commits, in sequence order (consecutive within a group, not always across groups).
        var own: [ChangeBatch] = []
        /// The log must be read: someone else committed, or some of this server's commits were not kept.
        var readLog = false
    }

    private let state = Mutex(Gathered())
    private let wake: AsyncStream<Void>.Continuation
    /// One element whenever something was gathered since the tailer last looked.
    let wakeups: AsyncStream<Void>
    /// The most own commits kept for the tailer; beyond that they are dropped, and the log is read instead.
    let limit: Int

    init(limit: Int = 1024) {
        self.limit = limit
        (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// The writer's hand-off: `batches` are durable.
    func committed(_ batches: [ChangeBatch]) {
        state.withLock { gathered in
            if gathered.own.count + batches.count > limit {
                gathered.own = []
                gathered.readLog = true
            } else {
                gathered.own += batches
            }
        }
        wake.yield()
    }

    /// Asks for the log to be read.
    func readLog() {
        state.withLock { $0.readLog = true }
        wake.yield()
    }

    /// Everything gathered since the last call, and nothing from then on.
    func take() -> Gathered {
        state.withLock { gathered in
            defer { gathered = Gathered() }
            return gathered
        }
    }
}
