public import FlintCore

/// Where documents live. One seam, two stores: embedded SQLite now, PostgreSQL for several servers later.
///
/// Every write goes through `commit`; every commit gets the next sequence number and is recorded in the change
/// log, which realtime listeners, resume tokens and sync read with `changes(after:limit:)`.
public protocol DocumentStore: Sendable {
    /// The stored document at `path`, or nil.
    func document(at path: DocumentPath) async throws -> Document?

    /// The documents a query selects, in its order, its limits applied.
    func query(_ query: Query) async throws -> [Document]

    /// Stored documents in name order (the order of `DocumentPath`'s `<`), a page at a time: the scan behind the
    /// admin export. Each call reads one consistent state; pages read by separate calls may straddle commits.
    /// - Parameters:
    ///   - collection: only the documents of this collection; nil for every document of the database.
    ///   - descendants: with a collection, also every document nested below its documents (in subcollections, at any
    ///     depth).
    ///   - after: the page starts after this document; nil to start at the first.
    ///   - limit: the most documents returned; fewer means the scan reached the end.
    func documents(in collection: CollectionPath?, descendants: Bool, after: DocumentPath?, limit: Int) async throws -> [Document]

    /// Applies all writes of a commit atomically and durably, or none of them.
    /// - Throws: `FlintError` when a precondition fails or a write is invalid; nothing is written then.
    func commit(_ commit: Commit) async throws -> CommitResult

    /// The committed change batches with a sequence number greater than `sequence`, oldest first.
    func changes(after sequence: Int64, limit: Int) async throws -> [ChangeBatch]

    /// The sequence number of the latest commit, 0 before the first.
    func latestSequence() async throws -> Int64

    /// The target's documents and, after a resume token, the commits missed since, all as of one commit.
    func read(_ target: ListenTarget, resumingAfter token: Int64?) async throws -> TargetRead

    /// The answer of the applied commit that carried this mutation id (as `Commit.mutationId` reached the store),
    /// or nil when none did or the record was pruned with the change log.
    func appliedMutation(_ id: String) async throws -> CommitResult?

    /// Whether the database answers a trivial read (the SQLite file, or the PostgreSQL server): the readiness check.
    func isReady() async -> Bool

    /// Forgets change-log entries of commits older than `time`, keeping at least the latest commit, and the records of
    /// mutation ids applied before `time`.
    /// Listeners resuming from before the oldest kept commit then get a fresh snapshot.
    func compactChangeLog(before time: Timestamp) async throws
}

/// What one commit changed, as the change log records it.
public struct ChangeBatch: Sendable, Equatable {
    public var sequence: Int64
    public var commitTime: Timestamp
    public var changes: [Change]

    public init(sequence: Int64, commitTime: Timestamp, changes: [Change]) {
        self.sequence = sequence
        self.commitTime = commitTime
        self.changes = changes
    }
}

/// One document's change within a commit: its state after the commit, nil if deleted.
public struct Change: Sendable, Equatable {
    public var path: DocumentPath
    public var document: Document?

    public init(path: DocumentPath, document: Document?) {
        self.path = path
        self.document = document
    }
}

/// Told of every commit once it is durable, in sequence order, before the commit is acknowledged: the realtime hub.
public protocol ChangeObserver: Sendable {
    /// - Parameters:
    ///   - batches: the commits just made durable, oldest first, one batch each.
    ///   - read: runs a query against the state after the last of `batches` (and no later commit).
    func didCommit(_ batches: [ChangeBatch], read: (Query) throws -> [Document])
}

/// A listener's starting point, read in one consistent snapshot of the store.
public struct TargetRead: Sendable {
    /// The target's documents at `sequence` (its window, for a limited query), in the query's order.
    public var documents: [Document]
    /// The commit the snapshot reflects.
    public var sequence: Int64
    /// With a resume token: the commits after the token through `sequence`, or nil when the change log
    /// no longer reaches back to the token (or the token is unknown) and the client must start afresh.
    public var missed: [ChangeBatch]?

    public init(documents: [Document], sequence: Int64, missed: [ChangeBatch]?) {
        self.documents = documents
        self.sequence = sequence
        self.missed = missed
    }
}
