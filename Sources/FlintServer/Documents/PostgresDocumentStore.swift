public import FlintCore
import Foundation
public import Logging
import PostgresNIO
public import ServiceLifecycle

/// The shared store: documents in PostgreSQL, so that several servers serve one database.
///
/// The tables mirror the SQLite store's: documents keyed by the same order-preserving name key (`IndexKey`, as
/// `bytea`, whose order is bytewise like SQLite's BLOBs), the same field index, the same change log. Commits from
/// every server are numbered by one counter row that each commit transaction locks (`SELECT … FOR UPDATE`): commits
/// are serialised, and sequence N is visible before N+1 can commit, so the change log has no gaps for any reader.
/// Each server's writer (this service's `run()`) applies the commits that arrive together in one transaction, and
/// PostgreSQL's defaults (`synchronous_commit = on`) make it durable before anyone is acknowledged.
public final class PostgresDocumentStore: DocumentStore, Service {
    let database: PostgresDatabase
    let queue = GroupCommitQueue()
    let logger: Logger
    /// How few documents with an equality filter's value change how a query reads (see `QueryPlan`).
    let thresholds: QueryPlan.Thresholds
    /// Told after each of this server's commit transactions, for the change-log tailer: the batches it made durable,
    /// or, when the outcome is unknown (the transaction failed, perhaps at COMMIT), that the log must be read.
    let handoff = CommitHandoff()
    /// This store's id among the servers sharing the database, in the notifications its commits send.
    let instance = UUID().uuidString

    /// The channel that commit transactions notify, with their last sequence and the committing store's `instance` as
    /// the payload (`"42 6F9619FF-…"`).
    static let channel = "flint_changes"

    /// Brings the schema up to date (once, whichever server starts first) on `database`.
    public convenience init(database: PostgresDatabase, logger: Logger) async throws {
        try await self.init(database: database, logger: logger, thresholds: QueryPlan.Thresholds())
    }

    init(database: PostgresDatabase, logger: Logger, thresholds: QueryPlan.Thresholds) async throws {
        self.database = database
        self.logger = logger
        self.thresholds = thresholds
        try await Self.migrator.migrate(database)
    }

    static var migrator: PostgresMigrator {
        var migrator = PostgresMigrator()
        migrator.register(
            "documents-v1",
            [
                """
                CREATE TABLE documents (
                    name bytea PRIMARY KEY,
                    path text NOT NULL,
                    scope text NOT NULL,
                    collection_id text NOT NULL,
                    data bytea NOT NULL,
                    create_time bigint NOT NULL,
                    update_time bigint NOT NULL,
                    version bigint NOT NULL)
                """,
                "CREATE INDEX documents_scope ON documents (scope, name)",
                "CREATE INDEX documents_group ON documents (collection_id, name)",
                """
                CREATE TABLE field_index (
                    scope text NOT NULL,
                    collection_id text NOT NULL,
                    field text NOT NULL,
                    value bytea NOT NULL,
                    name bytea NOT NULL,
                    PRIMARY KEY (scope, field, value, name))
                """,
                "CREATE INDEX field_index_group ON field_index (collection_id, field, value, name)",
                // The one row that numbers commits: locked by each commit transaction until it commits.
                "CREATE TABLE commit_counter (id int PRIMARY KEY CHECK (id = 1), sequence bigint NOT NULL, commit_time bigint NOT NULL)",
                "INSERT INTO commit_counter (id, sequence, commit_time) VALUES (1, 0, 0)",
                "CREATE TABLE commits (sequence bigint PRIMARY KEY, commit_time bigint NOT NULL)",
                """
                CREATE TABLE changes (
                    sequence bigint NOT NULL,
                    path text NOT NULL,
                    data bytea,
                    create_time bigint,
                    update_time bigint,
                    PRIMARY KEY (sequence, path))
                """,
                // Commits that carried a client mutation id, with their answer, kept as long as the change log.
                "CREATE TABLE applied_mutations (id text PRIMARY KEY, version bigint NOT NULL, result text NOT NULL, applied_at bigint NOT NULL)",
                "CREATE INDEX applied_mutations_time ON applied_mutations (applied_at)",
            ])
        return migrator
    }

    // MARK: Service

    /// The writer: applies queued commits until graceful shutdown, then finishes the ones already queued.
    public func run() async throws {
        await queue.serve { batch in await write(batch) }
    }

    // MARK: DocumentStore

    public func document(at path: DocumentPath) async throws -> Document? {
        try await reading { connection in try await Self.loadDocuments([path], connection: connection, logger: self.logger)[path] }
    }

    public func commit(_ commit: Commit) async throws -> CommitResult {
        try await queue.submit(commit)
    }

    public func latestSequence() async throws -> Int64 {
        try await reading { connection in try await Self.latestSequence(connection: connection, logger: self.logger) }
    }

    public func read(_ target: ListenTarget, resumingAfter token: Int64?) async throws -> TargetRead {
        let thresholds = self.thresholds
        return try await reading(snapshot: true) { connection in
            let sequence = try await Self.latestSequence(connection: connection, logger: self.logger)
            let documents: [Document]
            switch target {
            case .document(let path):
                documents = try await Self.loadDocuments([path], connection: connection, logger: self.logger)[path].map { [$0] } ?? []
            case .query(let query):
                documents = try await QueryPlan(query, thresholds: thresholds, dialect: .postgres)
                    .run(connection, logger: self.logger)
            }
            var missed: [ChangeBatch]? = nil
            if let token, token <= sequence {
                let oldest = try await Self.oldestSequence(connection: connection, logger: self.logger) ?? (sequence + 1)
                if token >= oldest - 1 {
                    missed = try await Self.changes(after: token, limit: Int(sequence - token), connection: connection, logger: self.logger)
                }
            }
            return TargetRead(documents: documents, sequence: sequence, missed: missed)
        }
    }

    public func appliedMutation(_ id: String) async throws -> CommitResult? {
        try await reading { connection in try await Self.appliedMutations([id], connection: connection, logger: self.logger)[id] }
    }

    /// Whether the database answers a trivial query: the readiness check.
    public func isReady() async -> Bool {
        await database.isReady()
    }

    /// Whether a notification on `channel` was sent by one of this store's own commits.
    func isOwn(_ notification: PostgresNotification) -> Bool {
        notification.payload.hasSuffix(" " + instance)
    }

    // MARK: Connections

    /// Runs reads on one connection; with `snapshot`, in one REPEATABLE READ transaction, so that they all see the
    /// same committed state. A lost connection or an unreachable server is `unavailable` (503), never an internal error.
    func reading<T: Sendable>(snapshot: Bool = false, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        do {
            if snapshot {
                return try await database.transaction(isolation: "REPEATABLE READ READ ONLY", body)
            }
            return try await database.client.withConnection(body)
        } catch let error as FlintError {
            throw error
        } catch {
            logger.error("PostgreSQL read failed", metadata: ["error": "\(String(reflecting: error))"])
            throw FlintError(.unavailable, "the database is not answering; retry")
        }
    }

    // MARK: Rows

    static let documentColumns = "d.path, d.data, d.create_time, d.update_time, d.version"

    static func document(path: String, data: ByteBuffer, createTime: Int64, updateTime: Int64, version: Int64) throws -> Document {
        Document(
            path: try DocumentPath(path), fields: try fields(from: data), createTime: Timestamp(microseconds: createTime),
            updateTime: Timestamp(microseconds: updateTime), version: version)
    }

    static func fields(from data: ByteBuffer) throws -> [String: Value] {
        guard case .map(let fields) = try Value(json: JSON(parsing: Array(data.readableBytesView)), field: "data") else {
            throw FlintError(.internal, "a stored document is not a map")
        }
        return fields
    }

    /// The stored documents at `paths`, by path.
    static func loadDocuments(_ paths: [DocumentPath], connection: PostgresConnection, logger: Logger) async throws -> [DocumentPath: Document] {
        guard !paths.isEmpty else { return [:] }
        let names = paths.map { ByteBuffer(bytes: IndexKey.name($0)) }
        let rows = try await connection.query(
            "SELECT d.path, d.data, d.create_time, d.update_time, d.version FROM documents d WHERE d.name = ANY(\(names))", logger: logger)
        var documents: [DocumentPath: Document] = [:]
        for try await (path, data, createTime, updateTime, version) in rows.decode((String, ByteBuffer, Int64, Int64, Int64).self) {
            let document = try document(path: path, data: data, createTime: createTime, updateTime: updateTime, version: version)
            documents[document.path] = document
        }
        return documents
    }

    static func latestSequence(connection: PostgresConnection, logger: Logger) async throws -> Int64 {
        for try await sequence in try await connection.query("SELECT sequence FROM commit_counter WHERE id = 1", logger: logger).decode(Int64.self) {
            return sequence
        }
        return 0
    }

    static func oldestSequence(connection: PostgresConnection, logger: Logger) async throws -> Int64? {
        for try await sequence in try await connection.query("SELECT MIN(sequence) FROM commits", logger: logger).decode(Int64?.self) {
            return sequence
        }
        return nil
    }

    /// The answers recorded for the mutation ids among `ids`, by id.
    static func appliedMutations(_ ids: [String], connection: PostgresConnection, logger: Logger) async throws -> [String: CommitResult] {
        guard !ids.isEmpty else { return [:] }
        var results: [String: CommitResult] = [:]
        let rows = try await connection.query("SELECT id, result FROM applied_mutations WHERE id = ANY(\(ids))", logger: logger)
        for try await (id, text) in rows.decode((String, String).self) {
            results[id] = try CommitResult(json: JSON(parsing: text))
        }
        return results
    }
}
