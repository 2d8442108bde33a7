import FlintCore

/// A commit worked out in memory before anything is written: each touched document's state before and after, its
/// index entries, the answer and the change-log batch. Both stores stage a commit this way and then persist it, so
/// every check that can refuse a commit (expected versions, preconditions, sizes, index limits) runs in one place,
/// before the first write.
struct StagedCommit {
    /// One document the commit touches, in name order.
    struct Touched {
        var path: DocumentPath
        /// As stored before the commit.
        var original: Document?
        /// After the commit; nil when deleted (or never created).
        var current: Document?
        /// The index entries of `original` and of `current`.
        var entries: (old: Set<IndexEntries.Entry>, new: Set<IndexEntries.Entry>)
    }

    var result: CommitResult
    var batch: ChangeBatch
    var touched: [Touched]

    /// The most index entries one document may produce, as Firestore limits them.
    static let maximumIndexEntries = 40_000

    /// Applies `commit`'s writes in memory as commit number `sequence` at `time`.
    /// - Parameter load: the stored document at a path (called once per touched path).
    /// - Throws: `FlintError` when the commit must be refused; nothing is to be written then.
    init(_ commit: Commit, sequence: Int64, time: Timestamp, load: (DocumentPath) throws -> Document?) throws {
        var states: [DocumentPath: (original: Document?, current: Document?)] = [:]
        var results: [WriteResult] = []
        for (index, write) in commit.writes.enumerated() {
            if states[write.path] == nil {
                let stored = try load(write.path)
                if let expected = commit.expectedVersions[write.path], (stored?.version ?? 0) != expected {
                    throw FlintError(.aborted, "\(write.path) changed while the commit's security rules were checked; retry")
                }
                states[write.path] = (stored, stored)
            }
            let current = states[write.path]!.current
            do {
                try write.checkPrecondition(against: current)
                let fields = try write.apply(to: current, commitTime: time)
                var next: Document? = nil
                if let fields {
                    let size = Value.map(fields).json.serialized.count
                    guard size <= maximumDocumentBytes else {
                        throw FlintError.invalidArgument(
                            "\(write.path) would be \(size) bytes; a document may be at most \(maximumDocumentBytes) bytes")
                    }
                    next = Document(
                        path: write.path, fields: fields, createTime: current?.createTime ?? time, updateTime: time, version: sequence)
                }
                states[write.path]!.current = next
                results.append(WriteResult(path: write.path, document: next, updateTime: time, version: sequence))
            } catch let error as FlintError {
                throw commit.writes.count > 1 ? FlintError(error.code, "writes[\(index)]: \(error.message)") : error
            }
        }
        // The last check: the index entries each new state would need.
        var touched: [Touched] = []
        for path in states.keys.sorted() {
            let state = states[path]!
            let new = state.current.map { IndexEntries.of($0.fields) } ?? []
            if new.count > Self.maximumIndexEntries {
                throw FlintError.invalidArgument(
                    "\(path) has \(new.count) indexed values (fields and array elements); at most \(Self.maximumIndexEntries) are allowed")
            }
            let old = state.original.map { IndexEntries.of($0.fields) } ?? []
            touched.append(Touched(path: path, original: state.original, current: state.current, entries: (old, new)))
        }
        self.touched = touched
        result = CommitResult(version: sequence, commitTime: time, writeResults: results)
        batch = ChangeBatch(sequence: sequence, commitTime: time, changes: touched.map { Change(path: $0.path, document: $0.current) })
    }

    /// The time of the commit after one made at `last`: now, or just after `last` when the clock has not moved past it,
    /// so commit times strictly increase and an updateTime names one version of a document.
    static func nextTime(after last: Timestamp) -> Timestamp {
        let now = Timestamp.now()
        return now > last ? now : Timestamp(microseconds: last.microseconds + 1)
    }
}
