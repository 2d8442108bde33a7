import FlintCore
import Foundation
import GRDB

/// The SDK's SQLite file: the documents it has read or listened to, the queue of writes not yet acknowledged, and
/// each listen target's resume token with the documents the server last said it held.
///
/// Used only by the `SyncEngine` actor, one call at a time; each call is one short transaction.
final class LocalStore: Sendable {
    let database: DatabaseQueue

    /// Opens (creating if needed) the cache file at `path`.
    init(path: String) throws {
        var configuration = GRDB.Configuration()
        configuration.busyMode = .timeout(5)
        database = try DatabaseQueue(path: path, configuration: configuration)
        // WAL with NORMAL: a committed transaction survives the process being killed (only a power cut can lose the
        // latest ones), which is what an app's cache and write queue need, at a fraction of FULL's cost.
        try database.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL")
        }
        try Self.migrator.migrate(database)
    }

    /// Closes the file; every later call fails.
    func close() {
        try? database.close()
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("cache-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE documents (
                        path TEXT PRIMARY KEY,
                        collection TEXT NOT NULL,
                        collection_id TEXT NOT NULL,
                        state INTEGER NOT NULL,
                        data TEXT,
                        create_time INTEGER,
                        update_time INTEGER,
                        version INTEGER NOT NULL,
                        doc_version INTEGER,
                        size INTEGER NOT NULL,
                        access INTEGER NOT NULL
                    );
                    CREATE INDEX documents_collection ON documents(collection);
                    CREATE INDEX documents_group ON documents(collection_id);
                    CREATE INDEX documents_access ON documents(access);
                    CREATE TABLE mutations (
                        batch_id INTEGER PRIMARY KEY AUTOINCREMENT,
                        mutation_id TEXT NOT NULL,
                        uid TEXT NOT NULL,
                        writes TEXT NOT NULL,
                        local_time INTEGER NOT NULL
                    );
                    CREATE TABLE targets (
                        key TEXT PRIMARY KEY,
                        resume_token INTEGER NOT NULL,
                        members TEXT NOT NULL
                    );
                    """)
        }
        return migrator
    }

    // MARK: Documents

    /// The cached state of each of `paths` that the cache knows anything about.
    func documents(_ paths: some Collection<DocumentPath>) throws -> [DocumentPath: CachedDocument] {
        guard !paths.isEmpty else { return [:] }
        return try database.read { db in
            var result: [DocumentPath: CachedDocument] = [:]
            let statement = try db.cachedStatement(sql: "SELECT \(Self.columns) FROM documents WHERE path = ?")
            for path in paths {
                if let row = try Row.fetchOne(statement, arguments: [path.description]) {
                    result[path] = try Self.cached(row)
                }
            }
            return result
        }
    }

    /// The documents that exist in the cache within a query's collection (or collection group).
    func documents(in query: FlintCore.Query) throws -> [Document] {
        try database.read { db in
            let rows: [Row]
            if query.allDescendants {
                rows = try Row.fetchAll(
                    db, sql: "SELECT \(Self.columns) FROM documents WHERE collection_id = ? AND state = 2", arguments: [query.collectionID])
            } else {
                rows = try Row.fetchAll(
                    db, sql: "SELECT \(Self.columns) FROM documents WHERE collection = ? AND state = 2",
                    arguments: [query.collectionPath.description])
            }
            return try rows.compactMap { try Self.cached($0).document }.filter { query.isInScope($0.path) }
        }
    }

    /// Stores documents as the server sent them, each only if the cache does not know it as of a later commit.
    /// - Parameter stamp: the least-recently-used stamp to give them.
    func store(_ updates: [CachedDocument], stamp: Int64) throws {
        guard !updates.isEmpty else { return }
        try database.write { db in
            for update in updates { try Self.store(update, stamp: stamp, db: db) }
        }
    }

    static func store(_ update: CachedDocument, stamp: Int64, db: Database) throws {
        let path = update.path.description
        if let version = try Int64.fetchOne(db.cachedStatement(sql: "SELECT version FROM documents WHERE path = ?"), arguments: [path]),
            version > update.version
        {
            return
        }
        let data = update.document.map { Value.map($0.fields).json.text }
        try db.cachedStatement(
            sql: """
                INSERT INTO documents (path, collection, collection_id, state, data, create_time, update_time, version, doc_version, size, access)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(path) DO UPDATE SET state = excluded.state, data = excluded.data, create_time = excluded.create_time,
                    update_time = excluded.update_time, version = excluded.version, doc_version = excluded.doc_version,
                    size = excluded.size, access = excluded.access
                """
        ).execute(arguments: [
            path, update.path.collection.description, update.path.collectionID, update.state.rawValue, data,
            update.document?.createTime.microseconds, update.document?.updateTime.microseconds, update.version, update.document?.version,
            path.utf8.count + (data?.utf8.count ?? 0), stamp,
        ])
    }

    /// Marks documents as recently used.
    func touch(_ paths: some Collection<DocumentPath>, stamp: Int64) throws {
        guard !paths.isEmpty else { return }
        try database.write { db in
            let statement = try db.cachedStatement(sql: "UPDATE documents SET access = ? WHERE path = ?")
            for path in paths { try statement.execute(arguments: [stamp, path.description]) }
        }
    }

    /// The largest least-recently-used stamp given so far.
    func latestStamp() throws -> Int64 {
        try database.read { db in try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(access), 0) FROM documents") ?? 0 }
    }

    // MARK: Rows

    static let columns = "path, state, data, create_time, update_time, version, doc_version"

    static func cached(_ row: Row) throws -> CachedDocument {
        let path = try DocumentPath(row[0] as String)
        let state = CachedDocument.State(rawValue: row[1]) ?? .unknown
        let version: Int64 = row[5]
        var document: Document? = nil
        if state == .exists, let text = row[2] as String? {
            guard case .map(let fields) = try Value(json: JSON(parsing: text), field: "data") else {
                throw FlintError(.internal, "a cached document is not a map")
            }
            document = Document(
                path: path, fields: fields, createTime: Timestamp(microseconds: row[3]), updateTime: Timestamp(microseconds: row[4]),
                version: row[6] as Int64? ?? version)
        }
        return CachedDocument(path: path, state: state, document: document, version: version)
    }
}

/// What the cache knows of one document.
struct CachedDocument: Sendable, Equatable {
    enum State: Int, Sendable {
        /// The document changed on the server at `version` in a way the cache did not see: its content is not known.
        case unknown = 0
        /// The document did not exist at `version`.
        case missing = 1
        /// `document` is the document at `version`.
        case exists = 2
    }

    var path: DocumentPath
    var state: State
    var document: Document?
    /// The commit as of which the cache knows this state (a snapshot's or change's sequence; for a document read
    /// over REST, its own version, a lower bound). A state known as of a later commit is never replaced by an older one.
    var version: Int64

    /// The document as of commit `sequence` (by default its own version).
    static func exists(_ document: Document, asOf sequence: Int64? = nil) -> CachedDocument {
        CachedDocument(path: document.path, state: .exists, document: document, version: max(sequence ?? 0, document.version))
    }

    static func missing(_ path: DocumentPath, at version: Int64) -> CachedDocument {
        CachedDocument(path: path, state: .missing, document: nil, version: version)
    }

    static func unknown(_ path: DocumentPath, since version: Int64) -> CachedDocument {
        CachedDocument(path: path, state: .unknown, document: nil, version: version)
    }
}
