import FlintCore

/// Where the metadata of stored objects and resumable uploads lives (the bytes are in a `BlobStore`). One seam, two
/// stores: `FileMetadataStore` in the server's SQLite database, `PostgresFileMetadataStore` when several servers share
/// PostgreSQL. The value types they exchange are `FileMetadataStore`'s nested types, shared by both.
///
/// Each write is one transaction that checks what the caller last saw (and authorised) before it changes anything.
protocol FileMetadataStorage: Sendable {
    // MARK: Objects

    /// The object at `path`, if any.
    func object(at path: ObjectPath) async throws -> FileMetadata?
    /// Makes `object` the object at its path, if the path still holds `expected` (its generation; nil for none).
    /// Checks the precondition and the uploader's quota (`nil`: unlimited) in the same transaction, and, when
    /// completing a resumable upload, removes it in the same transaction too.
    /// - Returns: the new metadata and the replaced object (whose blob the caller removes).
    func put(
        _ object: FileMetadataStore.NewObject, expected: Int64?, precondition: ObjectPrecondition?, quota: Int64?, completingUpload upload: String?
    ) async throws -> FileMetadataStore.Outcome<(FileMetadata, replaced: FileMetadata?)>
    /// Removes the object at `path` if it is still generation `expected`.
    func delete(_ path: ObjectPath, expected: Int64) async throws -> FileMetadataStore.Outcome<Void>
    /// Replaces the attributes of `existing` (same generation and metageneration still), counting a new metageneration.
    func update(_ existing: FileMetadata, to attributes: ObjectAttributes) async throws -> FileMetadataStore.Outcome<FileMetadata>
    /// Lists the objects whose names start with `prefix`, in byte order of their names, from the key `start`
    /// (inclusive) on. With a `delimiter`, the names that contain it after the prefix are rolled up into one common
    /// prefix each (up to and including the delimiter). Items and prefixes together fill at most `pageSize` entries.
    func list(prefix: String, delimiter: String?, start: [UInt8]?, pageSize: Int) async throws -> FileListing

    // MARK: Bookkeeping

    /// The key that signs links, made once when the tables were created.
    func linkKey() async throws -> [UInt8]
    /// Bytes stored in objects uploaded by `uid`, and declared by its unfinished uploads.
    func usage(of uid: String) async throws -> (stored: Int64, pending: Int64)
    /// Every blob the metadata refers to: objects' and unfinished uploads'.
    func referencedBlobs() async throws -> Set<String>

    // MARK: Resumable uploads

    func createUpload(_ upload: PendingUpload) async throws
    func upload(id: String) async throws -> PendingUpload?
    /// Records that the upload's bytes reach `offset` now (they reached `from` before); false if it is gone or moved.
    func advance(_ id: String, from: Int64, to offset: Int64) async throws -> Bool
    /// Forgets an upload; returns it if it was there (the caller removes its blob).
    @discardableResult
    func deleteUpload(_ id: String) async throws -> PendingUpload?
    /// Uploads that expired before `now`, at most `limit` of them.
    func expiredUploads(before now: Timestamp, limit: Int) async throws -> [PendingUpload]
}

extension FileMetadataStorage {
    func put(
        _ object: FileMetadataStore.NewObject, expected: Int64?, precondition: ObjectPrecondition?, quota: Int64?
    ) async throws -> FileMetadataStore.Outcome<(FileMetadata, replaced: FileMetadata?)> {
        try await put(object, expected: expected, precondition: precondition, quota: quota, completingUpload: nil)
    }

    func expiredUploads(before now: Timestamp) async throws -> [PendingUpload] {
        try await expiredUploads(before: now, limit: 1000)
    }
}
