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

    /// Applies all writes of a commit atomically and durably, or none of them.
    /// - Throws: `FlintError` when a precondition fails or a write is invalid; nothing is written then.
    func commit(_ commit: Commit) async throws -> CommitResult

    /// The committed change batches with a sequence number greater than `sequence`, oldest first.
    func changes(after sequence: Int64, limit: Int) async throws -> [ChangeBatch]

    /// The sequence number of the latest commit, 0 before the first.
    func latestSequence() async throws -> Int64
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
