import FlintCore
import Logging
import PostgresNIO
import ServiceLifecycle

/// Realtime across servers: reads the PostgreSQL change log after the last commit it delivered and hands each new
/// commit, in sequence order, once, to this server's subscription hub — this server's own commits as much as the
/// others'. The change log is the truth; notifications (`LISTEN flint_changes`, sent by every commit transaction) and
/// this server's own commits only wake it, and it also looks every `pollInterval` in case a notification was lost
/// with a connection.
struct ChangeLogTailer: Service {
    let store: PostgresDocumentStore
    let hub: SubscriptionHub
    let logger: Logger
    /// The last commit before this server started (read while it was assembled, before it took requests): the
    /// first delivered is the next one, and every listener's first read is at or after it.
    let startAfter: Int64
    /// How often the log is read without a wake-up.
    var pollInterval: Duration = .seconds(1)
    /// The most commits read at a time.
    var pageSize = 500

    func run() async throws {
        let (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        await withDiscardingTaskGroup { group in
            group.addTask { await listen(wake) }
            group.addTask {
                for await _ in store.committed { wake.yield() }
            }
            group.addTask {
                while (try? await Task.sleep(for: pollInterval)) != nil { wake.yield() }
            }
            group.addTask {
                await deliver(wakeups)
            }
            try? await gracefulShutdown()
            group.cancelAll()
        }
    }

    /// Delivers what the log holds past the hub's last commit, on every wake-up.
    private func deliver(_ wakeups: AsyncStream<Void>) async {
        var delivered = startAfter
        for await _ in wakeups {
            do {
                while !Task.isCancelled, let last = try await deliverPage(after: delivered) {
                    delivered = last
                }
            } catch {
                logger.warning("reading the change log failed; retrying", metadata: ["error": "\(String(reflecting: error))"])
            }
        }
    }

    /// Reads one page of commits after `sequence` and delivers it with the windows it empties read again, all in one
    /// snapshot; returns the last sequence delivered, or nil when there was nothing new.
    private func deliverPage(after sequence: Int64) async throws -> Int64? {
        let logger = self.logger
        let pageSize = self.pageSize
        let thresholds = store.thresholds
        return try await store.reading(snapshot: true) { connection -> Int64? in
            let batches = try await PostgresDocumentStore.changes(after: sequence, limit: pageSize, connection: connection, logger: logger)
            guard let last = batches.last?.sequence else { return nil }
            // The snapshot is exactly at `last` unless the page was full (then it reaches further, and windows refilled
            // now may show documents of the next page's commits a page early).
            await hub.deliver(batches) { query in
                try await QueryPlan(query, thresholds: thresholds, dialect: .postgres).run(connection, logger: logger)
            }
            return last
        }
    }

    /// Listens for commit notifications on a connection of its own, reconnecting after a pause when it is lost.
    private func listen(_ wake: AsyncStream<Void>.Continuation) async {
        while !Task.isCancelled {
            do {
                try await store.database.client.withConnection { connection in
                    try await connection.listen(on: PostgresDocumentStore.channel) { notifications in
                        // Commits may have slipped by while the listener was down.
                        wake.yield()
                        for try await _ in notifications { wake.yield() }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("listening for commits failed; polling until it is back", metadata: ["error": "\(String(reflecting: error))"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }
}
