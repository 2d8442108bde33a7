import FlintCore
import Foundation
import GRDB

/// Scans in document-name order, for the admin export: keyset pages over the `documents` table's primary key (or
/// its `scope` index), so each page costs its own size whatever the page's position.
///
/// The documents' paths are decoded from their `name` keys rather than read from the `path` column: an id may
/// contain NUL, which the text column does not keep (text is bound up to the first NUL), while the key is exact.
extension SQLiteDocumentStore {
    public func documents(in collection: CollectionPath?, descendants: Bool, after: DocumentPath?, limit: Int) async throws -> [Document] {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let collection {
            if descendants {
                // Every name below the collection lies strictly between its prefix and the prefix followed by 0xFF.
                let prefix = IndexKey.namePrefix(collection.segments)
                conditions.append("d.name > ? AND d.name < ?")
                _ = arguments.append(contentsOf: [Data(prefix), Data(prefix + [0xFF])])
            } else {
                conditions.append("d.scope = ?")
                _ = arguments.append(contentsOf: [collection.description])
            }
        }
        if let after {
            conditions.append("d.name > ?")
            _ = arguments.append(contentsOf: [Data(IndexKey.name(after))])
        }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let sql = "SELECT d.name, d.data, d.create_time, d.update_time, d.version FROM documents d \(filter) ORDER BY d.name LIMIT ?"
        _ = arguments.append(contentsOf: [max(0, limit)])
        let statementArguments = arguments
        return try await pool.read { db in
            try Row.fetchAll(db.cachedStatement(sql: sql), arguments: statementArguments).map { row in
                guard let segments = IndexKey.segments(fromName: [UInt8](row[0] as Data)) else {
                    throw FlintError(.internal, "a stored document name is not a valid key")
                }
                return Document(
                    path: try DocumentPath(segments: segments), fields: try Self.fields(from: row[1] as Data),
                    createTime: Timestamp(microseconds: row[2]), updateTime: Timestamp(microseconds: row[3]), version: row[4])
            }
        }
    }
}
