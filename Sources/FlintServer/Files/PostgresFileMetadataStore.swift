import FlintCore
import Foundation
import PostgresNIO

/// The metadata of stored objects and resumable uploads in PostgreSQL, shared by every server (the blobs are in a
/// blob store they share too).
///
/// A write to an object takes a transaction-level advisory lock on its name first, and one on the uploader when a
/// quota applies, so the checks it makes (the object is still the one the caller authorised, the preconditions, the
/// quota) hold when it commits, whichever server runs it.
final class PostgresFileMetadataStore: FileMetadataStorage {
    let database: PostgresDatabase
    var logger: Logger { database.logger }

    init(database: PostgresDatabase) async throws {
        self.database = database
        // The link key is made here, and stored only by the server that applies the migration.
        let key = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        try await database.migrate(
            "files-v1",
            [
                """
                CREATE TABLE files (
                    name bytea PRIMARY KEY, blob text NOT NULL, size bigint NOT NULL, content_type text NOT NULL, md5 bytea NOT NULL,
                    sha256 bytea NOT NULL, generation bigint NOT NULL, metageneration bigint NOT NULL, custom_metadata text NOT NULL,
                    content_disposition text, cache_control text, uploader text, create_time bigint NOT NULL, update_time bigint NOT NULL)
                """,
                "CREATE INDEX files_uploader ON files (uploader) WHERE uploader IS NOT NULL",
                """
                CREATE TABLE file_uploads (
                    id text PRIMARY KEY, name bytea NOT NULL, blob text NOT NULL, length bigint NOT NULL, received bigint NOT NULL,
                    content_type text NOT NULL, custom_metadata text NOT NULL, raw_metadata text NOT NULL, uploader text,
                    create_time bigint NOT NULL, expire_time bigint NOT NULL)
                """,
                "CREATE INDEX file_uploads_expiry ON file_uploads (expire_time)",
                // Generations come from one sequence, so that a path never sees the same generation twice (a signed
                // link for a deleted object must not open the next object at that path).
                "CREATE SEQUENCE file_generation",
                "CREATE TABLE file_settings (name text PRIMARY KEY, value bytea NOT NULL)",
                "INSERT INTO file_settings (name, value) VALUES ('link-key', decode('\(key)', 'hex'))",
            ])
    }


    private static func name(_ path: ObjectPath) -> Data { Data(path.string.utf8) }

    // MARK: Reading

    func object(at path: ObjectPath) async throws -> FileMetadata? {
        try await database.rows("SELECT * FROM files WHERE name = \(Self.name(path))").first.map(Self.metadata)
    }

    func linkKey() async throws -> [UInt8] {
        guard let row = try await database.rows("SELECT value FROM file_settings WHERE name = 'link-key'").first else {
            throw FlintError(.internal, "the signed-link key is missing from file_settings")
        }
        return Array(try row["value"].decode(Data.self))
    }

    func usage(of uid: String) async throws -> (stored: Int64, pending: Int64) {
        guard
            let row = try await database.rows("""
                SELECT (SELECT COALESCE(SUM(size), 0) FROM files WHERE uploader = \(uid))::bigint AS stored,
                    (SELECT COALESCE(SUM(length), 0) FROM file_uploads WHERE uploader = \(uid))::bigint AS pending
                """
            ).first
        else { return (0, 0) }
        return (try row["stored"].decode(Int64.self), try row["pending"].decode(Int64.self))
    }

    func referencedBlobs() async throws -> Set<String> {
        Set(try await database.rows("SELECT blob FROM files UNION SELECT blob FROM file_uploads").map { try $0["blob"].decode(String.self) })
    }

    func list(prefix: String, delimiter: String?, start: [UInt8]?, pageSize: Int) async throws -> FileListing {
        // One snapshot for every fetch of the page, as SQLite's one read transaction gives.
        try await database.transaction(isolation: "REPEATABLE READ") { connection in
            var scan = FileListingScan(prefix: prefix, delimiter: delimiter, start: start, pageSize: pageSize)
            while let fetch = scan.nextFetch {
                scan.take(
                    try await connection.query(
                        "SELECT * FROM files WHERE name >= \(fetch.lower) AND name < \(fetch.end) ORDER BY name LIMIT \(fetch.limit)", logger: logger
                    ).collect().map { try Self.metadata($0.makeRandomAccess()) })
            }
            var more = false
            if scan.isFull {
                for try await exists in try await connection.query(
                    "SELECT EXISTS (SELECT 1 FROM files WHERE name >= \(Data(scan.lower)) AND name < \(Data(scan.end)))", logger: logger
                ).decode(Bool.self) {
                    more = exists
                }
            }
            return scan.result(more: more)
        }
    }

    // MARK: Writing

    func put(
        _ object: FileMetadataStore.NewObject, expected: Int64?, precondition: ObjectPrecondition?, quota: Int64?, completingUpload upload: String?
    ) async throws -> FileMetadataStore.Outcome<(FileMetadata, replaced: FileMetadata?)> {
        let name = Self.name(object.path)
        return try await database.transaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(hashtextextended(\(object.path.string), 1))", logger: logger)
            let existing = try await connection.query("SELECT * FROM files WHERE name = \(name)", logger: logger).collect().first
                .map { try Self.metadata($0.makeRandomAccess()) }
            guard existing?.generation == expected else { return .changed }
            try precondition?.check(existing, path: object.path)
            if let quota, let uid = object.uploader {
                // Uploads of one user on any server take turns here, so they cannot pass the quota together.
                try await connection.query("SELECT pg_advisory_xact_lock(hashtextextended(\(uid), 2))", logger: logger)
                var others: Int64 = 0
                for try await sum in try await connection.query(
                    "SELECT COALESCE(SUM(size), 0)::bigint FROM files WHERE uploader = \(uid) AND name != \(name)", logger: logger
                ).decode(Int64.self) {
                    others = sum
                }
                guard others + object.blob.size <= quota else {
                    throw FileStorage.quotaError(used: others, adding: object.blob.size, quota: quota)
                }
            }
            var generation: Int64 = 0
            for try await next in try await connection.query("SELECT nextval('file_generation')", logger: logger).decode(Int64.self) {
                generation = next
            }
            let now = Timestamp.now()
            let metadata = object.metadata(generation: generation, at: now)
            try await connection.query(
                """
                INSERT INTO files (name, blob, size, content_type, md5, sha256, generation, metageneration, custom_metadata,
                    content_disposition, cache_control, uploader, create_time, update_time)
                VALUES (\(name), \(metadata.blob), \(metadata.size), \(metadata.contentType), \(Data(metadata.md5)), \(Data(metadata.sha256)),
                    \(generation), 1, \(FileMetadataStore.encode(metadata.customMetadata)), \(metadata.contentDisposition),
                    \(metadata.cacheControl), \(metadata.uploader), \(now.microseconds), \(now.microseconds))
                ON CONFLICT (name) DO UPDATE SET blob = excluded.blob, size = excluded.size, content_type = excluded.content_type,
                    md5 = excluded.md5, sha256 = excluded.sha256, generation = excluded.generation, metageneration = 1,
                    custom_metadata = excluded.custom_metadata, content_disposition = excluded.content_disposition,
                    cache_control = excluded.cache_control, uploader = excluded.uploader, create_time = excluded.create_time,
                    update_time = excluded.update_time
                """, logger: logger)
            if let upload { try await connection.query("DELETE FROM file_uploads WHERE id = \(upload)", logger: logger) }
            return .done((metadata, existing))
        }
    }

    func delete(_ path: ObjectPath, expected: Int64) async throws -> FileMetadataStore.Outcome<Void> {
        try await database.rows("DELETE FROM files WHERE name = \(Self.name(path)) AND generation = \(expected) RETURNING generation").count == 1
            ? .done(()) : .changed
    }

    func update(_ existing: FileMetadata, to attributes: ObjectAttributes) async throws -> FileMetadataStore.Outcome<FileMetadata> {
        let updated = try await database.rows("""
            UPDATE files SET content_type = \(attributes.contentType), custom_metadata = \(FileMetadataStore.encode(attributes.customMetadata)),
                content_disposition = \(attributes.contentDisposition), cache_control = \(attributes.cacheControl),
                metageneration = metageneration + 1, update_time = \(Timestamp.now().microseconds)
            WHERE name = \(Self.name(existing.path)) AND generation = \(existing.generation) AND metageneration = \(existing.metageneration)
            RETURNING *
            """)
        guard let row = updated.first else { return .changed }
        return .done(try Self.metadata(row))
    }

    static func metadata(_ row: PostgresRandomAccessRow) throws -> FileMetadata {
        FileMetadata(
            path: ObjectPath(stored: try row["name"].decode(Data.self)), blob: try row["blob"].decode(String.self),
            size: try row["size"].decode(Int64.self), contentType: try row["content_type"].decode(String.self),
            md5: Array(try row["md5"].decode(Data.self)), sha256: Array(try row["sha256"].decode(Data.self)),
            generation: try row["generation"].decode(Int64.self), metageneration: try row["metageneration"].decode(Int64.self),
            customMetadata: FileMetadataStore.decode(try row["custom_metadata"].decode(String.self)),
            contentDisposition: try row["content_disposition"].decode(String?.self), cacheControl: try row["cache_control"].decode(String?.self),
            uploader: try row["uploader"].decode(String?.self), createTime: Timestamp(microseconds: try row["create_time"].decode(Int64.self)),
            updateTime: Timestamp(microseconds: try row["update_time"].decode(Int64.self)))
    }

    // MARK: Resumable uploads

    func createUpload(_ upload: PendingUpload) async throws {
        try await database.client.query(
            """
            INSERT INTO file_uploads (id, name, blob, length, received, content_type, custom_metadata, raw_metadata, uploader,
                create_time, expire_time)
            VALUES (\(upload.id), \(Self.name(upload.path)), \(upload.blob), \(upload.length), \(upload.offset), \(upload.attributes.contentType),
                \(FileMetadataStore.encode(upload.attributes.customMetadata)), \(upload.rawMetadata), \(upload.uploader),
                \(upload.createTime.microseconds), \(upload.expireTime.microseconds))
            """, logger: logger)
    }

    func upload(id: String) async throws -> PendingUpload? {
        try await database.rows("SELECT * FROM file_uploads WHERE id = \(id)").first.map(Self.upload)
    }

    func advance(_ id: String, from: Int64, to offset: Int64) async throws -> Bool {
        try await database.rows("UPDATE file_uploads SET received = \(offset) WHERE id = \(id) AND received = \(from) RETURNING id").count == 1
    }

    @discardableResult
    func deleteUpload(_ id: String) async throws -> PendingUpload? {
        try await database.rows("DELETE FROM file_uploads WHERE id = \(id) RETURNING *").first.map(Self.upload)
    }

    func expiredUploads(before now: Timestamp, limit: Int) async throws -> [PendingUpload] {
        try await database.rows("SELECT * FROM file_uploads WHERE expire_time < \(now.microseconds) ORDER BY expire_time LIMIT \(limit)").map(Self.upload)
    }

    private static func upload(_ row: PostgresRandomAccessRow) throws -> PendingUpload {
        PendingUpload(
            id: try row["id"].decode(String.self), path: ObjectPath(stored: try row["name"].decode(Data.self)),
            blob: try row["blob"].decode(String.self), length: try row["length"].decode(Int64.self), offset: try row["received"].decode(Int64.self),
            attributes: ObjectAttributes(
                contentType: try row["content_type"].decode(String.self),
                customMetadata: FileMetadataStore.decode(try row["custom_metadata"].decode(String.self))),
            rawMetadata: try row["raw_metadata"].decode(String.self), uploader: try row["uploader"].decode(String?.self),
            createTime: Timestamp(microseconds: try row["create_time"].decode(Int64.self)),
            expireTime: Timestamp(microseconds: try row["expire_time"].decode(Int64.self)))
    }
}
