import FlintCore
import Logging
import PostgresNIO

/// The commit path on PostgreSQL: one transaction per group of queued commits, with a fixed number of statements
/// whatever the group's size (each statement takes arrays and `unnest`s them).
///
/// The group's commits are staged in memory one after the other (each sees the ones before it), so a refused commit
/// writes nothing and needs no savepoint; a database error aborts the whole group, and every commit in it is told so.
extension PostgresDocumentStore {
    func write(_ batch: [GroupCommitQueue.Pending]) async {
        let logger = self.logger
        let instance = self.instance
        let outcomes: [Result<CommitResult, any Error>]
        let committed: [ChangeBatch]
        do {
            (outcomes, committed) = try await database.transaction { connection in
                try await Self.apply(batch.map(\.commit), instance: instance, connection: connection, logger: logger)
            }
        } catch {
            // The transaction failed (connection lost, server down): if it failed before COMMIT nothing was written;
            // at COMMIT itself the outcome is unknown. A retry with the same mutation id is safe either way.
            logger.error("commit transaction failed", metadata: ["error": "\(String(reflecting: error))", "commits": "\(batch.count)"])
            let failure = FlintError(
                .unavailable, "the database did not confirm the commit; retry (with the same mutationId, a retry is never applied twice)")
            for pending in batch { pending.outcome.resolve(.failure(failure)) }
            // Whether it committed is for the log to say.
            handoff.readLog()
            return
        }
        if !committed.isEmpty { handoff.committed(committed) }
        for (pending, outcome) in zip(batch, outcomes) { pending.outcome.resolve(outcome) }
    }

    /// Stages and writes the commits inside the caller's transaction; returns each one's outcome and the change batches
    /// written, as the log holds them (none when every commit was refused or answered from an earlier mutation).
    /// - Parameter instance: this server's id, in the notification, so that its own tailer can tell it apart.
    private static func apply(_ commits: [Commit], instance: String, connection: PostgresConnection, logger: Logger) async throws
        -> ([Result<CommitResult, any Error>], [ChangeBatch])
    {
        // The counter row's lock serialises commit transactions across servers until this one commits.
        var sequence: Int64 = 0
        var lastTime = Timestamp(microseconds: 0)
        let counter = try await connection.query("SELECT sequence, commit_time FROM commit_counter WHERE id = 1 FOR UPDATE", logger: logger)
        for try await (current, time) in counter.decode((Int64, Int64).self) {
            sequence = current
            lastTime = Timestamp(microseconds: time)
        }
        let stored = try await loadDocuments(Array(Set(commits.flatMap { $0.writes.map(\.path) })), connection: connection, logger: logger)
        var answered = try await appliedMutations(commits.compactMap(\.mutationId), connection: connection, logger: logger)

        var overlay: [DocumentPath: Document?] = [:]
        var finalEntries: [DocumentPath: Set<IndexEntries.Entry>] = [:]
        var rows = Rows()
        var batches: [ChangeBatch] = []
        var outcomes: [Result<CommitResult, any Error>] = []
        outcomes.reserveCapacity(commits.count)
        for commit in commits {
            let time = StagedCommit.nextTime(after: lastTime)
            // A mutation id already applied (earlier, or earlier in this group) gets its first answer again.
            if let id = commit.mutationId, let earlier = answered[id] {
                outcomes.append(.success(earlier))
                continue
            }
            do {
                let staged = try StagedCommit(commit, sequence: sequence + 1, time: time) { path in
                    if let pending = overlay[path] { return pending }
                    return stored[path]
                }
                sequence += 1
                lastTime = time
                rows.add(staged)
                var batch = staged.batch
                // In the log's order (`path COLLATE "C"`: bytewise), as other servers read it.
                batch.changes.sort { $0.path.description.utf8.lexicographicallyPrecedes($1.path.description.utf8) }
                batches.append(batch)
                for document in staged.touched {
                    overlay[document.path] = .some(document.current)
                    finalEntries[document.path] = document.entries.new
                }
                if let id = commit.mutationId {
                    answered[id] = staged.result
                    rows.mutations.append((id, sequence, staged.result.json.text, time.microseconds))
                }
                outcomes.append(.success(staged.result))
            } catch let error as FlintError {
                outcomes.append(.failure(error))
            }
        }
        guard !rows.commits.isEmpty else { return (outcomes, []) }

        var index = IndexRows()
        var upserts = DocumentRows()
        var deletes: [ByteBuffer] = []
        for (path, state) in overlay {
            let name = ByteBuffer(bytes: IndexKey.name(path))
            let old = stored[path].map { IndexEntries.of($0.fields) } ?? []
            let new = finalEntries[path] ?? []
            index.add(path: path, name: name, remove: old.subtracting(new), insert: new.subtracting(old))
            if let document = state {
                upserts.add(document, name: name)
            } else if stored[path] != nil {
                deletes.append(name)
            }
        }
        try await rows.write(connection: connection, logger: logger)
        try await upserts.write(connection: connection, logger: logger)
        if !deletes.isEmpty {
            try await connection.query("DELETE FROM documents WHERE name = ANY(\(deletes))", logger: logger)
        }
        try await index.write(connection: connection, logger: logger)
        try await connection.query("UPDATE commit_counter SET sequence = \(sequence), commit_time = \(lastTime.microseconds) WHERE id = 1", logger: logger)
        // A wake-up for every other server's change-log tailer, delivered when (and only if) this transaction commits.
        try await connection.query("SELECT pg_notify(\(channel), \("\(sequence) \(instance)"))", logger: logger)
        return (outcomes, batches)
    }

    /// The change-log rows of the group's commits, as column arrays.
    private struct Rows {
        var commits: [Int64] = []
        var commitTimes: [Int64] = []
        var changeSequences: [Int64] = []
        var changePaths: [String] = []
        var changeData: [ByteBuffer] = []
        var changeCreateTimes: [Int64] = []
        var changeUpdateTimes: [Int64] = []
        var changeDeleted: [Bool] = []
        var mutations: [(id: String, version: Int64, result: String, appliedAt: Int64)] = []

        mutating func add(_ staged: StagedCommit) {
            commits.append(staged.batch.sequence)
            commitTimes.append(staged.batch.commitTime.microseconds)
            for change in staged.batch.changes {
                changeSequences.append(staged.batch.sequence)
                changePaths.append(change.path.description)
                changeData.append(ByteBuffer(bytes: change.document.map { Value.map($0.fields).json.serialized } ?? []))
                changeCreateTimes.append(change.document?.createTime.microseconds ?? 0)
                changeUpdateTimes.append(change.document?.updateTime.microseconds ?? 0)
                changeDeleted.append(change.document == nil)
            }
        }

        func write(connection: PostgresConnection, logger: Logger) async throws {
            try await connection.query(
                "INSERT INTO commits (sequence, commit_time) SELECT * FROM unnest(\(commits)::bigint[], \(commitTimes)::bigint[])", logger: logger)
            try await connection.query(
                """
                INSERT INTO changes (sequence, path, data, create_time, update_time)
                SELECT s, p, CASE WHEN deleted THEN NULL ELSE d END, CASE WHEN deleted THEN NULL ELSE c END,
                    CASE WHEN deleted THEN NULL ELSE u END
                FROM unnest(\(changeSequences)::bigint[], \(changePaths)::text[], \(changeData)::bytea[], \(changeCreateTimes)::bigint[],
                    \(changeUpdateTimes)::bigint[], \(changeDeleted)::boolean[]) AS t(s, p, d, c, u, deleted)
                """, logger: logger)
            guard !mutations.isEmpty else { return }
            try await connection.query(
                """
                INSERT INTO applied_mutations (id, version, result, applied_at)
                SELECT * FROM unnest(\(mutations.map(\.id))::text[], \(mutations.map(\.version))::bigint[], \(mutations.map(\.result))::text[],
                    \(mutations.map(\.appliedAt))::bigint[])
                """, logger: logger)
        }
    }

    /// The documents' new states, as column arrays.
    private struct DocumentRows {
        var names: [ByteBuffer] = []
        var paths: [String] = []
        var scopes: [String] = []
        var collectionIDs: [String] = []
        var data: [ByteBuffer] = []
        var createTimes: [Int64] = []
        var updateTimes: [Int64] = []
        var versions: [Int64] = []

        mutating func add(_ document: Document, name: ByteBuffer) {
            names.append(name)
            paths.append(document.path.description)
            scopes.append(document.path.collection.description)
            collectionIDs.append(document.path.collectionID)
            data.append(ByteBuffer(bytes: Value.map(document.fields).json.serialized))
            createTimes.append(document.createTime.microseconds)
            updateTimes.append(document.updateTime.microseconds)
            versions.append(document.version)
        }

        func write(connection: PostgresConnection, logger: Logger) async throws {
            guard !names.isEmpty else { return }
            try await connection.query(
                """
                INSERT INTO documents (name, path, scope, collection_id, data, create_time, update_time, version)
                SELECT * FROM unnest(\(names)::bytea[], \(paths)::text[], \(scopes)::text[], \(collectionIDs)::text[], \(data)::bytea[],
                    \(createTimes)::bigint[], \(updateTimes)::bigint[], \(versions)::bigint[])
                ON CONFLICT (name) DO UPDATE SET data = excluded.data, create_time = excluded.create_time,
                    update_time = excluded.update_time, version = excluded.version
                """, logger: logger)
        }
    }

    /// The field-index entries to remove and to add, as column arrays.
    private struct IndexRows {
        var removeScopes: [String] = []
        var removeFields: [String] = []
        var removeValues: [ByteBuffer] = []
        var removeNames: [ByteBuffer] = []
        var insertScopes: [String] = []
        var insertCollectionIDs: [String] = []
        var insertFields: [String] = []
        var insertValues: [ByteBuffer] = []
        var insertNames: [ByteBuffer] = []

        mutating func add(path: DocumentPath, name: ByteBuffer, remove: Set<IndexEntries.Entry>, insert: Set<IndexEntries.Entry>) {
            let scope = path.collection.description
            for entry in remove {
                removeScopes.append(scope)
                removeFields.append(entry.field)
                removeValues.append(ByteBuffer(bytes: entry.value))
                removeNames.append(name)
            }
            for entry in insert {
                insertScopes.append(scope)
                insertCollectionIDs.append(path.collectionID)
                insertFields.append(entry.field)
                insertValues.append(ByteBuffer(bytes: entry.value))
                insertNames.append(name)
            }
        }

        func write(connection: PostgresConnection, logger: Logger) async throws {
            if !removeNames.isEmpty {
                try await connection.query(
                    """
                    DELETE FROM field_index WHERE (scope, field, value, name) IN
                        (SELECT * FROM unnest(\(removeScopes)::text[], \(removeFields)::text[], \(removeValues)::bytea[], \(removeNames)::bytea[]))
                    """, logger: logger)
            }
            if !insertNames.isEmpty {
                try await connection.query(
                    """
                    INSERT INTO field_index (scope, collection_id, field, value, name)
                    SELECT * FROM unnest(\(insertScopes)::text[], \(insertCollectionIDs)::text[], \(insertFields)::text[],
                        \(insertValues)::bytea[], \(insertNames)::bytea[])
                    """, logger: logger)
            }
        }
    }
}
