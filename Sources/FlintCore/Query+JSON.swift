/// Reading a query from its JSON form (DESIGN.md, "Request shapes"), strictly: unknown keys are errors.
extension Query {
    /// The most values an `in`, `not-in` or `array-contains-any` filter takes, as in Firestore.
    public static let maximumListValues = 30

    public init(json: JSON) throws(FlintError) {
        let object = try JSONObject(json, context: "query")
        try object.allowOnly([
            "collection", "allDescendants", "where", "orderBy", "limit", "limitToLast",
            "startAt", "startAfter", "endAt", "endBefore",
        ])
        let collectionText = try object.string("collection")
        let allDescendants = try object.optionalBool("allDescendants") ?? false
        let collection: CollectionPath
        do {
            collection = try CollectionPath(collectionText)
        } catch {
            throw .invalidArgument("query.collection: \(error.message)")
        }
        self.init(collection: collection, allDescendants: allDescendants)

        if let whereJSON = object["where"] {
            filter = try Query.parseFilter(whereJSON, context: "query.where", query: self)
        }
        if let orderJSON = object["orderBy"] {
            guard case .array(let items) = orderJSON else { throw .invalidArgument("query.orderBy must be an array") }
            for (i, item) in items.enumerated() {
                let order = try JSONObject(item, context: "query.orderBy[\(i)]")
                try order.allowOnly(["field", "direction"])
                let field = try order.fieldPath("field")
                let direction = try order.optionalString("direction") ?? "asc"
                guard direction == "asc" || direction == "desc" else {
                    throw .invalidArgument("query.orderBy[\(i)].direction must be \"asc\" or \"desc\"")
                }
                if orderBy.contains(where: { $0.field == field }) {
                    throw .invalidArgument("query.orderBy names \(field) twice")
                }
                orderBy.append(Order(field: field, descending: direction == "desc"))
            }
        }
        limit = try object.optionalCount("limit")
        limitToLast = try object.optionalCount("limitToLast")
        if limit != nil, limitToLast != nil {
            throw .invalidArgument("query: give either limit or limitToLast, not both")
        }
        if limitToLast != nil, orderBy.isEmpty {
            throw .invalidArgument("query: limitToLast needs at least one orderBy")
        }
        let orders = normalizedOrderBy
        start = try Query.parseCursor(object, keys: ("startAt", "startAfter"), orders: orders, query: self)
        end = try Query.parseCursor(object, keys: ("endAt", "endBefore"), orders: orders, query: self)
    }

    private static func parseCursor(
        _ object: JSONObject, keys: (inclusive: String, exclusive: String), orders: [Order], query: Query
    ) throws(FlintError) -> Cursor? {
        let inclusive = object[keys.inclusive]
        let exclusive = object[keys.exclusive]
        if inclusive != nil, exclusive != nil {
            throw .invalidArgument("query: give either \(keys.inclusive) or \(keys.exclusive), not both")
        }
        guard let json = inclusive ?? exclusive else { return nil }
        let key = inclusive != nil ? keys.inclusive : keys.exclusive
        guard case .array(let items) = json, !items.isEmpty else {
            throw .invalidArgument("query.\(key) must be a non-empty array of values, one per orderBy field")
        }
        guard items.count <= orders.count else {
            throw .invalidArgument("query.\(key) has \(items.count) values but the query orders by only \(orders.count) fields")
        }
        var values: [Value] = []
        for (i, item) in items.enumerated() {
            let value = try Value(json: item, field: "query.\(key)[\(i)]")
            values.append(try orders[i].field.isDocumentName ? query.documentNameValue(value, context: "query.\(key)[\(i)]") : value)
        }
        return Cursor(values: values, inclusive: inclusive != nil)
    }

    /// A value compared with `__name__`: a `$ref`, or for a plain collection query a document id in it.
    func documentNameValue(_ value: Value, context: String) throws(FlintError) -> Value {
        switch value {
        case .reference: return value
        case .string(let id) where !allDescendants:
            do {
                return .reference(try collectionPath.document(id))
            } catch {
                throw .invalidArgument("\(context): \(error.message)")
            }
        default:
            throw .invalidArgument("\(context): __name__ is compared with a {\"$ref\": path}\(allDescendants ? "" : " or a document id")")
        }
    }

    static func parseFilter(_ json: JSON, context: String, query: Query) throws(FlintError) -> Filter {
        let object = try JSONObject(json, context: context)
        for composite in ["and", "or"] where object[composite] != nil {
            try object.allowOnly([composite])
            guard case .array(let items) = object[composite]!, !items.isEmpty else {
                throw .invalidArgument("\(context).\(composite) must be a non-empty array of filters")
            }
            var filters: [Filter] = []
            for (i, item) in items.enumerated() {
                filters.append(try parseFilter(item, context: "\(context).\(composite)[\(i)]", query: query))
            }
            return composite == "and" ? .and(filters) : .or(filters)
        }
        try object.allowOnly(["field", "op", "value"])
        let field = try object.fieldPath("field")
        let opText = try object.string("op")
        guard let op = Operator(rawValue: opText) else {
            let all = Operator.allCases.map(\.rawValue).joined(separator: " ")
            throw .invalidArgument("\(context).op \"\(opText)\" is not one of: \(all) (or use {\"and\": […]} / {\"or\": […]})")
        }
        guard let valueJSON = object["value"] else { throw .invalidArgument("\(context).value is missing") }
        var value = try Value(json: valueJSON, field: "\(context).value")
        if op.takesList {
            guard case .array(let items) = value, !items.isEmpty, items.count <= maximumListValues else {
                throw .invalidArgument("\(context): \(op.rawValue) takes a non-empty array of at most \(maximumListValues) values")
            }
            if field.isDocumentName {
                var refs: [Value] = []
                for item in items { refs.append(try query.documentNameValue(item, context: "\(context).value")) }
                value = .array(refs)
            }
        } else {
            if field.isDocumentName {
                value = try query.documentNameValue(value, context: "\(context).value")
            }
            let isNullOrNaN: Bool =
                switch value {
                case .null: true
                case .double(let d): d.isNaN
                default: false
                }
            if isNullOrNaN, op != .equal, op != .notEqual {
                throw .invalidArgument("\(context): null and NaN can only be compared with == and !=")
            }
        }
        return .field(FieldFilter(field: field, op: op, value: value))
    }
}

/// A JSON object being read as a request: typed accessors with messages that name the key.
public struct JSONObject {
    public let members: [String: JSON]
    public let context: String

    public init(_ json: JSON, context: String) throws(FlintError) {
        guard case .object(let members) = json else {
            throw .invalidArgument("\(context) must be a JSON object, not \(json.typeName)")
        }
        self.members = members
        self.context = context
    }

    public subscript(key: String) -> JSON? { members[key] }

    /// Rejects keys outside `allowed`, naming the first unknown one.
    public func allowOnly(_ allowed: Set<String>) throws(FlintError) {
        if let unknown = members.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw .invalidArgument(
                "\(context) has an unknown field \"\(unknown)\"; allowed: \(allowed.sorted().joined(separator: ", "))")
        }
    }

    public func string(_ key: String) throws(FlintError) -> String {
        guard let value = try optionalString(key) else { throw .invalidArgument("\(context).\(key) is missing") }
        return value
    }

    public func optionalString(_ key: String) throws(FlintError) -> String? {
        guard let json = members[key] else { return nil }
        guard case .string(let s) = json else { throw .invalidArgument("\(context).\(key) must be a string, not \(json.typeName)") }
        return s
    }

    public func optionalBool(_ key: String) throws(FlintError) -> Bool? {
        guard let json = members[key] else { return nil }
        guard case .bool(let b) = json else { throw .invalidArgument("\(context).\(key) must be true or false, not \(json.typeName)") }
        return b
    }

    public func optionalInteger(_ key: String) throws(FlintError) -> Int64? {
        guard let json = members[key] else { return nil }
        guard case .integer(let i) = json else { throw .invalidArgument("\(context).\(key) must be an integer, not \(json.typeName)") }
        return i
    }

    /// A non-negative integer that fits in `Int`.
    public func optionalCount(_ key: String) throws(FlintError) -> Int? {
        guard let i = try optionalInteger(key) else { return nil }
        guard i >= 0, i <= Int64(Int32.max) else { throw .invalidArgument("\(context).\(key) must be between 0 and \(Int32.max)") }
        return Int(i)
    }

    public func fieldPath(_ key: String) throws(FlintError) -> FieldPath {
        let text = try string(key)
        do {
            return try FieldPath(text)
        } catch {
            throw .invalidArgument("\(context).\(key): \(error.message)")
        }
    }
}
