import FlintCore
import Foundation
import Logging

/// The app's writes: queued on disk and shown at once, sent one at a time in order with their mutation id, taken off
/// the queue when the server acknowledges or refuses them.
extension SyncEngine {
    /// Queues an atomic group of writes and shows it in every view at once; with `waitForServer`, then waits until
    /// the server has acknowledged it (returns) or refused it (throws the server's error).
    func write(_ writes: [Write], waitForServer: Bool) async throws {
        guard !closed else { throw FlintError(.unavailable, "the app is closed") }
        _ = try Commit(writes: writes)
        let mutation = try store.enqueue(writes, uid: uid, localTime: .now())
        pending.append(mutation)
        refreshAll()
        pumpWrites()
        guard waitForServer else { return }
        // Registered before this actor runs anything else, so no answer can slip by.
        try await withCheckedThrowingContinuation { continuation in
            waiters[mutation.batchID, default: []].append(continuation)
        }
    }

    /// Waits until every write queued so far has been answered (none is thrown: refusals go to `rejectedWrites`).
    func waitForPendingWrites() async {
        guard let last = pending.last?.batchID else { return }
        try? await withCheckedThrowingContinuation { continuation in
            waiters[last, default: []].append(continuation)
        }
    }

    /// Sends the oldest queued write when the connection is ready and no other write is waiting for its answer:
    /// one at a time keeps them in order. A write sent before a disconnect is sent again with the same mutation id,
    /// and the server answers the repeat without applying it twice.
    func pumpWrites() {
        guard online, inFlight == nil, let next = pending.first else { return }
        inFlight = next.batchID
        var message: [String: JSON] = [
            "type": .string("commit"), "id": .string(String(next.batchID)), "mutationId": .string(next.mutationID),
        ]
        if case .object(let commit) = (try? Commit(writes: next.writes))?.json, let writes = commit["writes"] { message["writes"] = writes }
        send(.object(message))
    }

    /// The server applied the write: off the queue, kept as an acknowledged overlay until its changes are seen.
    func acknowledge(_ batchID: Int64, result: CommitResult) {
        guard inFlight == batchID, let index = pending.firstIndex(where: { $0.batchID == batchID }) else { return }
        inFlight = nil
        let mutation = pending.remove(at: index)
        acknowledged.append(Overlay(writes: mutation.writes, time: result.commitTime, version: result.version, batchID: batchID))
        do {
            try store.removeMutation(batchID)
        } catch {
            logger.error("an acknowledged write could not be taken off the queue", metadata: ["error": "\(error)"])
        }
        for waiter in waiters.removeValue(forKey: batchID) ?? [] { waiter.resume() }
        collectAcknowledged()
        refreshAll()
        pumpWrites()
    }

    /// The server answered the write with an error. A refusal (rules, preconditions, bad data) takes it off the queue
    /// and out of the views, and is reported; a passing condition (`unavailable`, `aborted`, `internal`, an expired
    /// token) leaves it queued, to be sent again after a pause.
    func commitFailed(_ batchID: Int64, error: FlintError) {
        guard inFlight == batchID else { return }
        switch error.code {
        case .unavailable, .aborted, .internal, .unauthenticated:
            let generation = self.generation
            Task {
                if error.code == .unauthenticated { _ = try? await auth.refresh() }
                try? await Task.sleep(for: settings.minimumReconnectDelay)
                self.retry(batchID, generation: generation)
            }
            return
        default:
            break
        }
        inFlight = nil
        guard let index = pending.firstIndex(where: { $0.batchID == batchID }) else { return }
        let mutation = pending.remove(at: index)
        try? store.removeMutation(batchID)
        let rejection = RejectedWrite(paths: mutation.writes.map(\.path.description), error: error)
        for watcher in rejectionWatchers.values { watcher.yield(rejection) }
        for waiter in waiters.removeValue(forKey: batchID) ?? [] { waiter.resume(throwing: error) }
        refreshAll()
        pumpWrites()
    }

    private func retry(_ batchID: Int64, generation: Int) {
        guard self.generation == generation, inFlight == batchID else { return }
        inFlight = nil
        pumpWrites()
    }

    /// Drops acknowledged overlays once the server's changes up to their commit have been processed on every target
    /// (or there are no targets to wait for). A written document the cache still holds at an older version was not
    /// followed by any target: its new state is stored when the writes determine it (a set or a delete), else it is
    /// marked unknown.
    func collectAcknowledged() {
        guard !acknowledged.isEmpty else { return }
        let allCurrent = targets.values.allSatisfy(\.current)
        let settled = acknowledged.filter { overlay in
            targets.isEmpty || (allCurrent && (overlay.version ?? 0) <= processedSequence)
        }
        guard !settled.isEmpty else { return }
        acknowledged.removeAll { overlay in settled.contains { $0.batchID == overlay.batchID } }
        var updates: [CachedDocument] = []
        for overlay in settled {
            let version = overlay.version ?? 0
            let paths = Set(overlay.writes.map(\.path))
            let cached = (try? store.documents(paths)) ?? [:]
            for path in paths where (cached[path]?.version ?? 0) < version {
                updates.append(Self.settledState(of: path, writes: overlay.writes, base: cached[path], version: version, time: overlay.time))
            }
        }
        try? save(updates, targets: [String]())
    }

    /// A document's state after an acknowledged commit, computed from the writes when they do not depend on the state
    /// before (the first write to it replaces or deletes it), else unknown.
    static func settledState(of path: DocumentPath, writes: [Write], base: CachedDocument?, version: Int64, time: Timestamp) -> CachedDocument {
        let own = writes.filter { $0.path == path }
        guard let first = own.first else { return .unknown(path, since: version) }
        switch first.operation {
        case .set(_, merge: false), .delete: break
        default: return .unknown(path, since: version)
        }
        var current: Document? = nil
        for write in own {
            guard let fields = try? write.apply(to: current, commitTime: time) else {
                current = nil
                continue
            }
            current = Document(
                path: path, fields: fields, createTime: base?.document?.createTime ?? time, updateTime: time, version: version)
        }
        return current.map { CachedDocument.exists($0, asOf: version) } ?? .missing(path, at: version)
    }

    /// Keeps the cache within `cacheSizeBytes`, never evicting a document with queued writes or one an active
    /// listener holds.
    func evictIfNeeded() {
        do {
            guard try store.size() > settings.cacheSizeBytes else { return }
            var protected = try store.pathsWithPendingWrites()
            for overlay in acknowledged { for write in overlay.writes { protected.insert(write.path.description) } }
            for target in targets.values {
                for path in target.members { protected.insert(path.description) }
                if case .document(let path) = target.target { protected.insert(path.description) }
            }
            try store.evict(toFit: settings.cacheSizeBytes, protected: protected)
        } catch {
            logger.warning("cache eviction failed", metadata: ["error": "\(error)"])
        }
    }

    /// A stream of every write the server refuses from now on.
    func rejectedWrites() -> AsyncStream<RejectedWrite> {
        let (stream, continuation) = AsyncStream.makeStream(of: RejectedWrite.self)
        let id = UUID()
        rejectionWatchers[id] = continuation
        continuation.onTermination = { _ in Task { await self.removeRejectionWatcher(id) } }
        return stream
    }

    private func removeRejectionWatcher(_ id: UUID) { rejectionWatchers[id] = nil }
}
