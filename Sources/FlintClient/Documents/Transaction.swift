import FlintCore
import NIOHTTP1
import Foundation
import Synchronization

/// The reads and writes of one attempt of `FlintApp.runTransaction`. Read first, then write: every document read
/// is read from the server, and the writes are committed on the condition that each written document that was read
/// is still at the version read (or still missing). Transactions need the server: offline they fail with `unavailable`.
public final class Transaction: Sendable {
    let app: FlintApp
    private struct State {
        var reads: [DocumentPath: Int64] = [:]  // 0: read as missing
        var writes: [Write] = []
        var problem: FlintError?
    }

    private let state = Mutex(State())

    init(app: FlintApp) { self.app = app }

    /// Reads a document from the server and remembers its version for the commit.
    public func getDocument(_ document: DocumentReference) async throws -> DocumentSnapshot {
        if state.withLock({ !$0.writes.isEmpty }) {
            throw FlintError(.invalidArgument, "a transaction must do all its reads before its writes")
        }
        let path = try document.resolvedPath()
        // The server's state, not this app's pending writes over it: that is what the commit is conditioned on.
        let asOf = await app.engine.knownSequence
        let current = try await document.serverDocument(path)
        _ = try await app.engine.fetched(current, path: path, asOf: asOf)
        let version = current?.version ?? 0
        try state.withLock { state throws(FlintError) in
            if let earlier = state.reads[path], earlier != version {
                throw FlintError(.aborted, "\(path) changed between two reads of the transaction")
            }
            state.reads[path] = version
        }
        return DocumentSnapshot(reference: document, document: current, metadata: SnapshotMetadata(isFromCache: false, hasPendingWrites: false))
    }

    public func setData(_ data: [String: FieldValue], forDocument document: DocumentReference, merge: Bool = false) {
        add { () throws(FlintError) in try WriteBuilder.set(try document.resolvedPath(), data, merge: merge) }
    }

    public func setData<T: Encodable>(from value: T, forDocument document: DocumentReference, merge: Bool = false) throws {
        setData(try FlintEncoder().encode(value).fieldValues, forDocument: document, merge: merge)
    }

    public func updateData(_ fields: [String: FieldValue], forDocument document: DocumentReference) {
        add { () throws(FlintError) in try WriteBuilder.update(try document.resolvedPath(), fields) }
    }

    public func deleteDocument(_ document: DocumentReference) {
        add { () throws(FlintError) in WriteBuilder.delete(try document.resolvedPath()) }
    }

    private func add(_ make: () throws(FlintError) -> Write) {
        state.withLock { state in
            do throws(FlintError) {
                state.writes.append(try make())
            } catch {
                if state.problem == nil { state.problem = error }
            }
        }
    }

    /// The commit: each written document that was read gets a precondition on the version read.
    func commit() throws(FlintError) -> Commit? {
        let (reads, writes, problem) = state.withLock { ($0.reads, $0.writes, $0.problem) }
        if let problem { throw problem }
        guard !writes.isEmpty else { return nil }
        var conditioned = Set<DocumentPath>()
        var result: [Write] = []
        for var write in writes {
            if let version = reads[write.path], !conditioned.contains(write.path) {
                conditioned.insert(write.path)
                if version == 0, case .update = write.operation {
                    throw FlintError(.notFound, "\(write.path) does not exist, so it cannot be updated")
                }
                write.precondition = version == 0 ? .exists(false) : .version(version)
            }
            result.append(write)
        }
        return try Commit(writes: result, mutationId: UUID().uuidString)
    }
}

extension FlintApp {
    /// Runs `body` and commits its writes atomically, on the condition that no document it read and wrote changed
    /// meanwhile; on such a conflict, runs it again after a random pause (up to `maxAttempts` attempts, as Firestore's
    /// `TransactionOptions`). Documents only read, not written, are not checked again at the commit. Needs the
    /// server: offline, fails with `unavailable`.
    /// - Returns: what `body` returned in the attempt that committed.
    public func runTransaction<T: Sendable>(maxAttempts: Int = 5, _ body: @Sendable (Transaction) async throws -> T) async throws -> T {
        var lastConflict: FlintError? = nil
        for attempt in 0..<max(1, maxAttempts) {
            // Random pauses that grow: contenders that collided do not collide again in step.
            if attempt > 0 { try await Task.sleep(for: .milliseconds(Int.random(in: 0...(10 << min(attempt, 8))))) }
            let transaction = Transaction(app: self)
            let value = try await body(transaction)
            guard let commit = try transaction.commit() else { return value }
            do {
                try await send(commit)
                return value
            } catch let error as FlintError where [.failedPrecondition, .alreadyExists, .aborted].contains(error.code) {
                lastConflict = error
            }
        }
        throw FlintError(
            .aborted, "the transaction kept conflicting with other writes (\(lastConflict?.message ?? "")); it was tried \(max(1, maxAttempts)) times")
    }

    /// Commits over REST, sending once more with the same mutation id when the answer was lost.
    private func send(_ commit: Commit) async throws {
        do {
            _ = try await rest.json(.POST, "/v1/commit", body: commit.json, token: try await auth.accessToken())
        } catch let error as FlintError where error.code == .unavailable {
            _ = try await rest.json(.POST, "/v1/commit", body: commit.json, token: try await auth.accessToken())
        }
    }
}
