import FlintCore
import GRDB

/// Keeping the cache within its size: least-recently-used documents go first.
extension LocalStore {
    /// The bytes the cached documents take (their JSON and paths).
    func size() throws -> Int {
        try database.read { db in try Int.fetchOne(db, sql: "SELECT COALESCE(SUM(size), 0) FROM documents") ?? 0 }
    }

    /// Removes least-recently-used documents, never one in `protected` (written by a queued mutation or held by an
    /// active listener), until the documents take at most `limit` bytes. The resume state of every target that held an
    /// evicted document is forgotten too: resuming would leave a hole where the document was.
    /// - Returns: the evicted paths.
    @discardableResult
    func evict(toFit limit: Int, protected: Set<String>) throws -> [String] {
        try database.write { db in
            var total = try Int.fetchOne(db, sql: "SELECT COALESCE(SUM(size), 0) FROM documents") ?? 0
            guard total > limit else { return [] }
            var evicted: [String] = []
            let rows = try Row.fetchCursor(db, sql: "SELECT path, size FROM documents ORDER BY access, path")
            while total > limit, let row = try rows.next() {
                let path: String = row[0]
                if protected.contains(path) { continue }
                evicted.append(path)
                total -= row[1] as Int
            }
            let delete = try db.cachedStatement(sql: "DELETE FROM documents WHERE path = ?")
            for path in evicted { try delete.execute(arguments: [path]) }
            try Self.forgetTargets(holdingAnyOf: Set(evicted), except: [], db: db)
            return evicted
        }
    }
}
