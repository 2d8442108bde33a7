import FlintCore
import Foundation
import GRDB
import Logging

/// The commit path: every write of Flint ends here.
extension SQLiteDocumentStore {
    /// Applies a batch of queued commits in one transaction and reports each one's outcome once it is durable.
    func write(_ batch: [GroupCommitQueue.Pending]) async {
        let outcomes: [Result<CommitResult, any Error>]
        do {
            let observer = self.observer
            let thresholds = self.thresholds
            outcomes = try await pool.writeWithoutTransaction { db in
                var outcomes: [Result<CommitResult, any Error>] = []
                var changes: [ChangeBatch] = []
                try db.inTransaction(.immediate) {
                    (outcomes, changes) = try Self.apply(batch.map(\.commit), db: db)
                    return .commit
                }
                // Durable now. Tell the observer (realtime) before anyone is acknowledged, while the database is
                // exactly at the last of these commits: its reads see that state and no later one.
                if !changes.isEmpty, let observer {
                    observer.didCommit(changes) { query in try QueryPlan(query, thresholds: thresholds).run(db) }
                }
                return outcomes
            }
        } catch {
            // The transaction itself failed (I/O error, disk full): nothing of the batch is durable.
            logger.error("commit transaction failed", metadata: ["error": "\(error)", "commits": "\(batch.count)"])
            let failure = FlintError(.unavailable, "the database could not durably store the commit; nothing was written, retry")
            for pending in batch { pending.outcome.resolve(.failure(failure)) }
            return
        }
        for (pending, outcome) in zip(batch, outcomes) { pending.outcome.resolve(outcome) }
    }

    /// Applies each commit inside the caller's transaction. Everything that can refuse a commit (preconditions, limits)
    /// is checked before its first write, so a refused commit writes nothing and needs no savepoint to roll back;
    /// a database error aborts the whole batch.
    static func apply(_ commits: [Commit], db: Database) throws -> ([Result<CommitResult, any Error>], [ChangeBatch]) {
        let last = try Row.fetchOne(db, sql: "SELECT sequence, commit_time FROM commits ORDER BY sequence DESC LIMIT 1")
        var sequence: Int64 = last?[0] ?? 0
        var lastTime = Timestamp(microseconds: last?[1] ?? Int64.min)
        var outcomes: [Result<CommitResult, any Error>] = []
        var changes: [ChangeBatch] = []
        outcomes.reserveCapacity(commits.count)
        for commit in commits {
            let time = StagedCommit.nextTime(after: lastTime)
            do {
                // A mutation id already applied (in an earlier transaction or earlier in this one) gets its first
                // answer again, before anything else is checked: its pinned versions and preconditions may no longer
                // hold precisely because it was applied.
                if let id = commit.mutationId, let earlier = try appliedMutation(id, db: db) {
                    outcomes.append(.success(earlier))
                    continue
                }
                let result = try apply(commit, sequence: sequence + 1, time: time, db: db)
                if let id = commit.mutationId {
                    try db.cachedStatement(sql: "INSERT INTO applied_mutations (id, version, result, applied_at) VALUES (?, ?, ?, ?)")
                        .execute(arguments: [id, result.0.version, result.0.json.text, time.microseconds])
                }
                sequence += 1
                lastTime = time
                outcomes.append(.success(result.0))
                changes.append(result.1)
            } catch let error as FlintError {
                outcomes.append(.failure(error))
            }
        }
        return (outcomes, changes)
    }

    private static func apply(_ commit: Commit, sequence: Int64, time: Timestamp, db: Database) throws -> (CommitResult, ChangeBatch) {
        let staged = try StagedCommit(commit, sequence: sequence, time: time) { path in try loadDocument(path, db: db) }
        try db.execute(sql: "INSERT INTO commits (sequence, commit_time) VALUES (?, ?)", arguments: [sequence, time.microseconds])
        for document in staged.touched {
            try persist(
                path: document.path, current: document.current, entries: document.entries, wasStored: document.original != nil,
                sequence: sequence, db: db)
        }
        return (staged.result, staged.batch)
    }

    static func loadDocument(_ path: DocumentPath, db: Database) throws -> Document? {
        try Row.fetchOne(
            db.cachedStatement(sql: "SELECT \(documentColumns) FROM documents d WHERE name = ?"),
            arguments: [Data(IndexKey.name(path))]
        ).map(document(from:))
    }

    /// Writes a document's new state, the difference in its index entries, and its change-log row.
    private static func persist(
        path: DocumentPath, current: Document?, entries: (old: Set<IndexEntries.Entry>, new: Set<IndexEntries.Entry>), wasStored: Bool,
        sequence: Int64, db: Database
    ) throws {
        let name = Data(IndexKey.name(path))
        let scope = path.collection.description
        let collectionID = path.collectionID
        let (oldEntries, newEntries) = entries
        var data: Data? = nil
        if let current {
            let bytes = Data(encode(current.fields))
            data = bytes
            try db.cachedStatement(
                sql: """
                    INSERT INTO documents (name, path, scope, collection_id, data, create_time, update_time, version)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET data = excluded.data, create_time = excluded.create_time,
                        update_time = excluded.update_time, version = excluded.version
                    """
            ).execute(arguments: [
                name, path.description, scope, collectionID, bytes, current.createTime.microseconds,
                current.updateTime.microseconds, current.version,
            ])
        } else if wasStored {
            try db.cachedStatement(sql: "DELETE FROM documents WHERE name = ?").execute(arguments: [name])
        }
        let delete = try db.cachedStatement(sql: "DELETE FROM field_index WHERE scope = ? AND field = ? AND value = ? AND name = ?")
        for entry in oldEntries.subtracting(newEntries) {
            try delete.execute(arguments: [scope, entry.field, Data(entry.value), name])
        }
        let insert = try db.cachedStatement(
            sql: "INSERT INTO field_index (scope, collection_id, field, value, name) VALUES (?, ?, ?, ?, ?)")
        for entry in newEntries.subtracting(oldEntries) {
            try insert.execute(arguments: [scope, collectionID, entry.field, Data(entry.value), name])
        }
        try db.cachedStatement(
            sql: "INSERT INTO changes (sequence, path, data, create_time, update_time) VALUES (?, ?, ?, ?, ?)"
        ).execute(arguments: [
            sequence, path.description, data, current?.createTime.microseconds, current?.updateTime.microseconds,
        ])
    }
}

/// The index entries of a document: one per field path (nested maps included) with the value's key, and one per
/// distinct array element under the array's field prefixed with `[]`, for `array-contains`.
struct IndexEntries {
    struct Entry: Hashable {
        var field: String
        var value: [UInt8]
    }

    /// The field name under which the elements of the array at `field` are indexed.
    static func arrayField(_ field: FieldPath) -> String { "[]" + field.description }

    static func of(_ fields: [String: Value]) -> Set<Entry> {
        var entries = Set<Entry>()
        add(fields, prefix: [], to: &entries)
        return entries
    }

    private static func add(_ fields: [String: Value], prefix: [String], to entries: inout Set<Entry>) {
        for (key, value) in fields {
            let path = prefix + [key]
            let field = FieldPath(uncheckedSegments: path)
            entries.insert(Entry(field: field.description, value: IndexKey.encode(value)))
            switch value {
            case .map(let child):
                add(child, prefix: path, to: &entries)
            case .array(let elements):
                let arrayField = arrayField(field)
                for element in elements { entries.insert(Entry(field: arrayField, value: IndexKey.encode(element))) }
            default:
                break
            }
        }
    }
}
