import FlintCore

/// A value bound to a placeholder (`?`) of a query plan's SQL.
enum SQLArgument: Sendable, Equatable {
    case text(String)
    case bytes([UInt8])
    case integer(Int)
    /// A list of byte strings, bound as one array (PostgreSQL's `bytea[]`); only PostgreSQL plans use it.
    case byteArrays([[UInt8]])
}

/// How one query is read from either store's tables (the same schema in SQLite and PostgreSQL): the driving index
/// range, the probes, and the scan direction. The SQL uses `?` placeholders; PostgreSQL numbers them (`postgresSQL`).
struct QueryPlan {
    let query: Query
    /// The orderings as scanned: the query's, or all reversed for `limitToLast`.
    let scanOrders: [Query.Order]
    /// The most results to collect in scan order.
    let scanLimit: Int?
    var sql = ""
    var arguments: [SQLArgument] = []
    /// Whether rows come from the field index ordered by a field value (and must be re-sorted among equal keys).
    var drivenByValue = false
    /// Whether one document may come more than once (`in` / `array-contains-any` over array elements).
    var mayRepeat = false
    /// For a value scan with an equality filter: the same scan with that filter as a set of names built once, which
    /// beats probing each candidate when few documents have the value; or, when very few have it, those documents
    /// read by name and ordered in memory.
    var selective: Selective? = nil
    let thresholds: Thresholds

    /// How many documents with an equality filter's value decide how a value scan reads (`strategy(count:)`).
    struct Thresholds: Sendable {
        /// Below this many, the scan is restricted to their names; at or above, each candidate is probed.
        var selective = 4096
        /// Below this many, the documents themselves are read by name and ordered in memory. The ordered scan would
        /// read about `limit × entries / count` index entries to find the first `limit` of them; these few are
        /// cheaper to read outright.
        var gather = 256

        init(selective: Int = 4096, gather: Int = 256) {
            self.selective = selective
            self.gather = gather
        }
    }

    /// How a value scan with an equality filter reads.
    enum Strategy: Equatable {
        /// The scan as it is (`sql`): each candidate's equality is probed.
        case probe
        /// The scan restricted to the names with the equality's value (`selective.sql`).
        case ordered
        /// The documents with the equality's value read by name (`selective.gatherSQL`), then filtered, ordered and
        /// limited in memory (`Query.evaluate`).
        case gather
    }

    /// Which database's SQL to write; the two differ only in how a join's order is fixed.
    enum Dialect {
        case sqlite, postgres
    }

    let dialect: Dialect

    /// A value scan restricted to the names of the documents with an equality filter's value. SQLite builds the set
    /// from a subquery (`i.name IN (…)`). PostgreSQL plans such a subquery as a join and sorts the whole range, so
    /// there the names are read first (`namesSQL`) and bound as one array (`i.name = ANY(…)`, at the argument
    /// `.byteArrays([])`): a hashed filter on the ordered index scan, which stops at the limit.
    struct Selective {
        var sql: String
        var arguments: [SQLArgument]
        /// The documents with the equality's value, in no particular order.
        var gatherSQL: String
        var gatherArguments: [SQLArgument]
        /// The names with the equality's value, at most `thresholds.selective` of them: counted (SQLite) or read
        /// (PostgreSQL) to decide the strategy.
        var namesSQL: String
        var namesArguments: [SQLArgument]

        /// SQLite's bounded count of `namesSQL`.
        var countSQL: String { "SELECT COUNT(*) FROM (\(namesSQL)) m" }

        /// `arguments` (or `gatherArguments`) with the names read by `namesSQL` in place of the placeholder array
        /// (PostgreSQL).
        static func binding(_ names: [[UInt8]], in arguments: [SQLArgument]) -> [SQLArgument] {
            arguments.map { argument in
                guard case .byteArrays = argument else { return argument }
                return .byteArrays(names)
            }
        }
    }

    init(_ query: Query, thresholds: Thresholds = Thresholds(), dialect: Dialect = .sqlite) {
        self.query = query
        self.dialect = dialect
        self.thresholds = thresholds
        let orders = query.normalizedOrderBy
        if let last = query.limitToLast {
            scanOrders = orders.map { Query.Order(field: $0.field, descending: !$0.descending) }
            scanLimit = last
        } else {
            scanOrders = orders
            scanLimit = query.limit
        }
        build()
    }

    /// Inclusive bounds on index keys; an exclusive upper bound when it is the end of a type's range.
    private struct Bounds {
        var lower: [UInt8]? = nil
        var upper: [UInt8]? = nil
        var upperInclusive = true

        mutating func raiseLower(_ key: [UInt8]) {
            if lower == nil || lower!.lexicographicallyPrecedes(key) { lower = key }
        }

        mutating func lowerUpper(_ key: [UInt8], inclusive: Bool) {
            if let upper, !key.lexicographicallyPrecedes(upper), !(key == upper && !inclusive) { return }
            upper = key
            upperInclusive = inclusive
        }

        func sql(column: String, arguments: inout [SQLArgument]) -> String {
            var parts: [String] = []
            if let lower {
                parts.append("\(column) >= ?")
                arguments.append(.bytes(lower))
            }
            if let upper {
                parts.append("\(column) \(upperInclusive ? "<=" : "<") ?")
                arguments.append(.bytes(upper))
            }
            return parts.map { " AND " + $0 }.joined()
        }
    }

    private var conjuncts: [Query.FieldFilter] { query.filter?.conjuncts ?? [] }

    /// SQLite's CROSS JOIN keeps the field index as the driving table; PostgreSQL's planner chooses well by itself.
    private var join: String { dialect == .sqlite ? "CROSS JOIN" : "JOIN" }

    private mutating func build() {
        let first = query.normalizedOrderBy[0]
        if !first.field.isDocumentName {
            buildValueScan(on: first)
        } else {
            buildNameScan()
        }
    }

    private var scopeColumn: String { query.allDescendants ? "collection_id" : "scope" }
    private var scopeValue: String { query.allDescendants ? query.collectionID : query.collectionPath.description }

    /// Bounds on the key of `field` from the filters and from cursors whose first ordering is `order`.
    /// For `__name__` the keys are document-name keys (the `name` column), and only references bound them.
    private func bounds(for field: FieldPath, order: Query.Order?) -> Bounds {
        var bounds = Bounds()
        func key(_ value: Value) -> [UInt8]? {
            guard field.isDocumentName else { return IndexKey.encode(value) }
            guard case .reference(let path) = value else { return nil }
            return IndexKey.name(path)
        }
        for filter in conjuncts where filter.field == field {
            guard let key = key(filter.value) else { continue }
            switch filter.op {
            case .equal:
                bounds.raiseLower(key)
                bounds.lowerUpper(key, inclusive: true)
            case .greaterThan, .greaterThanOrEqual:
                bounds.raiseLower(key)
                if !field.isDocumentName {
                    bounds.lowerUpper(IndexKey.typeBounds(of: filter.value).upper, inclusive: false)
                }
            case .lessThan, .lessThanOrEqual:
                if !field.isDocumentName { bounds.raiseLower(IndexKey.typeBounds(of: filter.value).lower) }
                bounds.lowerUpper(key, inclusive: true)
            default:
                break
            }
        }
        if let order {
            if let value = query.start?.values.first, let key = key(value) {
                if order.descending { bounds.lowerUpper(key, inclusive: true) } else { bounds.raiseLower(key) }
            }
            if let value = query.end?.values.first, let key = key(value) {
                if order.descending { bounds.raiseLower(key) } else { bounds.lowerUpper(key, inclusive: true) }
            }
        }
        return bounds
    }

    /// `AND EXISTS (…)` probes for the equality filters on fields other than `except`: primary-key look-ups.
    private func equalityProbes(except: FieldPath?, skipping skipped: Query.FieldFilter? = nil, arguments: inout [SQLArgument]) -> String {
        var sql = ""
        for filter in conjuncts where filter.op == .equal && !filter.field.isDocumentName && filter.field != except && filter != skipped {
            sql += " AND EXISTS (SELECT 1 FROM field_index e WHERE e.scope = i.scope AND e.field = ? AND e.value = ? AND e.name = i.name)"
            arguments += [.text(filter.field.description), .bytes(IndexKey.encode(filter.value))]
        }
        return sql
    }

    /// Drive by the index of the first ordered field, in its order.
    private mutating func buildValueScan(on first: Query.Order) {
        drivenByValue = true
        let direction = scanOrders[0].descending ? "DESC" : "ASC"
        let nameDirection = scanOrders.count == 2 && scanOrders[1].descending ? "DESC" : direction
        var args: [SQLArgument] = [.text(scopeValue), .text(first.field.description)]
        var where_ = "i.\(scopeColumn) = ? AND i.field = ?"
        where_ += bounds(for: first.field, order: first).sql(column: "i.value", arguments: &args)
        let prefix = where_
        let prefixArguments = args
        where_ += equalityProbes(except: first.field, arguments: &args)
        let select = "SELECT \(SQLiteDocumentStore.documentColumns), i.value FROM field_index i \(join) documents d ON d.name = i.name"
        let order = "ORDER BY i.value \(direction), i.name \(nameDirection)"
        sql = "\(select) WHERE \(where_) \(order)"
        arguments = args

        guard let equality = conjuncts.first(where: { $0.op == .equal && !$0.field.isDocumentName && $0.field != first.field }) else { return }
        let key = IndexKey.encode(equality.value)
        let matching = "SELECT e.name FROM field_index e WHERE e.\(scopeColumn) = ? AND e.field = ? AND e.value = ?"
        let namesArguments: [SQLArgument] = [.text(scopeValue), .text(equality.field.description), .bytes(key)]
        var selectiveArguments = prefixArguments
        var selectiveWhere = prefix
        let gatherSQL: String
        let gatherArguments: [SQLArgument]
        switch dialect {
        case .sqlite:
            selectiveArguments += namesArguments
            selectiveWhere += " AND i.name IN (\(matching))"
            gatherSQL = "SELECT \(SQLiteDocumentStore.documentColumns) FROM documents d WHERE d.name IN (\(matching))"
            gatherArguments = namesArguments
        case .postgres:
            selectiveArguments.append(.byteArrays([]))
            selectiveWhere += " AND i.name = ANY(?)"
            gatherSQL = "SELECT \(SQLiteDocumentStore.documentColumns) FROM documents d WHERE d.name = ANY(?)"
            gatherArguments = [.byteArrays([])]
        }
        selectiveWhere += equalityProbes(except: first.field, skipping: equality, arguments: &selectiveArguments)
        selective = Selective(
            sql: "\(select) WHERE \(selectiveWhere) \(order)", arguments: selectiveArguments,
            gatherSQL: gatherSQL, gatherArguments: gatherArguments,
            namesSQL: "\(matching) LIMIT \(thresholds.selective)", namesArguments: namesArguments)
    }

    /// Ordered by name: drive by an equality-like filter's index entries in name order, or by the documents themselves.
    private mutating func buildNameScan() {
        let direction = scanOrders[0].descending ? "DESC" : "ASC"
        var args: [SQLArgument] = []
        let nameBounds = bounds(for: .documentName, order: query.normalizedOrderBy[0])
        let driver =
            conjuncts.first { $0.op == .equal && !$0.field.isDocumentName }
            ?? conjuncts.first { $0.op == .arrayContains }
            ?? conjuncts.first { ($0.op == .in || $0.op == .arrayContainsAny) && !$0.field.isDocumentName }
        guard let driver else {
            args = [.text(scopeValue)]
            let bounds = nameBounds.sql(column: "d.name", arguments: &args)
            sql = "SELECT \(SQLiteDocumentStore.documentColumns) FROM documents d WHERE d.\(scopeColumn) = ?\(bounds) ORDER BY d.name \(direction)"
            arguments = args
            return
        }
        let field = driver.op == .equal || driver.op == .in ? driver.field.description : IndexEntries.arrayField(driver.field)
        args = [.text(scopeValue), .text(field)]
        var where_ = "i.\(scopeColumn) = ? AND i.field = ?"
        switch driver.op {
        case .equal, .arrayContains:
            where_ += " AND i.value = ?"
            args.append(.bytes(IndexKey.encode(driver.value)))
        default:
            guard case .array(let options) = driver.value else { preconditionFailure("list operators take arrays") }
            where_ += " AND i.value IN (\(Array(repeating: "?", count: options.count).joined(separator: ", ")))"
            args += options.map { .bytes(IndexKey.encode($0)) }
            mayRepeat = true
        }
        where_ += nameBounds.sql(column: "i.name", arguments: &args)
        where_ += equalityProbes(except: driver.op == .equal ? driver.field : nil, arguments: &args)
        sql = """
            SELECT \(SQLiteDocumentStore.documentColumns) FROM field_index i \(join) documents d ON d.name = i.name
            WHERE \(where_) ORDER BY i.name \(direction)
            """
        arguments = args
    }

    /// How to read, given how many documents have the equality's value (read with `selective.namesSQL`, at most
    /// `thresholds.selective`).
    func strategy(count: Int) -> Strategy {
        if count < thresholds.gather { return .gather }
        return count < thresholds.selective ? .ordered : .probe
    }

    /// Takes candidates in scan order, keeps the ones the query matches, orders rows with equal index keys exactly,
    /// and says when the limit is reached.
    struct Collector {
        let plan: QueryPlan
        private var results: [Document] = []
        private var seen = Set<DocumentPath>()
        private var group: [Document] = []
        private var groupKey: [UInt8]? = nil

        init(_ plan: QueryPlan) { self.plan = plan }

        /// Takes the next candidate row; false when no further rows are needed (the row was not taken then).
        /// - Parameters:
        ///   - key: the row's field-index value, for scans driven by value (the plan's SQL selects it last).
        ///   - document: decodes the row's document.
        mutating func add(key: [UInt8]?, _ document: () throws -> Document) rethrows -> Bool {
            if plan.drivenByValue {
                if key != groupKey {
                    flushGroup()
                    if let scanLimit = plan.scanLimit, results.count >= scanLimit { return false }
                    groupKey = key
                }
            }
            let document = try document()
            guard plan.query.matches(document) else { return true }
            if plan.mayRepeat, !seen.insert(document.path).inserted { return true }
            if plan.drivenByValue {
                group.append(document)
            } else {
                results.append(document)
                if let scanLimit = plan.scanLimit, results.count >= scanLimit { return false }
            }
            return true
        }

        private mutating func flushGroup() {
            let orders = plan.scanOrders
            if group.count > 1 { group.sort { Query.compare($0, $1, orders: orders) < 0 } }
            results += group
            group.removeAll(keepingCapacity: true)
        }

        /// The query's answer, in its order, its limits applied.
        mutating func finish() -> [Document] {
            flushGroup()
            if let scanLimit = plan.scanLimit, results.count > scanLimit { results.removeLast(results.count - scanLimit) }
            if plan.query.limitToLast != nil { results.reverse() }
            return results
        }
    }
}
