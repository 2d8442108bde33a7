import FlintCore
import Foundation
import GRDB

/// Queries, served from the field index. SQLite yields candidates in (or near) the query's order from one index
/// range; every candidate is then checked and ordered exactly by the query's own semantics (`Query.matches`,
/// `Query.compare`), so the index only has to be a superset in the right order, never the final word.
extension SQLiteDocumentStore {
    public func query(_ query: Query) async throws -> [Document] {
        let plan = QueryPlan(query, selectiveThreshold: selectiveThreshold)
        return try await pool.read { db in try plan.run(db) }
    }

    /// `EXPLAIN QUERY PLAN` of the SQL that `query` runs, one line per step.
    public func explain(_ query: Query) async throws -> [String] {
        let plan = QueryPlan(query, selectiveThreshold: selectiveThreshold)
        return try await pool.read { db in
            let (sql, arguments) = try plan.chosen(db)
            return try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: arguments).map { $0["detail"] as String }
        }
    }
}

/// How one query is read from SQLite: the driving index range, the probes, and the scan direction.
struct QueryPlan {
    let query: Query
    /// The orderings as scanned: the query's, or all reversed for `limitToLast`.
    let scanOrders: [Query.Order]
    /// The most results to collect in scan order.
    let scanLimit: Int?
    var sql = ""
    var arguments = StatementArguments()
    /// Whether rows come from the field index ordered by a field value (and must be re-sorted among equal keys).
    var drivenByValue = false
    /// Whether one document may come more than once (`in` / `array-contains-any` over array elements).
    var mayRepeat = false
    /// For a value scan with an equality filter: the same scan with that filter as a set of names built once
    /// (`i.name IN (…)`), which beats probing each candidate when few documents have the value; and the bounded count
    /// that decides between the two.
    var selective: (sql: String, arguments: StatementArguments, countSQL: String, countArguments: StatementArguments)? = nil
    /// Below this many documents with the equality's value, the name set is built.
    let selectiveThreshold: Int

    init(_ query: Query, selectiveThreshold: Int = 4096) {
        self.query = query
        self.selectiveThreshold = selectiveThreshold
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

        func sql(column: String, arguments: inout StatementArguments) -> String {
            var parts: [String] = []
            if let lower {
                parts.append("\(column) >= ?")
                _ = arguments.append(contentsOf: [Data(lower)])
            }
            if let upper {
                parts.append("\(column) \(upperInclusive ? "<=" : "<") ?")
                _ = arguments.append(contentsOf: [Data(upper)])
            }
            return parts.map { " AND " + $0 }.joined()
        }
    }

    private var conjuncts: [Query.FieldFilter] { query.filter?.conjuncts ?? [] }

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
    private func equalityProbes(except: FieldPath?, skipping skipped: Query.FieldFilter? = nil, arguments: inout StatementArguments) -> String {
        var sql = ""
        for filter in conjuncts where filter.op == .equal && !filter.field.isDocumentName && filter.field != except && filter != skipped {
            sql += " AND EXISTS (SELECT 1 FROM field_index e WHERE e.scope = i.scope AND e.field = ? AND e.value = ? AND e.name = i.name)"
            _ = arguments.append(contentsOf: [filter.field.description, Data(IndexKey.encode(filter.value))])
        }
        return sql
    }

    /// Drive by the index of the first ordered field, in its order.
    private mutating func buildValueScan(on first: Query.Order) {
        drivenByValue = true
        let direction = scanOrders[0].descending ? "DESC" : "ASC"
        let nameDirection = scanOrders.count == 2 && scanOrders[1].descending ? "DESC" : direction
        var args: StatementArguments = [scopeValue, first.field.description]
        var where_ = "i.\(scopeColumn) = ? AND i.field = ?"
        where_ += bounds(for: first.field, order: first).sql(column: "i.value", arguments: &args)
        let prefix = where_
        let prefixArguments = args
        where_ += equalityProbes(except: first.field, arguments: &args)
        let select = "SELECT \(SQLiteDocumentStore.documentColumns), i.value FROM field_index i CROSS JOIN documents d ON d.name = i.name"
        let order = "ORDER BY i.value \(direction), i.name \(nameDirection)"
        sql = "\(select) WHERE \(where_) \(order)"
        arguments = args

        guard let equality = conjuncts.first(where: { $0.op == .equal && !$0.field.isDocumentName && $0.field != first.field }) else { return }
        let key = Data(IndexKey.encode(equality.value))
        let matching = "SELECT e.name FROM field_index e WHERE e.\(scopeColumn) = ? AND e.field = ? AND e.value = ?"
        var selectiveArguments = prefixArguments
        _ = selectiveArguments.append(contentsOf: [scopeValue, equality.field.description, key])
        var selectiveWhere = prefix + " AND i.name IN (\(matching))"
        selectiveWhere += equalityProbes(except: first.field, skipping: equality, arguments: &selectiveArguments)
        selective = (
            "\(select) WHERE \(selectiveWhere) \(order)", selectiveArguments,
            "SELECT COUNT(*) FROM (\(matching) LIMIT \(selectiveThreshold))", [scopeValue, equality.field.description, key]
        )
    }

    /// Ordered by name: drive by an equality-like filter's index entries in name order, or by the documents themselves.
    private mutating func buildNameScan() {
        let direction = scanOrders[0].descending ? "DESC" : "ASC"
        var args: StatementArguments = []
        let nameBounds = bounds(for: .documentName, order: query.normalizedOrderBy[0])
        let driver =
            conjuncts.first { $0.op == .equal && !$0.field.isDocumentName }
            ?? conjuncts.first { $0.op == .arrayContains }
            ?? conjuncts.first { ($0.op == .in || $0.op == .arrayContainsAny) && !$0.field.isDocumentName }
        guard let driver else {
            args = [scopeValue]
            let bounds = nameBounds.sql(column: "d.name", arguments: &args)
            sql = "SELECT \(SQLiteDocumentStore.documentColumns) FROM documents d WHERE d.\(scopeColumn) = ?\(bounds) ORDER BY d.name \(direction)"
            arguments = args
            return
        }
        let field = driver.op == .equal || driver.op == .in ? driver.field.description : IndexEntries.arrayField(driver.field)
        args = [scopeValue, field]
        var where_ = "i.\(scopeColumn) = ? AND i.field = ?"
        switch driver.op {
        case .equal, .arrayContains:
            where_ += " AND i.value = ?"
            _ = args.append(contentsOf: [Data(IndexKey.encode(driver.value))])
        default:
            guard case .array(let options) = driver.value else { preconditionFailure("list operators take arrays") }
            where_ += " AND i.value IN (\(Array(repeating: "?", count: options.count).joined(separator: ", ")))"
            _ = args.append(contentsOf: StatementArguments(options.map { Data(IndexKey.encode($0)) }))
            mayRepeat = true
        }
        where_ += nameBounds.sql(column: "i.name", arguments: &args)
        where_ += equalityProbes(except: driver.op == .equal ? driver.field : nil, arguments: &args)
        sql = """
            SELECT \(SQLiteDocumentStore.documentColumns) FROM field_index i CROSS JOIN documents d ON d.name = i.name
            WHERE \(where_) ORDER BY i.name \(direction)
            """
        arguments = args
    }

    /// Reads candidates in scan order, keeps the ones the query matches, orders rows with equal index keys exactly,
    /// and stops once the limit is reached.
    /// The SQL to run now: the name-set variant when few documents have the equality's value.
    func chosen(_ db: Database) throws -> (sql: String, arguments: StatementArguments) {
        if let selective, let count = try Int.fetchOne(db, sql: selective.countSQL, arguments: selective.countArguments),
            count < selectiveThreshold
        {
            return (selective.sql, selective.arguments)
        }
        return (sql, arguments)
    }

    func run(_ db: Database) throws -> [Document] {
        let (sql, arguments) = try chosen(db)
        let rows = try Row.fetchCursor(db, sql: sql, arguments: arguments)
        var results: [Document] = []
        var seen = Set<DocumentPath>()
        var group: [Document] = []
        var groupKey: [UInt8]? = nil
        let orders = scanOrders

        func flushGroup() {
            if group.count > 1 { group.sort { Query.compare($0, $1, orders: orders) < 0 } }
            results += group
            group.removeAll(keepingCapacity: true)
        }

        while let row = try rows.next() {
            if drivenByValue {
                let key = [UInt8](row[5] as Data)
                if key != groupKey {
                    flushGroup()
                    if let scanLimit, results.count >= scanLimit { break }
                    groupKey = key
                }
            }
            let document = try SQLiteDocumentStore.document(from: row)
            guard query.matches(document) else { continue }
            if mayRepeat, !seen.insert(document.path).inserted { continue }
            if drivenByValue {
                group.append(document)
            } else {
                results.append(document)
                if let scanLimit, results.count >= scanLimit { break }
            }
        }
        flushGroup()
        if let scanLimit, results.count > scanLimit { results.removeLast(results.count - scanLimit) }
        if query.limitToLast != nil { results.reverse() }
        return results
    }
}
