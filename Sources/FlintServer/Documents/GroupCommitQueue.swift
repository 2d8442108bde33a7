import FlintCore
import ServiceLifecycle
import Synchronization

/// Commits waiting for the single writer. Requests append and wait; the writer takes everything that has
/// gathered since its last transaction, so commits that arrive together share one transaction and one fsync.
final class GroupCommitQueue: Sendable {
    /// A commit waiting for its outcome.
    struct Pending: Sendable {
        let commit: Commit
        let outcome: Outcome
    }

    /// A result delivered once, from the writer to the waiting request.
    final class Outcome: Sendable {
        private enum State {
            case waiting(CheckedContinuation<CommitResult, any Error>?)
            case done(Result<CommitResult, any Error>)
        }

        private let state = Mutex<State>(.waiting(nil))

        func resolve(_ result: Result<CommitResult, any Error>) {
            let continuation = state.withLock { state -> CheckedContinuation<CommitResult, any Error>? in
                guard case .waiting(let continuation) = state else { return nil }
                state = .done(result)
                return continuation
            }
            continuation?.resume(with: result)
        }

        var value: CommitResult {
            get async throws {
                try await withCheckedThrowingContinuation { continuation in
                    let ready = state.withLock { state -> Result<CommitResult, any Error>? in
                        switch state {
                        case .done(let result): return result
                        case .waiting:
                            state = .waiting(continuation)
                            return nil
                        }
                    }
                    if let ready { continuation.resume(with: ready) }
                }
            }
        }
    }

    private struct State {
        var pending: [Pending] = []
        var closed = false
    }

    private let state = Mutex(State())
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation
    /// The most commits one transaction takes; the rest wait for the next.
    let maximumBatch: Int

    init(maximumBatch: Int = 256) {
        self.maximumBatch = maximumBatch
        (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Queues a commit and waits until the writer has applied it (or refused it).
    func submit(_ commit: Commit) async throws -> CommitResult {
        let outcome = Outcome()
        let accepted = state.withLock { state in
            guard !state.closed else { return false }
            state.pending.append(Pending(commit: commit, outcome: outcome))
            return true
        }
        guard accepted else { throw FlintError(.unavailable, "the server is shutting down; retry on another server or later") }
        wake.yield()
        return try await outcome.value
    }

    /// The writer's side: wakes when commits are waiting; ends when the queue is closed.
    var signals: AsyncStream<Void> { wakeups }

    /// Takes up to `maximumBatch` waiting commits, oldest first.
    func takeBatch() -> [Pending] {
        state.withLock { state in
            let count = min(state.pending.count, maximumBatch)
            let batch = Array(state.pending.prefix(count))
            state.pending.removeFirst(count)
            return batch
        }
    }

    /// The writer's loop, a store's `run()`: hands `write` each batch of waiting commits until graceful shutdown, then
    /// refuses new commits and finishes the ones already queued.
    func serve(_ write: (_ batch: [Pending]) async -> Void) async {
        func drain() async {
            while true {
                let batch = takeBatch()
                if batch.isEmpty { return }
                await write(batch)
            }
        }
        await withGracefulShutdownHandler {
            for await _ in signals { await drain() }
        } onGracefulShutdown: {
            self.close()
        }
        await drain()
    }

    /// Refuses new commits from now on and ends the writer's signals; commits already queued are still taken.
    func close() {
        state.withLock { $0.closed = true }
        wake.finish()
    }
}
