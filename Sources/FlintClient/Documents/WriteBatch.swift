import FlintCore
import Synchronization

/// Writes to several documents applied together: all of them or none. A batch goes through the queue like any write,
/// so it works offline: it shows in listeners at once and is sent when the connection is back.
///
/// ```swift
/// try await app.batch()
///     .setData(["name": "Lobby"], forDocument: app.document("rooms/r1"))
///     .updateData(["rooms": .increment(1)], forDocument: app.document("stats/all"))
///     .commit()
/// ```
public final class WriteBatch: Sendable {
    let app: FlintApp
    private let state = Mutex<(writes: [Write], problem: FlintError?)>(([], nil))

    init(app: FlintApp) { self.app = app }

    /// Replaces (or, with `merge`, merges into) a document.
    @discardableResult
    public func setData(_ data: [String: FieldValue], forDocument document: DocumentReference, merge: Bool = false) -> WriteBatch {
        add { () throws(FlintError) in try WriteBuilder.set(try document.resolvedPath(), data, merge: merge) }
    }

    /// `setData` with the fields of an `Encodable` value.
    @discardableResult
    public func setData<T: Encodable>(from value: T, forDocument document: DocumentReference, merge: Bool = false) -> WriteBatch {
        do {
            return setData(try FlintEncoder().encode(value).fieldValues, forDocument: document, merge: merge)
        } catch {
            state.withLock { if $0.problem == nil { $0.problem = FlintError(.invalidArgument, "the value cannot be encoded as a document: \(error)") } }
            return self
        }
    }

    /// Changes fields of an existing document (keys are dotted field paths).
    @discardableResult
    public func updateData(_ fields: [String: FieldValue], forDocument document: DocumentReference) -> WriteBatch {
        add { () throws(FlintError) in try WriteBuilder.update(try document.resolvedPath(), fields) }
    }

    /// Deletes a document.
    @discardableResult
    public func deleteDocument(_ document: DocumentReference) -> WriteBatch {
        add { () throws(FlintError) in WriteBuilder.delete(try document.resolvedPath()) }
    }

    private func add(_ make: () throws(FlintError) -> Write) -> WriteBatch {
        state.withLock { state in
            do throws(FlintError) {
                state.writes.append(try make())
            } catch {
                if state.problem == nil { state.problem = error }
            }
        }
        return self
    }

    /// Applies the batch locally at once and queues it for the server.
    /// - Parameter waitForServer: return only once the server has acknowledged the batch (the default), throwing its
    ///   error if it refuses it; with `false`, return as soon as the batch is queued (a refusal is then reported on
    ///   `FlintApp.rejectedWrites()`).
    public func commit(waitForServer: Bool = true) async throws {
        let (writes, problem) = state.withLock { $0 }
        if let problem { throw problem }
        guard !writes.isEmpty else { return }
        try await app.engine.write(writes, waitForServer: waitForServer)
    }
}
