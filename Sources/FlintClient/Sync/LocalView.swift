import FlintCore

/// A write the app made that the views show over the server's documents: queued, or acknowledged but not yet seen
/// in the server's changes.
struct Overlay: Sendable {
    var writes: [Write]
    /// `serverTimestamp` shows this time: the local time while pending, the commit's time once acknowledged.
    var time: Timestamp
    /// The commit's version once acknowledged; the overlay then applies only over cached documents older than it.
    var version: Int64?
    var batchID: Int64?

    var isPending: Bool { version == nil }
}

/// One document as a view shows it.
struct ViewDocument: Sendable, Equatable {
    var document: Document
    var hasPendingWrites: Bool
}

/// What listeners and cache reads see: the server's documents with the app's writes applied over them, and queries
/// evaluated over that with FlintCore's own matching and ordering, so that client and server agree.
enum LocalView {
    /// The document at `path` after the overlays, in order. A write whose precondition fails over the state before it
    /// is left out, as the server would refuse it.
    /// - Parameters:
    ///   - base: the cached document, nil when missing or unknown.
    ///   - baseVersion: the version the cache knows the document at (0 when it knows nothing).
    static func overlay(_ base: Document?, baseVersion: Int64, path: DocumentPath, overlays: [Overlay]) -> ViewDocument? {
        var current = base
        var pending = false
        for overlay in overlays {
            if let version = overlay.version, version <= baseVersion { continue }
            for write in overlay.writes where write.path == path {
                do {
                    try write.checkPrecondition(against: current)
                    if let fields = try write.apply(to: current, commitTime: overlay.time) {
                        current = Document(
                            path: path, fields: fields, createTime: current?.createTime ?? overlay.time, updateTime: overlay.time,
                            version: current?.version ?? 0)
                    } else {
                        current = nil
                    }
                    if overlay.isPending { pending = true }
                } catch {
                    continue
                }
            }
        }
        guard let current else { return nil }
        return ViewDocument(document: current, hasPendingWrites: pending)
    }

    /// Whether any pending overlay writes `path`.
    static func hasPendingWrites(_ path: DocumentPath, overlays: [Overlay]) -> Bool {
        overlays.contains { $0.isPending && $0.writes.contains { $0.path == path } }
    }

    /// A query's results over `bases` (documents by path, with the version the cache knows each at) with the
    /// overlays applied: the documents that match, in the query's order, its limit applied.
    static func evaluate(_ query: FlintCore.Query, bases: [DocumentPath: Document], overlays: [Overlay]) -> [ViewDocument] {
        var candidates = Set(bases.keys)
        for overlay in overlays {
            for write in overlay.writes where query.isInScope(write.path) { candidates.insert(write.path) }
        }
        var results: [ViewDocument] = []
        for path in candidates {
            let base = bases[path]
            guard let view = overlay(base, baseVersion: base?.version ?? 0, path: path, overlays: overlays),
                query.matches(view.document)
            else { continue }
            results.append(view)
        }
        let orders = query.normalizedOrderBy
        results.sort { FlintCore.Query.compare($0.document, $1.document, orders: orders) < 0 }
        if let limit = query.limit, results.count > limit { results.removeLast(results.count - limit) }
        if let limitToLast = query.limitToLast, results.count > limitToLast { results.removeFirst(results.count - limitToLast) }
        return results
    }

    /// The changes from one list of results to the next, as Firestore reports them: removals first (indices in the
    /// old list as it shrinks), then additions and modifications (indices in the new list).
    static func changes(from old: [ViewDocument], to new: [ViewDocument], includeMetadata: Bool)
        -> [(type: DocumentChange.ChangeType, document: ViewDocument, oldIndex: Int, newIndex: Int)]
    {
        var result: [(type: DocumentChange.ChangeType, document: ViewDocument, oldIndex: Int, newIndex: Int)] = []
        let newPaths = Set(new.map(\.document.path))
        var working = old
        var index = 0
        while index < working.count {
            if !newPaths.contains(working[index].document.path) {
                result.append((.removed, working[index], index, -1))
                working.remove(at: index)
            } else {
                index += 1
            }
        }
        var oldIndex: [DocumentPath: Int] = [:]
        for (i, item) in working.enumerated() { oldIndex[item.document.path] = i }
        for (newIndex, item) in new.enumerated() {
            guard let position = oldIndex[item.document.path] else {
                result.append((.added, item, -1, newIndex))
                continue
            }
            let before = working[position]
            let changed =
                before.document.fields != item.document.fields
                || (includeMetadata && before.hasPendingWrites != item.hasPendingWrites)
            if changed { result.append((.modified, item, position, newIndex)) }
        }
        return result
    }
}
