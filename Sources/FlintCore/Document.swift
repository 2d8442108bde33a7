/// A stored document: its path, its fields and the bookkeeping the store keeps for it.
public struct Document: Sendable, Equatable {
    public var path: DocumentPath
    /// The document's fields, a map from field name to value.
    public var fields: [String: Value]
    /// When the document was created (its latest creation, after a delete).
    public var createTime: Timestamp
    /// When the document was last written.
    public var updateTime: Timestamp
    /// The sequence number of the commit that last wrote the document; also its HTTP `ETag`.
    public var version: Int64

    public init(path: DocumentPath, fields: [String: Value], createTime: Timestamp, updateTime: Timestamp, version: Int64) {
        self.path = path
        self.fields = fields
        self.createTime = createTime
        self.updateTime = updateTime
        self.version = version
    }

    /// The value at a field path; `__name__` gives the document's own path as a reference.
    public func value(at field: FieldPath) -> Value? {
        if field.isDocumentName { return .reference(path) }
        guard let first = field.segments.first, let top = fields[first] else { return nil }
        return top.value(at: field.segments.dropFirst())
    }

    /// The document as the API returns it: `path`, `id`, `data`, `createTime`, `updateTime`, `version`.
    public var json: JSON {
        .object([
            "path": .string(path.description),
            "id": .string(path.id),
            "data": Value.map(fields).json,
            "createTime": .string(createTime.description),
            "updateTime": .string(updateTime.description),
            "version": .integer(version),
        ])
    }
}

/// The largest encoded document, in bytes of its JSON form, as in Firestore (1 MiB).
public let maximumDocumentBytes = 1_048_576
