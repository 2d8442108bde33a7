import FlintCore
import Logging
import PostgresNIO
import ServiceLifecycle

/// Realtime across servers: hands each commit, in sequence order, once, to this server's subscription hub — this
/// server's own commits as much as the others'. The change log is the truth: it is read after the last commit
/// delivered when a notification (`LISTEN flint_changes`, sent by every other server's commit transactions) arrives,
/// and every `pollInterval` in case a notification was lost with a connection. This server's own commits come from its
/// writer once they are durable (`store.handoff`): when they are the next ones due they are delivered as they are, and
/// the log is read only if a limited window must be read again; otherwise (others' commits came between) it is read.
struct ChangeLogTailer: Service {
    let store: PostgresDocumentStore
    let hub: SubscriptionHub
    let logger: Logger
    /// The last commit before this server started (read while it was assembled, before it took requests): the
    /// first delivered is the next one, and every listener's first read is at or after it.
    let startAfter: Int64
    /// How often the log is read without a wake-up.
    var pollInterval: Duration = .seconds(1)
    /// The most commits read from the log at a time.
    var pageSize = 500

    func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask { await listen() }
            group.addTask {
                while (try? await Task.sleep(for: pollInterval)) != nil { store.handoff.readLog() }
            }
            group.addTask {
                await deliver()
            }
            try? await gracefulShutdown()
            group.cancelAll()
        }
    }

    /// Delivers what is new past the hub's last commit, whenever something was handed over.
    private func deliver() async {
        var delivered = startAfter
        for await _ in store.handoff.wakeups {
            guard !Task.isCancelled else { return }
            let gathered = store.handoff.take()
            var readLog = gathered.readLog
            var held: PendingDelivery? = nil
            // This server's own commits that are next in line are delivered as committed, without reading the log; the
            // rest (after a gap: another server's commits came between) are read from it.
            var next: [ChangeBatch] = []
            for batch in gathered.own where batch.sequence > delivered {
                guard batch.sequence == (next.last?.sequence ?? delivered) + 1 else {
                    readLog = true
                    break
                }
                next.append(batch)
            }
            if let last = next.last?.sequence {
                let pending = hub.apply(next)
                delivered = last
                if pending.refills.isEmpty {
                    hub.finish(pending)
                } else {
                    // A window to read again: at the state of `delivered` exactly, or of a later commit the log
                    // already holds, delivered first.
                    held = pending
                }
            }
            guard readLog || held != nil else { continue }
            do {
                try await catchUp(after: &delivered, holding: held)
            } catch {
                logger.warning("reading the change log failed; retrying", metadata: ["error": "\(String(reflecting: error))"])
            }
        }
    }

    /// Delivers the commits one snapshot of the log holds after `delivered`, a page at a time, each page as one
    /// delivery, and reads the windows due for a refill only at the end of the snapshot, where it is exactly at the
    /// last commit delivered: their differences travel with that commit (between the commits of a catch-up a window
    /// may be short, as between the commits of one SQLite group commit).
    /// - Parameters:
    ///   - delivered: the last commit delivered; advanced with each page.
    ///   - held: a delivery begun from memory whose last batch (at `delivered`) still waits for its refills.
    private func catchUp(after delivered: inout Int64, holding held: PendingDelivery?) async throws {
        var held = held
        // Whatever happens, a begun delivery is finished: its windows stay due for the next one.
        defer { if let held { hub.finish(held) } }
        let logger = self.logger
        let pageSize = self.pageSize
        let thresholds = store.thresholds
        try await store.reading(snapshot: true) { connection in
            while true {
                let page = try await PostgresDocumentStore.changes(after: delivered, limit: pageSize, connection: connection, logger: logger)
                if let last = page.last?.sequence {
                    if let earlier = held { hub.finish(earlier) }
                    held = hub.apply(page)
                    delivered = last
                }
                // The log has no gaps: a page that is not full ends the snapshot.
                guard page.count < pageSize else { continue }
                guard let pending = held else { return }
                held = nil
                var refilled: [SubscriptionHub.TargetKey: [Document]] = [:]
                for (key, query) in pending.refills {
                    refilled[key] = try? await QueryPlan(query, thresholds: thresholds, dialect: .postgres).run(connection, logger: logger)
                }
                hub.finish(pending, refilled: refilled)
                return
            }
        }
    }

    /// Listens for other servers' commit notifications on a connection of its own, reconnecting after a pause when
    /// it is lost. This server's own are skipped: its writer hands them over.
    private func listen() async {
        while !Task.isCancelled {
            do {
                try await store.database.client.withConnection { connection in
                    try await connection.listen(on: PostgresDocumentStore.channel) { notifications in
                        // Commits may have slipped by while the listener was down.
                        store.handoff.readLog()
                        for try await notification in notifications where !store.isOwn(notification) { store.handoff.readLog() }
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
