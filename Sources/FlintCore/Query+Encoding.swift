/// Writing a query in its JSON form: what `Query(json:)` reads back. The SDK sends queries with it.
extension Query {
    public var json: JSON {
        var members: [String: JSON] = ["collection": .string((parent + [collectionID]).joined(separator: "/"))]
        if allDescendants { members["allDescendants"] = .bool(true) }
        if let filter { members["where"] = filter.json }
        if !orderBy.isEmpty {
            members["orderBy"] = .array(orderBy.map { order in
                .object(["field": .string(order.field.description), "direction": .string(order.descending ? "desc" : "asc")])
            })
        }
        if let limit { members["limit"] = .integer(Int64(limit)) }
        if let limitToLast { members["limitToLast"] = .integer(Int64(limitToLast)) }
        if let start { members[start.inclusive ? "startAt" : "startAfter"] = .array(start.values.map(\.json)) }
        if let end { members[end.inclusive ? "endAt" : "endBefore"] = .array(end.values.map(\.json)) }
        return .object(members)
    }
}

extension Query.Filter {
    public var json: JSON {
        switch self {
        case .field(let filter):
            .object(["field": .string(filter.field.description), "op": .string(filter.op.rawValue), "value": filter.value.json])
        case .and(let filters): .object(["and": .array(filters.map(\.json))])
        case .or(let filters): .object(["or": .array(filters.map(\.json))])
        }
    }
}
