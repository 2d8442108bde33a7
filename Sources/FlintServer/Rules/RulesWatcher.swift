import FlintCore
import Logging
import PostgresNIO
import ServiceLifecycle

/// Keeps a server's live rules in step with deployments made on the other servers sharing PostgreSQL: it listens on
/// the `flint_rules` channel and, since a notification is lost while the listening connection is down, also compares
/// the newest release id every `interval`. Either way, `LiveRules.refresh` swaps in what is newer.
struct RulesWatcher: Service {
    let rules: LiveRules
    let store: PostgresRulesStore
    var interval: Duration = .seconds(5)
    let logger: Logger

    func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask { await listen() }
            group.addTask { await poll() }
            try? await gracefulShutdown()
            group.cancelAll()
        }
    }

    private func refresh() async {
        do {
            try await rules.refresh(logger: logger)
        } catch {
            logger.warning("the rules could not be refreshed from the database", metadata: ["error": "\(String(reflecting: error))"])
        }
    }

    /// Refreshes on every notification; after the connection drops, listens again (and refreshes, for what was missed).
    private func listen() async {
        while !Task.isCancelled {
            do {
                try await store.database.client.withConnection { connection in
                    try await connection.listen(on: PostgresRulesStore.channel) { notifications in
                        await refresh()
                        for try await _ in notifications { await refresh() }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("listening for rules deployments failed; retrying", metadata: ["error": "\(String(reflecting: error))"])
            }
            try? await Task.sleep(for: interval)
        }
    }

    /// Refreshes whenever the newest release id differs from the one last seen.
    private func poll() async {
        var seen = (try? await store.latestID()) ?? 0
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            guard let latest = try? await store.latestID(), latest != seen else { continue }
            seen = latest
            await refresh()
        }
    }
}
