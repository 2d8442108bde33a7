public import FlintCore
import NIOHTTP1

/// A query over a collection or a collection group, built step by step like Firestore's:
/// `app.collection("rooms").whereField("open", isEqualTo: true).order(by: "name").limit(to: 20)`.
/// Building does no I/O and never fails; a mistake (a bad field path, an invalid filter) is reported by
/// `getDocuments` or `snapshots`, with the same checks the server makes.
public struct Query: Sendable {
    let app: FlintApp
    let state: Result<FlintCore.Query, FlintError>

    init(app: FlintApp, state: Result<FlintCore.Query, FlintError>) {
        self.app = app
        self.state = state
    }

    /// The query as FlintCore describes it, checked as the server checks it.
    public func resolved() throws(FlintError) -> FlintCore.Query {
        try FlintCore.Query(json: try state.get().json)
    }

    private func with(_ change: (inout FlintCore.Query) throws(FlintError) -> Void) -> Query {
        Query(
            app: app,
            state: state.flatMap { query in
                var query = query
                do throws(FlintError) {
                    try change(&query)
                    return .success(query)
                } catch {
                    return .failure(error)
                }
            })
    }

    // MARK: Filters

    /// Keeps the documents that pass `filter` (combined with `and` with the filters given before).
    public func whereFilter(_ filter: Filter) -> Query {
        with { query throws(FlintError) in
            let added = try filter.state.get()
            switch query.filter {
            case nil: query.filter = added
            case .and(let filters)?: query.filter = .and(filters + [added])
            case let existing?: query.filter = .and([existing, added])
            }
        }
    }

    public func whereField(_ field: String, isEqualTo value: Value) -> Query { whereFilter(.whereField(field, .equal, value)) }
    public func whereField(_ field: String, isNotEqualTo value: Value) -> Query { whereFilter(.whereField(field, .notEqual, value)) }
    public func whereField(_ field: String, isLessThan value: Value) -> Query { whereFilter(.whereField(field, .lessThan, value)) }
    public func whereField(_ field: String, isLessThanOrEqualTo value: Value) -> Query {
        whereFilter(.whereField(field, .lessThanOrEqual, value))
    }
    public func whereField(_ field: String, isGreaterThan value: Value) -> Query { whereFilter(.whereField(field, .greaterThan, value)) }
    public func whereField(_ field: String, isGreaterThanOrEqualTo value: Value) -> Query {
        whereFilter(.whereField(field, .greaterThanOrEqual, value))
    }
    public func whereField(_ field: String, arrayContains value: Value) -> Query { whereFilter(.whereField(field, .arrayContains, value)) }
    public func whereField(_ field: String, arrayContainsAny values: [Value]) -> Query {
        whereFilter(.whereField(field, .arrayContainsAny, .array(values)))
    }
    public func whereField(_ field: String, in values: [Value]) -> Query { whereFilter(.whereField(field, .in, .array(values))) }
    public func whereField(_ field: String, notIn values: [Value]) -> Query { whereFilter(.whereField(field, .notIn, .array(values))) }

    // MARK: Order, limits and cursors

    /// Orders by a field (after the orderings given before). `__name__` is the document's name.
    public func order(by field: String, descending: Bool = false) -> Query {
        with { query throws(FlintError) in query.orderBy.append(.init(field: try FieldPath(field), descending: descending)) }
    }

    /// Keeps the first `count` results.
    public func limit(to count: Int) -> Query { with { $0.limit = count; $0.limitToLast = nil } }
    /// Keeps the last `count` results (needs an `order(by:)`).
    public func limit(toLast count: Int) -> Query { with { $0.limitToLast = count; $0.limit = nil } }

    /// Starts at the position given by values for the leading orderings (inclusive).
    public func start(at values: [Value]) -> Query { with { $0.start = .init(values: values, inclusive: true) } }
    public func start(after values: [Value]) -> Query { with { $0.start = .init(values: values, inclusive: false) } }
    public func end(at values: [Value]) -> Query { with { $0.end = .init(values: values, inclusive: true) } }
    public func end(before values: [Value]) -> Query { with { $0.end = .init(values: values, inclusive: false) } }

    /// Starts at a document's position in the query's order (give the orderings first).
    public func start(atDocument document: DocumentSnapshot) -> Query { cursor(document) { $0.start = .init(values: $1, inclusive: true) } }
    public func start(afterDocument document: DocumentSnapshot) -> Query { cursor(document) { $0.start = .init(values: $1, inclusive: false) } }
    public func end(atDocument document: DocumentSnapshot) -> Query { cursor(document) { $0.end = .init(values: $1, inclusive: true) } }
    public func end(beforeDocument document: DocumentSnapshot) -> Query { cursor(document) { $0.end = .init(values: $1, inclusive: false) } }

    private func cursor(_ snapshot: DocumentSnapshot, _ set: @escaping (inout FlintCore.Query, [Value]) -> Void) -> Query {
        with { query throws(FlintError) in
            guard let document = snapshot.document else { throw .invalidArgument("a cursor needs a document that exists") }
            var values: [Value] = []
            for order in query.normalizedOrderBy {
                guard let value = document.value(at: order.field) else {
                    throw .invalidArgument("the cursor's document has no field \(order.field), which the query orders by")
                }
                values.append(value)
            }
            set(&query, values)
        }
    }

    // MARK: Reading

    /// Runs the query: on the server (with this app's pending writes applied to the results), or over the cache when
    /// the server cannot be reached (`.default`); only on one of them with `.server` or `.cache`.
    public func getDocuments(source: Source = .default) async throws -> QuerySnapshot {
        let query = try resolved()
        if source != .cache {
            do {
                let asOf = await app.engine.knownSequence
                let answer = try await app.rest.json(.POST, "/v1/query", body: query.json, token: try await app.auth.accessToken())
                guard case .object(let root) = answer, case .array(let items)? = root["documents"] else { throw FlintError(.internal, "the query's answer has no documents") }
                let views = try await app.engine.fetched(try items.map(SyncEngine.document), for: query, asOf: asOf)
                return snapshot(views, isFromCache: false)
            } catch let error as FlintError where error.code == .unavailable && source == .default {
                // Offline: the cache answers below.
            }
        }
        return snapshot(try await app.engine.cachedQuery(query), isFromCache: true)
    }

    private func snapshot(_ views: [ViewDocument], isFromCache: Bool) -> QuerySnapshot {
        let documents = views.map { SyncEngine.snapshot($0, app: app, isFromCache: isFromCache) }
        return QuerySnapshot(
            query: self, documents: documents,
            documentChanges: documents.enumerated().map { DocumentChange(type: .added, document: $1, oldIndex: -1, newIndex: $0) },
            metadata: SnapshotMetadata(isFromCache: isFromCache, hasPendingWrites: views.contains(where: \.hasPendingWrites)))
    }

    /// The results now and after every change, as an `AsyncSequence` of snapshots with the document changes.
    /// The sequence ends with an error when the server refuses the listener; cancelling the iterating task ends it.
    public func snapshots(includeMetadataChanges: Bool = false) -> AsyncThrowingStream<QuerySnapshot, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: QuerySnapshot.self)
        do {
            app.startListening(.query(try resolved()), sink: .query(self, continuation), includeMetadataChanges: includeMetadataChanges)
        } catch {
            continuation.finish(throwing: error)
        }
        return stream
    }
}

/// A filter for `whereFilter`: a comparison, or an `and`/`or` of filters.
public struct Filter: Sendable {
    let state: Result<FlintCore.Query.Filter, FlintError>

    static func whereField(_ field: String, _ op: FlintCore.Query.Operator, _ value: Value) -> Filter {
        do {
            return Filter(state: .success(.field(.init(field: try FieldPath(field), op: op, value: value))))
        } catch {
            return Filter(state: .failure(error))
        }
    }

    /// A comparison with one of the server's operators: `==`, `!=`, `<`, `<=`, `>`, `>=`, `in`, `not-in`,
    /// `array-contains`, `array-contains-any`.
    public static func whereField(_ field: String, op: FlintCore.Query.Operator, value: Value) -> Filter { whereField(field, op, value) }
    public static func whereField(_ field: String, isEqualTo value: Value) -> Filter { whereField(field, .equal, value) }
    public static func whereField(_ field: String, isGreaterThan value: Value) -> Filter { whereField(field, .greaterThan, value) }
    public static func whereField(_ field: String, isLessThan value: Value) -> Filter { whereField(field, .lessThan, value) }
    public static func whereField(_ field: String, arrayContains value: Value) -> Filter { whereField(field, .arrayContains, value) }

    /// Documents that pass every filter.
    public static func andFilter(_ filters: [Filter]) -> Filter { combine(filters, FlintCore.Query.Filter.and) }
    /// Documents that pass at least one filter.
    public static func orFilter(_ filters: [Filter]) -> Filter { combine(filters, FlintCore.Query.Filter.or) }

    private static func combine(_ filters: [Filter], _ make: ([FlintCore.Query.Filter]) -> FlintCore.Query.Filter) -> Filter {
        var parts: [FlintCore.Query.Filter] = []
        for filter in filters {
            switch filter.state {
            case .success(let part): parts.append(part)
            case .failure(let error): return Filter(state: .failure(error))
            }
        }
        return Filter(state: .success(make(parts)))
    }
}
