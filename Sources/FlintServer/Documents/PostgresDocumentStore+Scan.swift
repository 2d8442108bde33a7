import FlintCore
import PostgresNIO

/// Scans in document-name order, for the admin export: keyset pages over the `documents` table's primary key (or its
/// `scope` index), as on SQLite.
extension PostgresDocumentStore {
    public func documents(in collection: CollectionPath?, descendants: Bool, after: DocumentPath?, limit: Int) async throws -> [Document] {
        var conditions: [String] = []
        var arguments: [SQLArgument] = []
        if let collection {
            if descendants {
                // Every name below the collection lies strictly between its prefix and the prefix followed by 0xFF.
                let prefix = IndexKey.namePrefix(collection.segments)
                conditions.append("d.name > ? AND d.name < ?")
                arguments += [.bytes(prefix), .bytes(prefix + [0xFF])]
            } else {
                conditions.append("d.scope = ?")
                arguments.append(.text(collection.description))
            }
        }
        if let after {
            conditions.append("d.name > ?")
            arguments.append(.bytes(IndexKey.name(after)))
        }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        arguments.append(.integer(max(0, limit)))
        let query = QueryPlan.postgres("SELECT \(Self.documentColumns) FROM documents d \(filter) ORDER BY d.name LIMIT ?", arguments)
        return try await reading { connection in
            var documents: [Document] = []
            let rows = try await connection.query(query, logger: self.logger)
            for try await (path, data, createTime, updateTime, version) in rows.decode((String, ByteBuffer, Int64, Int64, Int64).self) {
                documents.append(try Self.document(path: path, data: data, createTime: createTime, updateTime: updateTime, version: version))
            }
            return documents
        }
    }
}
