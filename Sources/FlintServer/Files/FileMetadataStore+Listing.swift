import FlintCore
import Foundation
import GRDB

extension FileMetadataStore {
    /// Lists the objects whose names start with `prefix` (see `FileMetadataStorage.list`), in one read transaction.
    func list(prefix: String, delimiter: String?, start: [UInt8]?, pageSize: Int) async throws -> FileListing {
        try await pool.read { db in
            var scan = FileListingScan(prefix: prefix, delimiter: delimiter, start: start, pageSize: pageSize)
            while let fetch = scan.nextFetch {
                scan.take(
                    try Row.fetchAll(
                        db, sql: "SELECT * FROM files WHERE name >= ? AND name < ? ORDER BY name LIMIT ?",
                        arguments: [fetch.lower, fetch.end, fetch.limit]
                    ).map(Self.metadata))
            }
            let more =
                try scan.isFull
                && Bool.fetchOne(
                    db, sql: "SELECT EXISTS (SELECT 1 FROM files WHERE name >= ? AND name < ?)", arguments: [Data(scan.lower), Data(scan.end)])
                    == true
            return scan.result(more: more)
        }
    }
}
