/// One write of a commit: set, update or delete one document, with field transforms and an optional precondition.
public struct Write: Sendable, Equatable {
    public enum Operation: Sendable, Equatable {
        /// Replace the document with `data` (or, with `merge`, merge `data` into it field by field); create it if missing.
        case set(data: [String: Value], merge: Bool)
        /// Change the fields in `mask` to their values in `data`; a masked field absent from `data` is deleted.
        /// Without a mask, every leaf field of `data` is the mask (a deep merge). Updates read from JSON always carry
        /// a mask: the one given, or the field paths written as the keys of `data`. Creates the document if missing, unless a
        /// precondition says otherwise (as Firestore's REST `patch` does).
        case update(data: [String: Value], mask: [FieldPath]?)
        /// Remove the document; deleting a missing document is not an error.
        case delete
    }

    public var path: DocumentPath
    public var operation: Operation
    /// Applied after `data`, in order (not allowed on `delete`).
    public var transforms: [FieldTransform]
    public var precondition: Precondition?

    public init(path: DocumentPath, operation: Operation, transforms: [FieldTransform] = [], precondition: Precondition? = nil) {
        self.path = path
        self.operation = operation
        self.transforms = transforms
        self.precondition = precondition
    }

    /// A condition on the stored document that must hold for the commit to apply.
    public enum Precondition: Sendable, Equatable {
        case exists(Bool)
        case updateTime(Timestamp)
        case version(Int64)
    }

    /// A change to one field computed from its current value at commit time.
    public struct FieldTransform: Sendable, Equatable {
        public enum Kind: Sendable, Equatable {
            case serverTimestamp
            case increment(Value)
            case maximum(Value)
            case minimum(Value)
            case arrayUnion([Value])
            case arrayRemove([Value])
            case delete
        }

        public var field: FieldPath
        public var kind: Kind

        public init(field: FieldPath, kind: Kind) {
            self.field = field
            self.kind = kind
        }
    }
}

/// An atomic batch of writes: all apply, or none.
public struct Commit: Sendable, Equatable {
    /// The most writes one commit may carry, as in Firestore.
    public static let maximumWrites = 500

    public var writes: [Write]
    /// The versions of documents (0: absent) that the commit was authorised against: the security rules saw these
    /// states, so the commit applies only if each document is still at its version, and fails with `aborted` otherwise
    /// (the caller checks the rules again and retries). Not part of the wire format.
    public var expectedVersions: [DocumentPath: Int64] = [:]
    /// The client's id for this mutation (the SDK sends a UUID): when a commit with the same id from the same caller
    /// has already been applied, the server answers that commit's result again instead of applying it twice, so a
    /// client may resend a commit whose answer it never saw. Not part of the commit's effect.
    public var mutationId: String?

    /// The most UTF-8 bytes a mutation id may have.
    public static let maximumMutationIdBytes = 128

    public init(writes: [Write], mutationId: String? = nil) throws(FlintError) {
        guard !writes.isEmpty else { throw .invalidArgument("a commit needs at least one write") }
        guard writes.count <= Commit.maximumWrites else {
            throw .invalidArgument("a commit has \(writes.count) writes; at most \(Commit.maximumWrites) are allowed")
        }
        if let mutationId {
            guard !mutationId.isEmpty, mutationId.utf8.count <= Commit.maximumMutationIdBytes else {
                throw .invalidArgument("commit.mutationId must be a string of 1 to \(Commit.maximumMutationIdBytes) bytes")
            }
        }
        self.writes = writes
        self.mutationId = mutationId
    }
}

/// What a write did, as the commit's answer reports it.
public struct WriteResult: Sendable, Equatable {
    public var path: DocumentPath
    /// The document after the write; nil when the write deleted it, and in a result answered again for a repeated
    /// mutation id (the server keeps only what the JSON answer says: see `exists`).
    public var document: Document?
    /// Whether the document exists after the write.
    public var exists: Bool
    /// The commit's time, also the document's new `updateTime`.
    public var updateTime: Timestamp
    /// The commit's sequence number, also the document's new `version`.
    public var version: Int64

    public init(path: DocumentPath, document: Document?, updateTime: Timestamp, version: Int64) {
        self.path = path
        self.document = document
        self.exists = document != nil
        self.updateTime = updateTime
        self.version = version
    }

    /// A result known only from its JSON form, without the document's fields.
    public init(path: DocumentPath, exists: Bool, updateTime: Timestamp, version: Int64) {
        self.path = path
        self.document = nil
        self.exists = exists
        self.updateTime = updateTime
        self.version = version
    }
}

/// The outcome of a commit: its sequence number and time, and one result per write.
public struct CommitResult: Sendable, Equatable {
    public var version: Int64
    public var commitTime: Timestamp
    public var writeResults: [WriteResult]

    public init(version: Int64, commitTime: Timestamp, writeResults: [WriteResult]) {
        self.version = version
        self.commitTime = commitTime
        self.writeResults = writeResults
    }

    /// `{"version": n, "commitTime": "…", "writeResults": [{"path", "exists", "updateTime", "version"}]}`.
    public var json: JSON {
        .object([
            "version": .integer(version),
            "commitTime": .string(commitTime.description),
            "writeResults": .array(writeResults.map { result in
                .object([
                    "path": .string(result.path.description),
                    "exists": .bool(result.exists),
                    "updateTime": .string(result.updateTime.description),
                    "version": .integer(result.version),
                ])
            }),
        ])
    }

    /// Reads the JSON form `json` gives (as the server answers a commit).
    public init(json: JSON) throws(FlintError) {
        let object = try JSONObject(json, context: "commitResult")
        guard let version = try object.optionalInteger("version") else { throw .invalidArgument("commitResult.version is missing") }
        guard let time = Timestamp(rfc3339: try object.string("commitTime")) else {
            throw .invalidArgument("commitResult.commitTime must be an RFC 3339 timestamp")
        }
        guard case .array(let items)? = object["writeResults"] else { throw .invalidArgument("commitResult.writeResults must be an array") }
        var results: [WriteResult] = []
        for (i, item) in items.enumerated() {
            let result = try JSONObject(item, context: "commitResult.writeResults[\(i)]")
            let path: DocumentPath
            do {
                path = try DocumentPath(try result.string("path"))
            } catch {
                throw .invalidArgument("commitResult.writeResults[\(i)].path: \(error.message)")
            }
            guard let updateTime = Timestamp(rfc3339: try result.string("updateTime")) else {
                throw .invalidArgument("commitResult.writeResults[\(i)].updateTime must be an RFC 3339 timestamp")
            }
            results.append(
                WriteResult(
                    path: path, exists: try result.optionalBool("exists") ?? false, updateTime: updateTime,
                    version: try result.optionalInteger("version") ?? version))
        }
        self.init(version: version, commitTime: time, writeResults: results)
    }
}
