public import FlintCore
import Foundation
import Synchronization
import GRDB
public import Logging
public import ServiceLifecycle

/// The embedded store: one SQLite file in WAL mode with `synchronous=FULL`, so an acknowledged commit survives a crash.
///
/// Reads run concurrently on a pool of readers. Writes go through one writer (this service's `run()`), which applies
/// the commits that arrive together in one transaction with one fsync (group commit). Each commit stays all-or-nothing
/// on its own: everything that can refuse it is checked before it writes anything.
public final class SQLiteDocumentStore: DocumentStore, Service {
    let pool: DatabasePool
    let queue = GroupCommitQueue()
    let logger: Logger
    private let observerBox = Mutex<(any ChangeObserver)?>(nil)

    /// Who hears of each durable commit (the realtime hub); set once while the application is assembled.
    var observer: (any ChangeObserver)? {
        get { observerBox.withLock { $0 } }
        set { observerBox.withLock { $0 = newValue } }
    }

    /// How few documents with an equality filter's value change how a query reads (see `QueryPlan`); tests set them
    /// to exercise every strategy.
    let thresholds: QueryPlan.Thresholds

    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    public convenience init(path: String, logger: Logger) throws {
        try self.init(path: path, logger: logger, thresholds: QueryPlan.Thresholds())
    }

    init(path: String, logger: Logger, thresholds: QueryPlan.Thresholds) throws {
        self.thresholds = thresholds
        self.pool = try Self.openPool(path: path)
        self.logger = logger
        try Self.migrator.migrate(pool)
    }

    /// Opens (creating if needed) the SQLite database at `path` in WAL mode with `synchronous = FULL`: the database of
    /// this store, and of the auth, rules, file and push tables beside it.
    static func openPool(path: String) throws -> DatabasePool {
        var configuration = GRDB.Configuration()
        configuration.journalMode = .wal
        configuration.busyMode = .timeout(10)
        let pool = try DatabasePool(path: path, configuration: configuration)
        // Every commit is synced before it is acknowledged. This must come after the pool is open: GRDB's WAL set-up
        // sets the writer to `synchronous = NORMAL` (synced only at checkpoints, which loses commits on power loss).
        // Statement journals stay in memory (the WAL is what survives a crash), the writer keeps a larger page cache
        // for the index B-trees, and checkpoints come every 10,000 pages instead of 1,000.
        try pool.writeWithoutTransaction { db in
            try db.execute(
                sql: "PRAGMA synchronous = FULL; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -65536; PRAGMA wal_autocheckpoint = 10000")
        }
        return pool
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("documents-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE documents (
                        name BLOB PRIMARY KEY,
                        path TEXT NOT NULL,
                        scope TEXT NOT NULL,
                        collection_id TEXT NOT NULL,
                        data BLOB NOT NULL,
                        create_time INTEGER NOT NULL,
                        update_time INTEGER NOT NULL,
                        version INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX documents_scope ON documents(scope, name);
                    CREATE INDEX documents_group ON documents(collection_id, name);
                    CREATE TABLE field_index (
                        scope TEXT NOT NULL,
                        collection_id TEXT NOT NULL,
                        field TEXT NOT NULL,
                        value BLOB NOT NULL,
                        name BLOB NOT NULL,
                        PRIMARY KEY (scope, field, value, name)
                    ) WITHOUT ROWID;
                    CREATE INDEX field_index_group ON field_index(collection_id, field, value, name);
                    CREATE TABLE commits (
                        sequence INTEGER PRIMARY KEY,
                        commit_time INTEGER NOT NULL
                    );
                    CREATE TABLE changes (
                        sequence INTEGER NOT NULL,
                        path TEXT NOT NULL,
                        data BLOB,
                        create_time INTEGER,
                        update_time INTEGER,
                        PRIMARY KEY (sequence, path)
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("applied-mutations-v1") { db in
            // The commits that carried a client mutation id, with the answer they got, so that the same id is answered
            // again instead of applied twice. Kept as long as the change log (see `compactChangeLog`).
            try db.execute(
                sql: """
                    CREATE TABLE applied_mutations (
                        id TEXT PRIMARY KEY,
                        version INTEGER NOT NULL,
                        result TEXT NOT NULL,
                        applied_at INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX applied_mutations_time ON applied_mutations(applied_at);
                    """)
        }
        return migrator
    }

    // MARK: Service

    /// The writer: applies queued commits until graceful shutdown, then finishes the ones already queued.
    public func run() async throws {
        await queue.serve { batch in await write(batch) }
    }

    // MARK: DocumentStore

    public func document(at path: DocumentPath) async throws -> Document? {
        try await pool.read { db in
            try Row.fetchOne(
                db.cachedStatement(sql: "SELECT \(Self.documentColumns) FROM documents d WHERE name = ?"),
                arguments: [Data(IndexKey.name(path))]
            ).map(Self.document(from:))
        }
    }

    public func commit(_ commit: Commit) async throws -> CommitResult {
        try await queue.submit(commit)
    }

    public func changes(after sequence: Int64, limit: Int) async throws -> [ChangeBatch] {
        try await pool.read { db in try Self.changes(after: sequence, limit: limit, db: db) }
    }

    public func read(_ target: ListenTarget, resumingAfter token: Int64?) async throws -> TargetRead {
        try await pool.read { db in
            let sequence = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(sequence), 0) FROM commits") ?? 0
            let documents: [Document]
            switch target {
            case .document(let path): documents = try Self.loadDocument(path, db: db).map { [$0] } ?? []
            case .query(let query): documents = try QueryPlan(query, thresholds: thresholds).run(db)
            }
            var missed: [ChangeBatch]? = nil
            if let token, token <= sequence {
                let oldest = try Int64.fetchOne(db, sql: "SELECT MIN(sequence) FROM commits") ?? (sequence + 1)
                if token >= oldest - 1 {
                    missed = try Self.changes(after: token, limit: Int(sequence - token), db: db)
                }
            }
            return TargetRead(documents: documents, sequence: sequence, missed: missed)
        }
    }

    public func compactChangeLog(before time: Timestamp) async throws {
        try await pool.write { db in
            let latest = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(sequence), 0) FROM commits") ?? 0
            try db.execute(sql: "DELETE FROM commits WHERE commit_time < ? AND sequence < ?", arguments: [time.microseconds, latest])
            try db.execute(sql: "DELETE FROM changes WHERE sequence < (SELECT MIN(sequence) FROM commits)")
            try db.execute(sql: "DELETE FROM applied_mutations WHERE applied_at < ?", arguments: [time.microseconds])
        }
    }

    public func appliedMutation(_ id: String) async throws -> CommitResult? {
        try await pool.read { db in try Self.appliedMutation(id, db: db) }
    }

    static func appliedMutation(_ id: String, db: Database) throws -> CommitResult? {
        guard let text = try String.fetchOne(db.cachedStatement(sql: "SELECT result FROM applied_mutations WHERE id = ?"), arguments: [id])
        else { return nil }
        return try CommitResult(json: JSON(parsing: text))
    }

    static func changes(after sequence: Int64, limit: Int, db: Database) throws -> [ChangeBatch] {
        let commits = try Row.fetchAll(
            db.cachedStatement(sql: "SELECT sequence, commit_time FROM commits WHERE sequence > ? ORDER BY sequence LIMIT ?"),
            arguments: [sequence, limit])
        guard let first = commits.first, let last = commits.last else { return [] }
        var batches: [Int64: ChangeBatch] = [:]
        for row in commits {
            let s: Int64 = row[0]
            batches[s] = ChangeBatch(sequence: s, commitTime: Timestamp(microseconds: row[1]), changes: [])
        }
        let rows = try Row.fetchCursor(
            db.cachedStatement(
                sql: "SELECT sequence, path, data, create_time, update_time FROM changes WHERE sequence BETWEEN ? AND ? ORDER BY sequence, path"),
            arguments: [first[0] as Int64, last[0] as Int64])
        while let row = try rows.next() {
            let s: Int64 = row[0]
            let path = try DocumentPath(row[1] as String)
            var document: Document? = nil
            if let data = row[2] as Data? {
                document = Document(
                    path: path, fields: try Self.fields(from: data), createTime: Timestamp(microseconds: row[3]),
                    updateTime: Timestamp(microseconds: row[4]), version: s)
            }
            batches[s]?.changes.append(Change(path: path, document: document))
        }
        return batches.values.sorted { $0.sequence < $1.sequence }
    }

    public func latestSequence() async throws -> Int64 {
        try await pool.read { db in try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(sequence), 0) FROM commits") ?? 0 }
    }

    /// The writer connection's `PRAGMA synchronous` (2 is FULL), for tests and diagnostics.
    func writerSynchronousMode() async throws -> Int {
        try await pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    /// Whether the database answers a trivial read: the readiness check.
    public func isReady() async -> Bool {
        (try? await pool.read { db in try Int.fetchOne(db, sql: "SELECT 1") }) == 1
    }

    // MARK: Rows

    static let documentColumns = "d.path, d.data, d.create_time, d.update_time, d.version"

    static func document(from row: Row) throws -> Document {
        Document(
            path: try DocumentPath(row[0] as String),
            fields: try fields(from: row[1] as Data),
            createTime: Timestamp(microseconds: row[2]),
            updateTime: Timestamp(microseconds: row[3]),
            version: row[4])
    }

    static func fields(from data: Data) throws -> [String: Value] {
        guard case .map(let fields) = try Value(json: JSON(parsing: data), field: "data") else {
            throw FlintError(.internal, "a stored document is not a map")
        }
        return fields
    }

    static func encode(_ fields: [String: Value]) -> [UInt8] {
        Value.map(fields).json.serialized
    }
}
