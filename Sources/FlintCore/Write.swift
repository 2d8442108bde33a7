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

    public init(writes: [Write]) throws(FlintError) {
        guard !writes.isEmpty else { throw .invalidArgument("a commit needs at least one write") }
        guard writes.count <= Commit.maximumWrites else {
            throw .invalidArgument("a commit has \(writes.count) writes; at most \(Commit.maximumWrites) are allowed")
        }
        self.writes = writes
    }
}

/// What a write did, as the commit's answer reports it.
public struct WriteResult: Sendable, Equatable {
    public var path: DocumentPath
    /// The document after the write; nil when the write deleted it.
    public var document: Document?
    /// The commit's time, also the document's new `updateTime`.
    public var updateTime: Timestamp
    /// The commit's sequence number, also the document's new `version`.
    public var version: Int64

    public init(path: DocumentPath, document: Document?, updateTime: Timestamp, version: Int64) {
        self.path = path
        self.document = document
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
                    "exists": .bool(result.document != nil),
                    "updateTime": .string(result.updateTime.description),
                    "version": .integer(result.version),
                ])
            }),
        ])
    }
}
