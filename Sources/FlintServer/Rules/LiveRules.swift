import FlintCore
import FlintRules
import Foundation
import Logging
import Synchronization

/// The rulesets in force, one per service, compiled once per deployment and swapped atomically: a request uses the
/// ruleset that was live when it looked, never half of one.
final class LiveRules: Sendable {
    /// A compiled ruleset with the release it came from.
    struct Entry: Sendable {
        var ruleset: Ruleset
        var release: RulesStore.Release
    }

    let store: any RulesStorage
    private let entries = Mutex<[RulesService: Entry]>([:])
    /// The newest release id seen per service, compiled or not.
    private let seen = Mutex<[RulesService: Int64]>([:])
    /// Deployments run one at a time, so the live ruleset is always the newest release.
    private let deployments = DeploymentLock()

    /// Loads the live release of each service; one that no longer compiles is left out (deny all) and logged.
    init(store: any RulesStorage, logger: Logger) async throws {
        self.store = store
        try await refresh(logger: logger)
    }

    /// Swaps in the live release of each service when it is newer than the one in force: a deployment made by another
    /// server sharing the database. A newer release that does not compile leaves the service out (deny all), logged.
    func refresh(logger: Logger) async throws {
        for release in try await store.live() {
            guard seen.withLock({ seen in
                guard release.id > seen[release.service, default: 0] else { return false }
                seen[release.service] = release.id
                return true
            }) else { continue }
            do {
                let ruleset = try Ruleset.compile(release.source)
                swap(Entry(ruleset: ruleset, release: release))
            } catch {
                entries.withLock { if ($0[release.service]?.release.id ?? 0) < release.id { $0[release.service] = nil } }
                logger.error(
                    "the live \(release.service.pathName) rules (release \(release.id)) do not compile; everything is denied to non-admins until a new deployment",
                    metadata: ["errors": "\(error.description)"])
            }
        }
    }

    /// Puts `entry` in force unless a newer release already is (a refresh and a deployment may cross).
    private func swap(_ entry: Entry) {
        seen.withLock { $0[entry.release.service] = max($0[entry.release.service, default: 0], entry.release.id) }
        entries.withLock { entries in
            if (entries[entry.release.service]?.release.id ?? 0) < entry.release.id { entries[entry.release.service] = entry }
        }
    }

    /// The ruleset in force for a service, nil when none is deployed.
    func ruleset(_ service: RulesService) -> Ruleset? { entries.withLock { $0[service]?.ruleset } }

    func entry(_ service: RulesService) -> Entry? { entries.withLock { $0[service] } }

    /// Compiles a rules source for a service without deploying it.
    /// - Throws: `FlintError.invalidArgument` listing every error with its line and column.
    static func compile(_ source: String, for service: RulesService) throws(FlintError) -> Ruleset {
        let ruleset: Ruleset
        do {
            ruleset = try Ruleset.compile(source)
        } catch {
            throw FlintError(
                .invalidArgument, "the rules do not compile: \(error.diagnostics.count) error(s); nothing was deployed",
                details: .array(error.diagnostics.map { .object(["line": .integer(Int64($0.line)), "column": .integer(Int64($0.column)), "message": .string($0.message)]) }))
        }
        guard ruleset.service == service else {
            throw FlintError.invalidArgument(
                "these rules are for service \(ruleset.service.rawValue), but were deployed as \(service.pathName); deploy them to /v1/admin/rules/\(ruleset.service.pathName)")
        }
        return ruleset
    }

    /// Validates, records and swaps in a new ruleset. Nothing invalid goes live.
    func deploy(_ source: String, for service: RulesService, by deployer: String?, rollbackOf: Int64? = nil) async throws -> RulesStore.Release {
        let ruleset = try Self.compile(source, for: service)
        return try await deployments.run {
            let release = try await store.add(service, source: source, deployedBy: deployer, rollbackOf: rollbackOf)
            swap(Entry(ruleset: ruleset, release: release))
            return release
        }
    }

    /// Deploys `firestore.rules` and `storage.rules` from a folder at start-up, when they differ from what is live.
    func deployFolder(_ path: String, logger: Logger) async throws {
        for service in [RulesService.firestore, .storage] {
            let file = URL(fileURLWithPath: path).appendingPathComponent("\(service.pathName).rules").path
            guard FileManager.default.fileExists(atPath: file) else { continue }
            let source: String
            do {
                source = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw ConfigurationError("cannot read the rules file \(file): \(error.localizedDescription)")
            }
            if entry(service)?.release.source == source { continue }
            do {
                _ = try Ruleset.compile(source)
            } catch {
                throw ConfigurationError(
                    "\(file) does not compile; nothing was deployed:\n" + error.diagnostics.map { "\(file):\($0)" }.joined(separator: "\n"))
            }
            do {
                let release = try await deploy(source, for: service, by: nil)
                logger.info("deployed \(file) as release \(release.id)")
            } catch let error as FlintError {
                throw ConfigurationError("\(file): \(error.message)")
            }
        }
    }
}

/// Runs async critical sections one at a time, in arrival order.
actor DeploymentLock {
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func run<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        if busy {
            await withCheckedContinuation { waiters.append($0) }
        }
        busy = true
        defer {
            if waiters.isEmpty { busy = false } else { waiters.removeFirst().resume() }
        }
        return try await body()
    }
}
