public import FlintCore
import Foundation

/// A collection's location: its documents, new documents with generated ids, and queries over it (every `Query`
/// builder starts here too: `app.collection("rooms").whereField("open", isEqualTo: true)`).
public struct CollectionReference: Sendable, CustomStringConvertible {
    let app: FlintApp
    /// The slash-separated path, `rooms` or `rooms/r1/messages`.
    public let path: String

    init(app: FlintApp, path: String) {
        self.app = app
        self.path = path
    }

    /// The collection's id, the last segment of its path.
    public var collectionID: String { path.split(separator: "/").last.map(String.init) ?? path }
    public var description: String { path }

    /// The document with `id` in this collection.
    public func document(_ id: String) -> DocumentReference { DocumentReference(app: app, path: path + "/" + id) }

    /// A new document with a random 20-character id (as the server and Firestore generate them).
    public func document() -> DocumentReference { document(Self.randomID()) }

    /// Creates a document with a generated id and `data`; returns its reference once the server has acknowledged it.
    /// Offline, the document shows in listeners at once and the call returns when the connection is back.
    @discardableResult
    public func addDocument(data: [String: FieldValue]) async throws -> DocumentReference {
        let reference = document()
        try await reference.setData(data)
        return reference
    }

    /// `addDocument` with the fields of an `Encodable` value.
    @discardableResult
    public func addDocument<T: Encodable>(from value: T) async throws -> DocumentReference {
        try await addDocument(data: try FlintEncoder().encode(value).fieldValues)
    }

    /// This collection as a query with no filter.
    public var query: Query {
        do {
            return Query(app: app, state: .success(FlintCore.Query(collection: try CollectionPath(path))))
        } catch {
            return Query(app: app, state: .failure(error))
        }
    }

    static func randomID() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<20).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
    }

    // MARK: The builders of Query

    public func whereFilter(_ filter: Filter) -> Query { query.whereFilter(filter) }
    public func whereField(_ field: String, isEqualTo value: Value) -> Query { query.whereField(field, isEqualTo: value) }
    public func whereField(_ field: String, isNotEqualTo value: Value) -> Query { query.whereField(field, isNotEqualTo: value) }
    public func whereField(_ field: String, isLessThan value: Value) -> Query { query.whereField(field, isLessThan: value) }
    public func whereField(_ field: String, isLessThanOrEqualTo value: Value) -> Query { query.whereField(field, isLessThanOrEqualTo: value) }
    public func whereField(_ field: String, isGreaterThan value: Value) -> Query { query.whereField(field, isGreaterThan: value) }
    public func whereField(_ field: String, isGreaterThanOrEqualTo value: Value) -> Query {
        query.whereField(field, isGreaterThanOrEqualTo: value)
    }
    public func whereField(_ field: String, arrayContains value: Value) -> Query { query.whereField(field, arrayContains: value) }
    public func whereField(_ field: String, arrayContainsAny values: [Value]) -> Query { query.whereField(field, arrayContainsAny: values) }
    public func whereField(_ field: String, in values: [Value]) -> Query { query.whereField(field, in: values) }
    public func whereField(_ field: String, notIn values: [Value]) -> Query { query.whereField(field, notIn: values) }
    public func order(by field: String, descending: Bool = false) -> Query { query.order(by: field, descending: descending) }
    public func limit(to count: Int) -> Query { query.limit(to: count) }
    public func limit(toLast count: Int) -> Query { query.limit(toLast: count) }
    public func getDocuments(source: Source = .default) async throws -> QuerySnapshot { try await query.getDocuments(source: source) }
    public func snapshots(includeMetadataChanges: Bool = false) -> AsyncThrowingStream<QuerySnapshot, any Error> {
        query.snapshots(includeMetadataChanges: includeMetadataChanges)
    }
}
