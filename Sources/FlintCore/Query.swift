/// A structured query over one collection or a collection group, with Firestore's semantics.
public struct Query: Sendable, Equatable {
    /// The segments of the document under which the query runs; empty for the root.
    public var parent: [String]
    /// The id of the collection queried (`messages`).
    public var collectionID: String
    /// A collection-group query: every collection with `collectionID` anywhere below `parent`.
    public var allDescendants: Bool
    public var filter: Filter?
    /// The orderings as written; see `normalizedOrderBy` for the ones applied.
    public var orderBy: [Order]
    public var limit: Int?
    /// Keep only the last `limitToLast` results in the order (Firestore's `limitToLast`).
    public var limitToLast: Int?
    public var start: Cursor?
    public var end: Cursor?

    public init(
        collection: CollectionPath, allDescendants: Bool = false, filter: Filter? = nil, orderBy: [Order] = [],
        limit: Int? = nil, limitToLast: Int? = nil, start: Cursor? = nil, end: Cursor? = nil
    ) {
        self.parent = Array(collection.segments.dropLast())
        self.collectionID = collection.id
        self.allDescendants = allDescendants
        self.filter = filter
        self.orderBy = orderBy
        self.limit = limit
        self.limitToLast = limitToLast
        self.start = start
        self.end = end
    }

    /// The collection's path for a plain (not group) query.
    public var collectionPath: CollectionPath { CollectionPath(unchecked: parent + [collectionID]) }

    /// A filter: one comparison, or an `and`/`or` of filters.
    public indirect enum Filter: Sendable, Equatable {
        case field(FieldFilter)
        case and([Filter])
        case or([Filter])

        /// Every comparison in the filter, depth first.
        public var fieldFilters: [FieldFilter] {
            switch self {
            case .field(let f): [f]
            case .and(let fs), .or(let fs): fs.flatMap(\.fieldFilters)
            }
        }

        /// The comparisons that every matching document must pass: the top level of a conjunction.
        public var conjuncts: [FieldFilter] {
            switch self {
            case .field(let f): [f]
            case .and(let fs): fs.flatMap(\.conjuncts)
            case .or(let fs): fs.count == 1 ? fs[0].conjuncts : []
            }
        }
    }

    /// One comparison of a field with a value.
    public struct FieldFilter: Sendable, Equatable {
        public var field: FieldPath
        public var op: Operator
        public var value: Value

        public init(field: FieldPath, op: Operator, value: Value) {
            self.field = field
            self.op = op
            self.value = value
        }
    }

    /// The comparison operators of Firestore.
    public enum Operator: String, Sendable, CaseIterable {
        case equal = "=="
        case notEqual = "!="
        case lessThan = "<"
        case lessThanOrEqual = "<="
        case greaterThan = ">"
        case greaterThanOrEqual = ">="
        case `in`
        case notIn = "not-in"
        case arrayContains = "array-contains"
        case arrayContainsAny = "array-contains-any"

        /// Operators that make the field an inequality field, ordered implicitly.
        public var isInequality: Bool {
            switch self {
            case .notEqual, .lessThan, .lessThanOrEqual, .greaterThan, .greaterThanOrEqual, .notIn: true
            default: false
            }
        }

        /// Operators whose value is a list.
        public var takesList: Bool { self == .in || self == .notIn || self == .arrayContainsAny }
    }

    /// One ordering: a field and a direction.
    public struct Order: Sendable, Equatable {
        public var field: FieldPath
        public var descending: Bool

        public init(field: FieldPath, descending: Bool = false) {
            self.field = field
            self.descending = descending
        }
    }

    /// A position in the query's order: values for the leading orderings, and whether the position itself is included.
    public struct Cursor: Sendable, Equatable {
        public var values: [Value]
        /// `startAt`/`endAt` include the position; `startAfter`/`endBefore` do not.
        public var inclusive: Bool

        public init(values: [Value], inclusive: Bool) {
            self.values = values
            self.inclusive = inclusive
        }
    }

    /// The orderings applied, as Firestore applies them: the explicit ones; then the inequality fields not among
    /// them, in field path order (segment by segment, by UTF-8 bytes); then `__name__` unless already present.
    /// The implicit orderings take the direction of the last explicit one, ascending when there is none.
    public var normalizedOrderBy: [Order] {
        var orders = orderBy
        let descending = orderBy.last?.descending ?? false
        if let filter {
            let inequalityFields = filter.fieldFilters.filter { $0.op.isInequality && !$0.field.isDocumentName }
                .map(\.field)
                .sorted { PathSegments.compare($0.segments, $1.segments) < 0 }
            for field in inequalityFields where !orders.contains(where: { $0.field == field }) {
                orders.append(Order(field: field, descending: descending))
            }
        }
        if !orders.contains(where: { $0.field.isDocumentName }) {
            orders.append(Order(field: .documentName, descending: descending))
        }
        return orders
    }
}
