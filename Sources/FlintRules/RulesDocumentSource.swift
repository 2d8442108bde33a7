import FlintCore

/// Where get()/exists()/getAfter()/existsAfter() read. Throwing makes the calling expression an error (deny).
public protocol RulesDocumentSource: Sendable {
    /// The document's data as stored before the request, nil if there is none.
    func document(at path: DocumentPath) async throws -> [String: Value]?
    /// The document's data as it would be after the request (or the whole batch) succeeded, nil if there would be none.
    func documentAfter(at path: DocumentPath) async throws -> [String: Value]?
}

/// A source with no documents: every `get()` fails and every `exists()` is false.
public struct EmptyDocumentSource: RulesDocumentSource {
    /// Makes the empty source.
    public init() {}
    /// Always nil: nothing is stored.
    public func document(at path: DocumentPath) async throws -> [String: Value]? { nil }
    /// Always nil: nothing is stored.
    public func documentAfter(at path: DocumentPath) async throws -> [String: Value]? { nil }
}

/// Documents held in memory, for rules tests and tools: one dictionary before the request, one after.
public struct InMemoryDocumentSource: RulesDocumentSource {
    /// The documents before the request.
    public var before: [DocumentPath: [String: Value]]
    /// The documents after the request.
    public var after: [DocumentPath: [String: Value]]

    /// Makes a source; `after` defaults to `before` (a read changes nothing).
    public init(before: [DocumentPath: [String: Value]], after: [DocumentPath: [String: Value]]? = nil) {
        self.before = before
        self.after = after ?? before
    }

    /// The document in `before`.
    public func document(at path: DocumentPath) async throws -> [String: Value]? { before[path] }
    /// The document in `after`.
    public func documentAfter(at path: DocumentPath) async throws -> [String: Value]? { after[path] }
}
