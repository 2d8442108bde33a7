/// What a realtime listener follows: one document, or the results of a query.
public enum ListenTarget: Sendable, Equatable {
    case document(DocumentPath)
    case query(Query)

    /// Whether a document (its state after a commit; nil if deleted) belongs to the target's results,
    /// ignoring a query's limit.
    public func includes(_ path: DocumentPath, _ document: Document?) -> Bool {
        switch self {
        case .document(let target): return document != nil && target == path
        case .query(let query): return document.map(query.matches) ?? false
        }
    }

    /// Whether the target keeps only a window of its results (`limit` or `limitToLast`).
    public var isWindowed: Bool {
        if case .query(let query) = self { return query.limit != nil || query.limitToLast != nil }
        return false
    }
}
