import FlintCore

/// What a file operation does, in the words of Firebase Storage rules (`read` is get and list; `write` is create,
/// update and delete).
public enum FileMethod: String, Sendable {
    case get, list, create, update, delete
}

/// An object as a write would leave it: what rules see as `request.resource`.
public struct IncomingFile: Sendable, Equatable {
    /// Bytes: the declared length before an upload's body arrives, the actual length before it becomes visible.
    public var size: Int64
    public var contentType: String
    /// The custom metadata.
    public var metadata: [String: String]
}

/// One file operation to decide on.
public struct FileAccess: Sendable {
    public var method: FileMethod
    /// The object's path; for `list`, the prefix listed (`""` for everything, or a path that may end with `/`).
    public var path: String
    /// The caller, when the request carried an access token.
    public var identity: Identity?
    /// The object as it is now (`resource` in rules); nil when there is none, and for `list`.
    public var existing: FileMetadata?
    /// The object as the write would leave it (`request.resource`): uploads and metadata updates.
    public var incoming: IncomingFile?
}

/// Decides whether a file operation may go ahead: the storage security rules (`FileAuthorizer.storageRules`).
///
/// Every file route asks it before acting: uploads (simple and tus, at creation with the declared length and again
/// with the final one before the object becomes visible), downloads and `HEAD`, metadata reads and updates, deletes,
/// listings and signing a link. A signed link's download is authorised by its signature instead.
public struct FileAuthorizer: Sendable {
    /// Returns when the operation may go ahead; throws `FlintError` with `permission-denied` or `unauthenticated`
    /// when it may not.
    public let decide: @Sendable (FileAccess) async throws -> Void

    public init(decide: @escaping @Sendable (FileAccess) async throws -> Void) {
        self.decide = decide
    }
}
