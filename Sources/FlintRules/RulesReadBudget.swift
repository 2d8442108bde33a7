import FlintCore
import Synchronization

/// Firebase's limit on document reads by rules: 10 per single-document request, 20 per batch. Shared by all
/// evaluations of one request (a batch passes the same budget to each write's evaluation). The same path read
/// again (get or getAfter, by path) does not count twice. A read over the limit is an evaluation error (deny).
public final class RulesReadBudget: Sendable {
    /// Firebase's limit for a request on one document.
    public static let singleDocumentLimit = 10
    /// Firebase's limit for a batch or transaction.
    public static let batchLimit = 20

    private struct State {
        var paths: Set<DocumentPath> = []
    }

    /// The most distinct documents that may be read.
    public let limit: Int
    private let state = Mutex(State())

    /// Makes a budget of `limit` distinct document reads.
    public init(limit: Int) { self.limit = limit }

    /// How many distinct documents have been read so far.
    public var readCount: Int { state.withLock { $0.paths.count } }

    /// Records a read of `path`; false when it is a new path and the budget is spent.
    func charge(_ path: DocumentPath) -> Bool {
        state.withLock { state in
            if state.paths.contains(path) { return true }
            guard state.paths.count < limit else { return false }
            state.paths.insert(path)
            return true
        }
    }
}
