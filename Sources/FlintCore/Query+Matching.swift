/// The query's semantics on single documents: which documents it selects and in which order.
/// Stores use these to check candidates read from their indexes; realtime uses them to match changes.
extension Query {
    /// Whether the document lives in the queried collection (or, for a group query, in one below `parent`).
    public func isInScope(_ path: DocumentPath) -> Bool {
        // Ids compare by their bytes, as paths do.
        let segments = path.segments
        guard segments[segments.count - 2].utf8.elementsEqual(collectionID.utf8) else { return false }
        if allDescendants {
            return segments.count > parent.count + 1 && PathSegments.equal(segments.prefix(parent.count), parent)
        }
        return segments.count == parent.count + 2 && PathSegments.equal(segments.prefix(parent.count), parent)
    }

    /// Whether the document is in the result set, ignoring `limit`: in scope, passing the filter,
    /// having every ordered field, and within the cursors.
    public func matches(_ document: Document) -> Bool {
        guard isInScope(document.path) else { return false }
        if let filter, !filter.matches(document) { return false }
        let orders = normalizedOrderBy
        for order in orders where document.value(at: order.field) == nil { return false }
        if let start {
            let c = compare(document, to: start, orders: orders)
            if c < 0 || (c == 0 && !start.inclusive) { return false }
        }
        if let end {
            let c = compare(document, to: end, orders: orders)
            if c > 0 || (c == 0 && !end.inclusive) { return false }
        }
        return true
    }

    /// Orders two matching documents by the normalized orderings: negative if `a` comes first.
    public func compare(_ a: Document, _ b: Document) -> Int {
        Query.compare(a, b, orders: normalizedOrderBy)
    }

    /// Orders two documents by the given orderings (each must have the ordered fields).
    public static func compare(_ a: Document, _ b: Document, orders: [Order]) -> Int {
        for order in orders {
            let c = Value.compare(a.value(at: order.field) ?? .null, b.value(at: order.field) ?? .null)
            if c != 0 { return order.descending ? -c : c }
        }
        return 0
    }

    /// Compares a document's position with a cursor over the leading orderings: negative if the document comes first.
    func compare(_ document: Document, to cursor: Cursor, orders: [Order]) -> Int {
        for (value, order) in zip(cursor.values, orders) {
            let c = Value.compare(document.value(at: order.field) ?? .null, value)
            if c != 0 { return order.descending ? -c : c }
        }
        return 0
    }

    /// Runs the query over a set of documents by brute force: filter, sort, apply the limits.
    /// The reference the index-backed stores are checked against.
    public func evaluate(over documents: some Sequence<Document>) -> [Document] {
        let orders = normalizedOrderBy
        var result = documents.filter(matches).sorted { Query.compare($0, $1, orders: orders) < 0 }
        if let limit, result.count > limit { result.removeLast(result.count - limit) }
        if let limitToLast, result.count > limitToLast { result.removeFirst(result.count - limitToLast) }
        return result
    }
}

extension Query.Filter {
    /// Whether the document passes the filter.
    public func matches(_ document: Document) -> Bool {
        switch self {
        case .field(let f): f.matches(document.value(at: f.field))
        case .and(let filters): filters.allSatisfy { $0.matches(document) }
        case .or(let filters): filters.contains { $0.matches(document) }
        }
    }
}

extension Query.FieldFilter {
    /// Whether a field's value passes the comparison, as Firestore decides it: a missing field never matches;
    /// `!=` and `not-in` do not match null, and `not-in` with null in its list matches nothing; ordering operators
    /// match only values of the same type order.
    public func matches(_ candidate: Value?) -> Bool {
        guard let candidate else { return false }
        switch op {
        case .equal:
            return candidate.typeOrder == value.typeOrder && Value.compare(candidate, value) == 0
        case .notEqual:
            if case .null = candidate { return false }
            return Value.compare(candidate, value) != 0
        case .lessThan, .lessThanOrEqual, .greaterThan, .greaterThanOrEqual:
            guard candidate.typeOrder == value.typeOrder else { return false }
            let c = Value.compare(candidate, value)
            switch op {
            case .lessThan: return c < 0
            case .lessThanOrEqual: return c <= 0
            case .greaterThan: return c > 0
            default: return c >= 0
            }
        case .in:
            guard case .array(let options) = value else { return false }
            return options.contains { $0.isEqual(to: candidate) }
        case .notIn:
            if case .null = candidate { return false }
            guard case .array(let options) = value else { return false }
            // As Firestore's SDKs decide it: a list that holds null matches nothing.
            if options.contains(where: { $0.typeOrder == Value.null.typeOrder }) { return false }
            return !options.contains { $0.isEqual(to: candidate) }
        case .arrayContains:
            guard case .array(let elements) = candidate else { return false }
            return elements.contains { $0.isEqual(to: value) }
        case .arrayContainsAny:
            guard case .array(let elements) = candidate, case .array(let options) = value else { return false }
            return elements.contains { element in options.contains { $0.isEqual(to: element) } }
        }
    }
}
