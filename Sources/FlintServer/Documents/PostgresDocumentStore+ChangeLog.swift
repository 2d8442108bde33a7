import FlintCore
import Logging
import PostgresNIO

/// The change log on PostgreSQL: read by listeners resuming, by sync, and by every server's tailer.
extension PostgresDocumentStore {
    public func changes(after sequence: Int64, limit: Int) async throws -> [ChangeBatch] {
        try await reading(snapshot: true) { connection in
            try await Self.changes(after: sequence, limit: limit, connection: connection, logger: self.logger)
        }
    }

    public func compactChangeLog(before time: Timestamp) async throws {
        let cutoff = time.microseconds
        do {
            try await database.transaction { connection in
                try await connection.query(
                    """
                    DELETE FROM commits WHERE commit_time < \(cutoff)
                        AND sequence < (SELECT sequence FROM commit_counter WHERE id = 1)
                    """, logger: self.logger)
                try await connection.query("DELETE FROM changes WHERE sequence < (SELECT MIN(sequence) FROM commits)", logger: self.logger)
                try await connection.query("DELETE FROM applied_mutations WHERE applied_at < \(cutoff)", logger: self.logger)
            }
        } catch let error as FlintError {
            throw error
        } catch {
            throw FlintError(.unavailable, "the database is not answering; retry")
        }
    }

    /// The batches after `sequence`, oldest first, at most `limit`, read on `connection`.
    static func changes(after sequence: Int64, limit: Int, connection: PostgresConnection, logger: Logger) async throws -> [ChangeBatch] {
        var batches: [ChangeBatch] = []
        let commits = try await connection.query(
            "SELECT sequence, commit_time FROM commits WHERE sequence > \(sequence) ORDER BY sequence LIMIT \(Int64(max(0, limit)))", logger: logger)
        for try await (s, time) in commits.decode((Int64, Int64).self) {
            batches.append(ChangeBatch(sequence: s, commitTime: Timestamp(microseconds: time), changes: []))
        }
        guard let first = batches.first?.sequence, let last = batches.last?.sequence else { return [] }
        var positions: [Int64: Int] = [:]
        for (index, batch) in batches.enumerated() { positions[batch.sequence] = index }
        let rows = try await connection.query(
            """
            SELECT sequence, path, data, create_time, update_time FROM changes
            WHERE sequence BETWEEN \(first) AND \(last) ORDER BY sequence, path COLLATE "C"
            """, logger: logger)
        for try await (s, pathText, data, createTime, updateTime) in rows.decode((Int64, String, ByteBuffer?, Int64?, Int64?).self) {
            let path = try DocumentPath(pathText)
            var document: Document? = nil
            if let data, let createTime, let updateTime {
                document = try Self.document(path: pathText, data: data, createTime: createTime, updateTime: updateTime, version: s)
            }
            if let position = positions[s] { batches[position].changes.append(Change(path: path, document: document)) }
        }
        return batches
    }
}
