import FlintCore
import Foundation
import Logging

/// Views: what each listener sees, recomputed after every change and sent when it differs from what it saw last.
extension SyncEngine {
    /// The overlays in queue order: acknowledged writes first (they were queued earlier), then pending ones.
    var overlays: [Overlay] {
        acknowledged + pending.map { Overlay(writes: $0.writes, time: $0.localTime, version: nil, batchID: $0.batchID) }
    }

    func refreshAll() {
        for id in listeners.keys.sorted() { refresh(listener: id) }
    }

    /// Computes a listener's view and sends a snapshot if it should see one.
    func refresh(listener id: Int) {
        guard let listener = listeners[id], let target = targets[listener.targetKey] else { return }
        let view: (documents: [ViewDocument], known: Bool)
        do {
            view = try self.view(of: target)
        } catch {
            logger.warning("a listener's view could not be computed", metadata: ["error": "\(error)"])
            return
        }
        let overlays = self.overlays
        var hasPendingWrites = view.documents.contains(where: \.hasPendingWrites)
        if case .document(let path) = target.target { hasPendingWrites = LocalView.hasPendingWrites(path, overlays: overlays) }
        let metadata = SnapshotMetadata(isFromCache: !target.current, hasPendingWrites: hasPendingWrites)
        guard let last = listener.last else {
            // The first snapshot: the server's, or the cache's when it knows something or the server is out of reach.
            guard target.current || knownOffline || view.known else { return }
            emit(listener, documents: view.documents, previous: [], metadata: metadata)
            return
        }
        let changed = !LocalView.changes(from: last, to: view.documents, includeMetadata: listener.includeMetadataChanges).isEmpty
        let metadataChanged = listener.includeMetadataChanges && metadata != listener.lastMetadata
        if changed || metadataChanged || (isDocumentTarget(target) && last.isEmpty != view.documents.isEmpty) {
            emit(listener, documents: view.documents, previous: last, metadata: metadata)
        }
    }

    private func isDocumentTarget(_ target: ActiveTarget) -> Bool {
        if case .document = target.target { return true }
        return false
    }

    private func emit(_ listener: Listener, documents: [ViewDocument], previous: [ViewDocument], metadata: SnapshotMetadata) {
        listeners[listener.id]?.last = documents
        listeners[listener.id]?.lastMetadata = metadata
        try? store.touch(documents.map(\.document.path), stamp: nextStamp())
        switch listener.sink {
        case .document(let reference, let continuation):
            continuation.yield(DocumentSnapshot(reference: reference, document: documents.first?.document, metadata: metadata))
        case .query(let query, let continuation):
            let app = query.app
            let changes = LocalView.changes(from: previous, to: documents, includeMetadata: listener.includeMetadataChanges).map { change in
                DocumentChange(
                    type: change.type, document: Self.snapshot(change.document, app: app, isFromCache: metadata.isFromCache),
                    oldIndex: change.oldIndex, newIndex: change.newIndex)
            }
            continuation.yield(
                QuerySnapshot(
                    query: query, documents: documents.map { Self.snapshot($0, app: app, isFromCache: metadata.isFromCache) },
                    documentChanges: changes, metadata: metadata))
        }
    }

    static func snapshot(_ view: ViewDocument, app: FlintApp, isFromCache: Bool) -> DocumentSnapshot {
        DocumentSnapshot(
            reference: DocumentReference(app: app, path: view.document.path), document: view.document,
            metadata: SnapshotMetadata(isFromCache: isFromCache, hasPendingWrites: view.hasPendingWrites))
    }

    /// A target's documents as the listener should see them: while current, the documents the server says it holds;
    /// otherwise every cached document the query selects. Either way with the app's writes over them.
    /// `known` says whether the cache knows anything of a document target.
    func view(of target: ActiveTarget) throws -> (documents: [ViewDocument], known: Bool) {
        let overlays = self.overlays
        switch target.target {
        case .document(let path):
            let cached = try store.documents([path])[path]
            let view = LocalView.overlay(cached?.document, baseVersion: cached?.version ?? 0, path: path, overlays: overlays)
            let known = (cached.map { $0.state != .unknown } ?? false) || LocalView.hasPendingWrites(path, overlays: overlays)
            return (view.map { [$0] } ?? [], known)
        case .query(let query):
            let bases: [Document]
            if target.current {
                bases = try store.documents(target.members).values.compactMap(\.document)
            } else {
                bases = try store.documents(in: query)
            }
            let documents = LocalView.evaluate(query, bases: Dictionary(bases.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a }), overlays: overlays)
            return (documents, !documents.isEmpty)
        }
    }

    // MARK: Reads

    /// A document read from the cache with the app's writes over it; nil when the cache knows nothing of it.
    func cachedDocument(_ path: DocumentPath) throws -> (document: ViewDocument?, hasPendingWrites: Bool)? {
        let overlays = self.overlays
        let cached = try store.documents([path])[path]
        let pendingWrites = LocalView.hasPendingWrites(path, overlays: overlays)
        guard (cached.map { $0.state != .unknown } ?? false) || pendingWrites else { return nil }
        try store.touch([path], stamp: nextStamp())
        return (LocalView.overlay(cached?.document, baseVersion: cached?.version ?? 0, path: path, overlays: overlays), pendingWrites)
    }

    /// The latest commit the server is known to have made: a read sent now answers as of this commit or a later one.
    var knownSequence: Int64 { max(processedSequence, serverSequence) }

    /// Stores a document read from the server (nil: it does not exist) and returns it with the app's writes over it.
    /// - Parameter asOf: `knownSequence` when the request was sent.
    func fetched(_ document: Document?, path: DocumentPath, asOf: Int64) throws -> (document: ViewDocument?, hasPendingWrites: Bool) {
        let update = document.map { CachedDocument.exists($0, asOf: asOf) } ?? .missing(path, at: asOf)
        try save([update], targets: [String]())
        let overlays = self.overlays
        let view = LocalView.overlay(document, baseVersion: document?.version ?? 0, path: path, overlays: overlays)
        refreshAll()
        return (view, LocalView.hasPendingWrites(path, overlays: overlays))
    }

    /// A query over the cache with the app's writes applied.
    func cachedQuery(_ query: FlintCore.Query) throws -> [ViewDocument] {
        let documents = LocalView.evaluate(
            query, bases: Dictionary(try store.documents(in: query).map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a }), overlays: overlays)
        try store.touch(documents.map(\.document.path), stamp: nextStamp())
        return documents
    }

    /// Stores a query's results from the server and returns them with the app's writes applied.
    func fetched(_ documents: [Document], for query: FlintCore.Query, asOf: Int64) throws -> [ViewDocument] {
        try save(documents.map { CachedDocument.exists($0, asOf: asOf) }, targets: [String]())
        refreshAll()
        return LocalView.evaluate(query, bases: Dictionary(documents.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a }), overlays: overlays)
    }
}
