import FlintCore
import Foundation
import GRDB

/// A resumable upload in progress: where it will land, how long it is, how far it has come.
struct PendingUpload: Sendable, Equatable {
    var id: String
    var path: ObjectPath
    /// The partial blob its bytes go to.
    var blob: String
    var length: Int64
    /// The bytes received and synced so far.
    var offset: Int64
    var attributes: ObjectAttributes
    /// `Upload-Metadata` as the client sent it, returned by `HEAD`.
    var rawMetadata: String
    var uploader: String?
    var createTime: Timestamp
    var expireTime: Timestamp
}

extension FileMetadataStore {
    func createUpload(_ upload: PendingUpload) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO file_uploads (id, name, blob, length, offset, content_type, custom_metadata, raw_metadata,
                        uploader, create_time, expire_time)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    upload.id, Data(upload.path.string.utf8), upload.blob, upload.length, upload.offset, upload.attributes.contentType,
                    Self.encode(upload.attributes.customMetadata), upload.rawMetadata, upload.uploader, upload.createTime.microseconds,
                    upload.expireTime.microseconds,
                ])
        }
    }

    func upload(id: String) async throws -> PendingUpload? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM file_uploads WHERE id = ?", arguments: [id]).map(Self.upload)
        }
    }

    /// Records that the upload's bytes reach `offset` now (they reached `from` before); false if it is gone or moved.
    func advance(_ id: String, from: Int64, to offset: Int64) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "UPDATE file_uploads SET offset = ? WHERE id = ? AND offset = ?", arguments: [offset, id, from])
            return db.changesCount == 1
        }
    }

    /// Forgets an upload; returns it if it was there (the caller removes its blob).
    @discardableResult
    func deleteUpload(_ id: String) async throws -> PendingUpload? {
        try await pool.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM file_uploads WHERE id = ?", arguments: [id]) else { return nil }
            try db.execute(sql: "DELETE FROM file_uploads WHERE id = ?", arguments: [id])
            return Self.upload(row)
        }
    }

    /// Uploads that expired before `now`, at most `limit` of them.
    func expiredUploads(before now: Timestamp, limit: Int) async throws -> [PendingUpload] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM file_uploads WHERE expire_time < ? ORDER BY expire_time LIMIT ?", arguments: [now.microseconds, limit]
            ).map(Self.upload)
        }
    }

    private static func upload(_ row: Row) -> PendingUpload {
        PendingUpload(
            id: row["id"], path: ObjectPath(stored: row["name"] as Data), blob: row["blob"], length: row["length"], offset: row["offset"],
            attributes: ObjectAttributes(contentType: row["content_type"], customMetadata: decode(row["custom_metadata"])),
            rawMetadata: row["raw_metadata"], uploader: row["uploader"], createTime: Timestamp(microseconds: row["create_time"]),
            expireTime: Timestamp(microseconds: row["expire_time"]))
    }
}
