public import FlintCore

/// Where a read looks.
public enum Source: Sendable {
    /// The server when it can be reached, else the cache.
    case `default`
    /// Only the server: fails with `unavailable` while offline.
    case server
    /// Only the cache: fails with `unavailable` when the cache knows nothing of the document.
    case cache
}

/// How a snapshot came about.
public struct SnapshotMetadata: Sendable, Hashable {
    /// The snapshot comes from the cache, not (yet) from the server's current state: offline, or before the
    /// server's first answer.
    public var isFromCache: Bool
    /// It shows writes of this app that the server has not acknowledged yet.
    public var hasPendingWrites: Bool

    public init(isFromCache: Bool, hasPendingWrites: Bool) {
        self.isFromCache = isFromCache
        self.hasPendingWrites = hasPendingWrites
    }
}

/// A document as read: its fields (if it exists) and how the read came about.
public struct DocumentSnapshot: Sendable {
    /// The document read.
    public let reference: DocumentReference
    public let metadata: SnapshotMetadata
    /// The document with its fields and times; nil when it does not exist.
    public let document: Document?

    init(reference: DocumentReference, document: Document?, metadata: SnapshotMetadata) {
        self.reference = reference
        self.document = document
        self.metadata = metadata
    }

    /// The document's id, the last segment of its path.
    public var documentID: String { reference.documentID }
    /// Whether the document exists.
    public var exists: Bool { document != nil }
    /// The document's fields; nil when it does not exist.
    public func data() -> [String: Value]? { document?.fields }

    /// The value at a dotted field path (`address.city`); nil when the field or the document is missing.
    public func get(_ field: String) -> Value? {
        guard let document, let path = try? FieldPath(field) else { return nil }
        return document.value(at: path)
    }

    public subscript(field: String) -> Value? { self.get(field) }

    /// The fields decoded into a `Decodable` type (see `FlintDecoder`).
    /// - Throws: `FlintError` `not-found` when the document does not exist, or a `DecodingError`.
    public func data<T: Decodable>(as type: T.Type) throws -> T {
        guard let document else { throw FlintError(.notFound, "\(reference.path) does not exist") }
        return try FlintDecoder().decode(type, from: document.fields)
    }

    /// When the document was last written (by the server's clock; a pending write shows the local time).
    public var updateTime: Timestamp? { document?.updateTime }
    /// When the document was created.
    public var createTime: Timestamp? { document?.createTime }
}

/// One document's change between two snapshots of a query.
public struct DocumentChange: Sendable {
    public enum ChangeType: Sendable, Hashable {
        /// The document entered the results.
        case added
        /// The document is still in the results and its fields changed.
        case modified
        /// The document left the results (deleted, changed so that it no longer matches, or pushed out by a limit).
        case removed
    }

    public let type: ChangeType
    /// The document after the change (for `removed`, as it was last seen).
    public let document: DocumentSnapshot
    /// Its index in the previous results (after the removals before it), -1 for `added`.
    public let oldIndex: Int
    /// Its index in the new results, -1 for `removed`.
    public let newIndex: Int
}

/// The results of a query, with what changed since the previous snapshot of the same listener.
public struct QuerySnapshot: Sendable {
    public let query: Query
    /// The documents, in the query's order.
    public let documents: [DocumentSnapshot]
    /// What changed since the listener's previous snapshot; every document is `added` in the first one.
    public let documentChanges: [DocumentChange]
    public let metadata: SnapshotMetadata

    public var count: Int { documents.count }
    public var isEmpty: Bool { documents.isEmpty }
}
