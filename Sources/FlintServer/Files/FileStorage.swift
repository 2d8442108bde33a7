import FlintCore
import HTTPTypes
import Logging

/// The limits on files, from the configuration.
struct FileLimits: Sendable {
    /// The largest object, in bytes.
    var maximumSize: Int64 = 100 * 1024 * 1024
    var contentTypes: ContentTypePolicy = .anything
    /// Bytes each user may store (admins are exempt); nil for no limit.
    var quotaPerUser: Int64? = nil
    /// How long an unfinished resumable upload is kept, in seconds.
    var uploadExpirySeconds: Int64 = 24 * 3600
    /// The longest lifetime of a signed link, in seconds.
    var linkMaximumLifetimeSeconds: Int64 = 7 * 24 * 3600
}

/// Files as every route uses them: the one place that authorises, checks limits and commits, so that simple and
/// resumable uploads, downloads and metadata updates all follow the same rules.
struct FileStorage: Sendable {
    let blobs: any BlobStore
    let metadata: any FileMetadataStorage
    let authorizer: FileAuthorizer
    let limits: FileLimits
    let logger: Logger
    /// The resumable uploads being written to now (shared with the housekeeper, which leaves them alone).
    let uploadLocks = UploadLocks()

    /// How many times a write is retried when the object changes between its authorisation and its commit.
    static var maximumAttempts: Int { 16 }

    // MARK: Reads

    /// The object at `path` for a read (`get`: download, `HEAD`, metadata, signing a link), authorised.
    /// - Throws: the authorizer's error, or `not-found` when allowed but absent.
    func readable(_ path: ObjectPath, identity: Identity?) async throws -> FileMetadata {
        let existing = try await metadata.object(at: path)
        try await authorizer.decide(FileAccess(method: .get, path: path.string, identity: identity, existing: existing))
        guard let existing else { throw FlintError.notFound("no file at \(path)") }
        return existing
    }

    /// A page of the objects under `prefix`, authorised as a `list` of the prefix.
    func list(prefix: String, delimiter: String?, start: [UInt8]?, pageSize: Int, identity: Identity?) async throws -> FileListing {
        try await authorizer.decide(FileAccess(method: .list, path: prefix, identity: identity))
        return try await metadata.list(prefix: prefix, delimiter: delimiter, start: start, pageSize: pageSize)
    }

    // MARK: Writes

    /// Checks an upload before its bytes come: the declared size against the limit and the quota, the precondition
    /// against the object as it is, and the authorizer. The same checks run again, with the final size, in `commit`.
    func admit(_ path: ObjectPath, attributes: ObjectAttributes, size: Int64, identity: Identity?, precondition: ObjectPrecondition?) async throws {
        guard size <= limits.maximumSize else { throw Self.tooLarge(size, limit: limits.maximumSize) }
        let existing = try await metadata.object(at: path)
        try await authorizer.decide(
            FileAccess(
                method: existing == nil ? .create : .update, path: path.string, identity: identity, existing: existing,
                incoming: IncomingFile(size: size, contentType: attributes.contentType, metadata: attributes.customMetadata)))
        try precondition?.check(existing, path: path)
        if let quota = quota(for: identity), let uid = identity?.uid {
            let usage = try await metadata.usage(of: uid)
            let replaced = existing?.uploader == uid ? existing?.size ?? 0 : 0
            let used = usage.stored - replaced + usage.pending
            guard used + size <= quota else { throw Self.quotaError(used: used, adding: size, quota: quota) }
        }
    }

    /// Makes a stored blob the object at `path`: authorised with its final size (as a create or an update of the
    /// object there now), under the precondition and the quota, then committed, all against the same version of the
    /// object (retried if it changes meanwhile). The replaced object's blob is removed.
    /// - Parameter upload: the resumable upload this completes, removed in the same transaction.
    /// - Returns: the new metadata, and whether the object is new.
    func commit(
        _ blob: StoredBlob, to path: ObjectPath, attributes: ObjectAttributes, identity: Identity?, precondition: ObjectPrecondition?,
        completingUpload upload: String? = nil
    ) async throws -> (FileMetadata, created: Bool) {
        guard blob.size <= limits.maximumSize else { throw Self.tooLarge(blob.size, limit: limits.maximumSize) }
        for _ in 0..<Self.maximumAttempts {
            let existing = try await metadata.object(at: path)
            try precondition?.check(existing, path: path)
            try await authorizer.decide(
                FileAccess(
                    method: existing == nil ? .create : .update, path: path.string, identity: identity, existing: existing,
                    incoming: IncomingFile(size: blob.size, contentType: attributes.contentType, metadata: attributes.customMetadata)))
            let object = FileMetadataStore.NewObject(path: path, blob: blob, attributes: attributes, uploader: identity?.uid)
            switch try await metadata.put(
                object, expected: existing?.generation, precondition: precondition, quota: quota(for: identity), completingUpload: upload)
            {
            case .done(let (stored, replaced)):
                if let replaced { await removeBlob(replaced.blob) }
                return (stored, replaced == nil)
            case .changed:
                continue
            }
        }
        throw FlintError(.aborted, "\(path) kept changing while this upload was committed; try again")
    }

    /// Deletes the object at `path`, authorised, under the precondition.
    func delete(_ path: ObjectPath, identity: Identity?, precondition: ObjectPrecondition?) async throws {
        for _ in 0..<Self.maximumAttempts {
            let existing = try await metadata.object(at: path)
            try await authorizer.decide(FileAccess(method: .delete, path: path.string, identity: identity, existing: existing))
            guard let existing else { throw FlintError.notFound("no file at \(path)") }
            try precondition?.check(existing, path: path)
            if case .done = try await metadata.delete(path, expected: existing.generation) {
                await removeBlob(existing.blob)
                return
            }
        }
        throw FlintError(.aborted, "\(path) kept changing while it was deleted; try again")
    }

    /// Changes an object's attributes (content type, custom metadata, disposition, cache control), authorised as an
    /// update that keeps the bytes.
    func update(
        _ path: ObjectPath, identity: Identity?, precondition: ObjectPrecondition?,
        change: (FileMetadata) throws -> ObjectAttributes
    ) async throws -> FileMetadata {
        for _ in 0..<Self.maximumAttempts {
            let existing = try await metadata.object(at: path)
            guard let found = existing else {
                try await authorizer.decide(FileAccess(method: .update, path: path.string, identity: identity))
                throw FlintError.notFound("no file at \(path)")
            }
            let attributes = try change(found)
            try await authorizer.decide(
                FileAccess(
                    method: .update, path: path.string, identity: identity, existing: found,
                    incoming: found.incoming(contentType: attributes.contentType, metadata: attributes.customMetadata)))
            try precondition?.check(found, path: path)
            if case .done(let updated) = try await metadata.update(found, to: attributes) { return updated }
        }
        throw FlintError(.aborted, "\(path) kept changing while its metadata was updated; try again")
    }

    // MARK: Helpers

    /// The quota that applies to a caller: none for admins and for requests without an identity.
    func quota(for identity: Identity?) -> Int64? {
        guard let identity, !identity.isAdmin else { return nil }
        return limits.quotaPerUser
    }

    /// Removes a blob nobody refers to any more; a failure only leaves an orphan for the housekeeper.
    func removeBlob(_ blob: String) async {
        do {
            try await blobs.remove(blob)
        } catch {
            logger.warning("could not remove a replaced blob; the housekeeper will", metadata: ["blob": "\(blob)", "error": "\(error)"])
        }
    }

    static func quotaError(used: Int64, adding size: Int64, quota: Int64) -> FlintError {
        FlintError(
            .resourceExhausted,
            "this upload of \(size) bytes would exceed your storage quota of \(quota) bytes (\(used) in use; FLINT_FILE_QUOTA)")
    }

    static func tooLarge(_ size: Int64, limit: Int64) -> FileHTTPError {
        FileHTTPError(
            FlintError(.resourceExhausted, "a file is at most \(limit) bytes (FLINT_MAX_FILE_SIZE); this one has \(size)"),
            status: .contentTooLarge)
    }
}

extension FileLimits {
    /// The limits the configuration sets.
    init(_ configuration: Configuration) {
        self.init(
            maximumSize: Int64(configuration.maximumFileSize), contentTypes: ContentTypePolicy(allowed: configuration.fileContentTypes),
            quotaPerUser: configuration.fileQuotaPerUser > 0 ? Int64(configuration.fileQuotaPerUser) : nil,
            uploadExpirySeconds: Int64(configuration.uploadExpirySeconds),
            linkMaximumLifetimeSeconds: Int64(configuration.signedLinkMaximumLifetimeSeconds))
    }
}
