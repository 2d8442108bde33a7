import FlintCore
import Foundation
import GRDB

/// The metadata of stored objects and resumable uploads, in the server's SQLite database beside the documents.
///
/// Each write is one transaction on the shared pool's single writer, so the checks it makes (the object is still the
/// one the caller authorised, the caller's preconditions, the uploader's quota) hold when it commits.
final class FileMetadataStore: FileMetadataStorage {
    let pool: DatabasePool

    init(pool: DatabasePool) throws {
        self.pool = pool
        try Self.migrator.migrate(pool)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("files-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE files (
                        name BLOB PRIMARY KEY,
                        blob TEXT NOT NULL,
                        size INTEGER NOT NULL,
                        content_type TEXT NOT NULL,
                        md5 BLOB NOT NULL,
                        sha256 BLOB NOT NULL,
                        generation INTEGER NOT NULL,
                        metageneration INTEGER NOT NULL,
                        custom_metadata TEXT NOT NULL,
                        content_disposition TEXT,
                        cache_control TEXT,
                        uploader TEXT,
                        create_time INTEGER NOT NULL,
                        update_time INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX files_uploader ON files(uploader) WHERE uploader IS NOT NULL;
                    CREATE TABLE file_uploads (
                        id TEXT PRIMARY KEY,
                        name BLOB NOT NULL,
                        blob TEXT NOT NULL,
                        length INTEGER NOT NULL,
                        offset INTEGER NOT NULL,
                        content_type TEXT NOT NULL,
                        custom_metadata TEXT NOT NULL,
                        raw_metadata TEXT NOT NULL,
                        uploader TEXT,
                        create_time INTEGER NOT NULL,
                        expire_time INTEGER NOT NULL
                    );
                    CREATE INDEX file_uploads_expiry ON file_uploads(expire_time);
                    CREATE TABLE file_settings (
                        name TEXT PRIMARY KEY,
                        value NOT NULL
                    );
                    """)
            // Generations come from one counter, so that a path never sees the same generation twice (a signed link
            // for a deleted object must not open the next object at that path).
            try db.execute(sql: "INSERT INTO file_settings (name, value) VALUES ('generation', 0)")
            var generator = SystemRandomNumberGenerator()
            let key = Data((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
            try db.execute(sql: "INSERT INTO file_settings (name, value) VALUES ('link-key', ?)", arguments: [key])
        }
        return migrator
    }

    // MARK: Reading

    /// The object at `path`, if any.
    func object(at path: ObjectPath) async throws -> FileMetadata? {
        try await pool.read { db in try Self.object(at: path, db) }
    }

    static func object(at path: ObjectPath, _ db: Database) throws -> FileMetadata? {
        try Row.fetchOne(db, sql: "SELECT * FROM files WHERE name = ?", arguments: [Data(path.string.utf8)]).map(metadata)
    }

    /// The key that signs links, made once when the tables were created.
    func linkKey() async throws -> [UInt8] {
        try await pool.read { db in
            guard let key = try Data.fetchOne(db, sql: "SELECT value FROM file_settings WHERE name = 'link-key'") else {
                throw FlintError(.internal, "the signed-link key is missing from file_settings")
            }
            return Array(key)
        }
    }

    /// Bytes stored in objects uploaded by `uid`, and declared by its unfinished uploads.
    func usage(of uid: String) async throws -> (stored: Int64, pending: Int64) {
        try await pool.read { db in
            let stored = try Int64.fetchOne(db, sql: "SELECT COALESCE(SUM(size), 0) FROM files WHERE uploader = ?", arguments: [uid]) ?? 0
            let pending =
                try Int64.fetchOne(db, sql: "SELECT COALESCE(SUM(length), 0) FROM file_uploads WHERE uploader = ?", arguments: [uid]) ?? 0
            return (stored, pending)
        }
    }

    /// Every blob the metadata refers to: objects' and unfinished uploads'.
    func referencedBlobs() async throws -> Set<String> {
        try await pool.read { db in
            Set(try String.fetchAll(db, sql: "SELECT blob FROM files UNION SELECT blob FROM file_uploads"))
        }
    }

    // MARK: Writing

    /// The result of a write that expected the object to be as the caller last saw (and authorised) it.
    enum Outcome<Value: Sendable>: Sendable {
        case done(Value)
        /// Someone else changed the object meanwhile: read it again, authorise again, retry.
        case changed
    }

    /// A new generation of an object, as a write leaves it.
    struct NewObject: Sendable {
        var path: ObjectPath
        var blob: StoredBlob
        var attributes: ObjectAttributes
        var uploader: String?

        /// The object's metadata as generation `generation`, written at `now`.
        func metadata(generation: Int64, at now: Timestamp) -> FileMetadata {
            FileMetadata(
                path: path, blob: blob.id, size: blob.size, contentType: attributes.contentType, md5: blob.md5, sha256: blob.sha256,
                generation: generation, metageneration: 1, customMetadata: attributes.customMetadata,
                contentDisposition: attributes.contentDisposition, cacheControl: attributes.cacheControl, uploader: uploader, createTime: now,
                updateTime: now)
        }
    }

    /// Makes `object` the object at its path, if the path still holds `expected` (its generation; nil for none).
    /// Checks the precondition and the uploader's quota (`nil`: unlimited) in the same transaction, and, when
    /// completing a resumable upload, removes it in the same transaction too.
    /// - Returns: the new metadata and the replaced object (whose blob the caller removes).
    func put(
        _ object: NewObject, expected: Int64?, precondition: ObjectPrecondition?, quota: Int64?, completingUpload upload: String?
    ) async throws -> Outcome<(FileMetadata, replaced: FileMetadata?)> {
        try await pool.write { db in
            let existing = try Self.object(at: object.path, db)
            guard existing?.generation == expected else { return .changed }
            try precondition?.check(existing, path: object.path)
            if let quota, let uid = object.uploader {
                let others =
                    try Int64.fetchOne(
                        db, sql: "SELECT COALESCE(SUM(size), 0) FROM files WHERE uploader = ? AND name != ?",
                        arguments: [uid, Data(object.path.string.utf8)]) ?? 0
                guard others + object.blob.size <= quota else { throw FileStorage.quotaError(used: others, adding: object.blob.size, quota: quota) }
            }
            let generation = try Self.nextGeneration(db)
            let now = Timestamp.now()
            let metadata = object.metadata(generation: generation, at: now)
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO files (name, blob, size, content_type, md5, sha256, generation, metageneration,
                        custom_metadata, content_disposition, cache_control, uploader, create_time, update_time)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    Data(object.path.string.utf8), metadata.blob, metadata.size, metadata.contentType, Data(metadata.md5),
                    Data(metadata.sha256), generation, 1, Self.encode(metadata.customMetadata), metadata.contentDisposition,
                    metadata.cacheControl, metadata.uploader, now.microseconds, now.microseconds,
                ])
            if let upload { try db.execute(sql: "DELETE FROM file_uploads WHERE id = ?", arguments: [upload]) }
            return .done((metadata, existing))
        }
    }

    /// Removes the object at `path` if it is still generation `expected`.
    func delete(_ path: ObjectPath, expected: Int64) async throws -> Outcome<Void> {
        try await pool.write { db in
            try db.execute(
                sql: "DELETE FROM files WHERE name = ? AND generation = ?", arguments: [Data(path.string.utf8), expected])
            return db.changesCount == 1 ? .done(()) : .changed
        }
    }

    /// Replaces the attributes of `existing` (same generation and metageneration still), counting a new metageneration.
    func update(_ existing: FileMetadata, to attributes: ObjectAttributes) async throws -> Outcome<FileMetadata> {
        try await pool.write { db in
            let now = Timestamp.now()
            try db.execute(
                sql: """
                    UPDATE files SET content_type = ?, custom_metadata = ?, content_disposition = ?, cache_control = ?,
                        metageneration = metageneration + 1, update_time = ?
                    WHERE name = ? AND generation = ? AND metageneration = ?
                    """,
                arguments: [
                    attributes.contentType, Self.encode(attributes.customMetadata), attributes.contentDisposition, attributes.cacheControl,
                    now.microseconds, Data(existing.path.string.utf8), existing.generation, existing.metageneration,
                ])
            guard db.changesCount == 1, let updated = try Self.object(at: existing.path, db) else { return .changed }
            return .done(updated)
        }
    }

    // MARK: Rows

    private static func nextGeneration(_ db: Database) throws -> Int64 {
        guard let next = try Int64.fetchOne(db, sql: "UPDATE file_settings SET value = value + 1 WHERE name = 'generation' RETURNING value")
        else { throw FlintError(.internal, "the generation counter is missing from file_settings") }
        return next
    }

    static func metadata(_ row: Row) -> FileMetadata {
        FileMetadata(
            path: ObjectPath(stored: row["name"] as Data), blob: row["blob"], size: row["size"], contentType: row["content_type"],
            md5: Array(row["md5"] as Data), sha256: Array(row["sha256"] as Data), generation: row["generation"],
            metageneration: row["metageneration"], customMetadata: decode(row["custom_metadata"]),
            contentDisposition: row["content_disposition"], cacheControl: row["cache_control"], uploader: row["uploader"],
            createTime: Timestamp(microseconds: row["create_time"]), updateTime: Timestamp(microseconds: row["update_time"]))
    }

    static func encode(_ metadata: [String: String]) -> String {
        JSON.object(metadata.mapValues(JSON.string)).text
    }

    static func decode(_ text: String) -> [String: String] {
        guard case .object(let members)? = try? JSON(parsing: text) else { return [:] }
        return members.compactMapValues { if case .string(let value) = $0 { value } else { nil } }
    }
}

extension ObjectPath {
    /// A name read back from the database, where only validated names are written.
    init(stored bytes: Data) {
        self.init(trusted: String(decoding: bytes, as: UTF8.self))
    }
}
