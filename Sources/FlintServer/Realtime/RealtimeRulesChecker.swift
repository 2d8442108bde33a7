import FlintCore
import NIOCore
import ServiceLifecycle

/// Checks every commit's changes against the security rules before they reach the connections that the rules govern,
/// one commit after another, on one task for the whole server.
///
/// The hub queues such changes to each connection as a `CheckedMessage` that holds back what the connection sends
/// after it, and files the commit here. A decision depends on who asks, the target and the document, so a commit seen
/// by many connections of the same kind (listeners of one query, anonymous or as the same user) is decided once.
struct RealtimeRulesChecker: Service {
    let hub: SubscriptionHub
    let rules: DocumentRules

    func run() async {
        // Runs until the HTTP server has stopped (it is stopped after it), so that every connection's held changes are
        // decided while it drains.
        for await commit in hub.checks.cancelOnGracefulShutdown() {
            var decisions = RulesDecisions()
            for (connection, message) in commit {
                message.complete(await check(message.changes, on: connection, decisions: &decisions))
                connection.wakeNow()
            }
        }
    }

    /// The framed messages to send for one commit's changes: as encoded when the rules allow every document they carry;
    /// otherwise without the targets that now show a forbidden document, each of which ends with `permission-denied`.
    func check(
        _ changes: RealtimeConnection.CheckedChanges, on connection: RealtimeConnection, decisions: inout RulesDecisions
    ) async -> [ByteBuffer] {
        guard !connection.isClosing else { return [] }
        let identity = connection.identity
        let ended = connection.endedTargets
        var kept: [(targetID: Int64, changes: [TargetChange])] = []
        var denied: [Int64] = []
        for entry in changes.targets {
            if let last = ended[entry.targetID], changes.sequence <= last { continue }
            var allowed = true
            for change in entry.changes {
                switch change {
                case .added(let document), .modified(let document):
                    allowed = await decisions.allows(document, in: entry.target, identity: identity) {
                        await rules.allows(document, in: entry.target, identity: identity)
                    }
                case .removed:
                    // The client held the document; its leaving tells nothing new.
                    continue
                }
                if !allowed { break }
            }
            if allowed { kept.append((entry.targetID, entry.changes)) } else { denied.append(entry.targetID) }
        }
        if kept.count == changes.targets.count { return [changes.message] }
        var messages: [ByteBuffer] = []
        if !kept.isEmpty {
            var cache = DocumentJSONCache()
            messages.append(WebSocketFrames.text(ServerMessage.changes(
                sequence: changes.sequence, commitTime: changes.commitTime, targets: kept, replay: false, cache: &cache)))
        }
        for targetID in denied {
            connection.targetEnded(targetID, after: hub.end(.init(connection: connection.id, target: targetID)))
            messages.append(WebSocketFrames.text(ServerMessage.error(
                FlintError(.permissionDenied, "the security rules no longer allow this target to see a changed document; the target has ended"),
                targetID: targetID)))
        }
        return messages
    }
}

/// The rules' decisions within one commit: whether `identity` may see `document` through `target`. Filed by document
/// and caller, then compared in full (identities and targets are equatable, not hashable).
struct RulesDecisions {
    private struct Key: Hashable {
        var path: DocumentPath
        var version: Int64
        var uid: String?
    }

    private var decided: [Key: [(identity: Identity?, target: ListenTarget, allowed: Bool)]] = [:]

    /// The decision made before for the same question, or `evaluate`'s.
    mutating func allows(
        _ document: Document, in target: ListenTarget, identity: Identity?, evaluate: () async -> Bool
    ) async -> Bool {
        let key = Key(path: document.path, version: document.version, uid: identity?.uid)
        if let hit = decided[key]?.first(where: { $0.identity == identity && $0.target == target }) { return hit.allowed }
        let allowed = await evaluate()
        decided[key, default: []].append((identity, target, allowed))
        return allowed
    }
}
