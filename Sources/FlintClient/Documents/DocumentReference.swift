import FlintCore
import NIOHTTP1

/// A document's location: read it, write it, listen to it. Making a reference does no I/O and never fails; an invalid
/// path is reported by the first operation on it.
public struct DocumentReference: Sendable, Hashable, CustomStringConvertible {
    let app: FlintApp
    let location: Result<DocumentPath, FlintError>
    /// The slash-separated path, `rooms/r1`.
    public let path: String

    init(app: FlintApp, path: String) {
        self.app = app
        self.path = path
        do {
            location = .success(try DocumentPath(path))
        } catch {
            location = .failure(error)
        }
    }

    init(app: FlintApp, path: DocumentPath) {
        self.app = app
        self.path = path.description
        location = .success(path)
    }

    /// The document's id, the last segment of its path.
    public var documentID: String { path.split(separator: "/").last.map(String.init) ?? path }
    /// The collection that holds the document.
    public var parent: CollectionReference {
        CollectionReference(app: app, path: path.split(separator: "/").dropLast().joined(separator: "/"))
    }
    /// A subcollection of this document.
    public func collection(_ id: String) -> CollectionReference { CollectionReference(app: app, path: path + "/" + id) }

    public var description: String { path }
    public static func == (lhs: DocumentReference, rhs: DocumentReference) -> Bool { lhs.path == rhs.path && lhs.app === rhs.app }
    public func hash(into hasher: inout Hasher) { hasher.combine(path) }

    func resolvedPath() throws(FlintError) -> DocumentPath { try location.get() }

    // MARK: Reading

    /// Reads the document: from the server (with this app's pending writes over it), or from the cache when the
    /// server cannot be reached (`.default`); only from one of them with `.server` or `.cache`.
    public func getDocument(source: Source = .default) async throws -> DocumentSnapshot {
        let path = try resolvedPath()
        if source != .cache {
            do {
                let asOf = await app.engine.knownSequence
                let document = try await serverDocument(path)
                let view = try await app.engine.fetched(document, path: path, asOf: asOf)
                return DocumentSnapshot(
                    reference: self, document: view.document?.document,
                    metadata: SnapshotMetadata(isFromCache: false, hasPendingWrites: view.hasPendingWrites))
            } catch let error as FlintError where error.code == .unavailable && source == .default {
                // Offline: the cache answers below.
            }
        }
        guard let cached = try await app.engine.cachedDocument(path) else {
            throw FlintError(.unavailable, "\(path) is not in the cache and the server could not be reached")
        }
        return DocumentSnapshot(
            reference: self, document: cached.document?.document, metadata: SnapshotMetadata(isFromCache: true, hasPendingWrites: cached.hasPendingWrites))
    }

    /// The document as the server has it (nil: missing), without this app's pending writes.
    func serverDocument(_ path: DocumentPath) async throws -> Document? {
        let reply = try await app.rest.send(.GET, "/v1/documents/" + RESTClient.encode(path.segments), token: try await app.auth.accessToken())
        if reply.status.code == 404 { return nil }
        try RESTClient.check(reply)
        return try SyncEngine.document(try reply.json)
    }

    /// The document now and after every change, as an `AsyncSequence` of snapshots. The sequence ends with an error
    /// when the server refuses the listener (security rules); cancelling the iterating task ends the listener.
    /// - Parameter includeMetadataChanges: also deliver snapshots whose only change is their metadata (a pending
    ///   write acknowledged, the connection lost or regained).
    public func snapshots(includeMetadataChanges: Bool = false) -> AsyncThrowingStream<DocumentSnapshot, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: DocumentSnapshot.self)
        do {
            let path = try resolvedPath()
            app.startListening(.document(path), sink: .document(self, continuation), includeMetadataChanges: includeMetadataChanges)
        } catch {
            continuation.finish(throwing: error)
        }
        return stream
    }

    // MARK: Writing

    /// Replaces the document with `data` (with `merge`, merges the given fields into it), creating it if needed.
    /// The write shows in this app's listeners at once; the call returns when the server has acknowledged it
    /// (offline, when the connection is back) and throws the server's error if it refuses it.
    public func setData(_ data: [String: FieldValue], merge: Bool = false) async throws {
        try await app.engine.write([try WriteBuilder.set(try resolvedPath(), data, merge: merge)], waitForServer: true)
    }

    /// `setData` with the fields of an `Encodable` value (see `FlintEncoder`).
    public func setData<T: Encodable>(from value: T, merge: Bool = false) async throws {
        try await setData(try FlintEncoder().encode(value).fieldValues, merge: merge)
    }

    /// Changes the named fields of the existing document: keys are dotted field paths (`"address.city"`), values
    /// are values or transforms (`.increment(1)`, `.serverTimestamp()`, `.arrayUnion([…])`, `.delete()`…).
    /// - Throws: `not-found` when the document does not exist.
    public func updateData(_ fields: [String: FieldValue]) async throws {
        try await app.engine.write([try WriteBuilder.update(try resolvedPath(), fields)], waitForServer: true)
    }

    /// Deletes the document (deleting a missing document is not an error).
    public func delete() async throws {
        try await app.engine.write([WriteBuilder.delete(try resolvedPath())], waitForServer: true)
    }
}
