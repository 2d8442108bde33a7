import FlintCore
import Logging
import PostgresNIO

/// Queries on PostgreSQL: the same plans as on SQLite (`QueryPlan`) over the same field index, with candidates checked
/// and ordered exactly by the query's own semantics (`Query.matches`, `Query.compare`).
extension PostgresDocumentStore {
    public func query(_ query: Query) async throws -> [Document] {
        let plan = QueryPlan(query, thresholds: thresholds, dialect: .postgres)
        // The name-set variant reads the names first and then the documents: both in one snapshot.
        return try await reading(snapshot: plan.selective != nil) { connection in try await plan.run(connection, logger: self.logger) }
    }

    /// PostgreSQL's `EXPLAIN` of the SQL that `query` runs first, one line per step.
    public func explain(_ query: Query) async throws -> [String] {
        let plan = QueryPlan(query, thresholds: thresholds, dialect: .postgres)
        return try await reading(snapshot: true) { connection in
            let (sql, arguments, gathers) = try await plan.chosen(connection, logger: self.logger)
            var lines: [String] = []
            let explained = QueryPlan.postgres("EXPLAIN " + plan.limited(sql, rows: gathers ? nil : plan.firstRowLimit), arguments)
            for try await line in try await connection.query(explained, logger: self.logger).decode(String.self) {
                lines.append(line)
            }
            return lines
        }
    }
}

/// Running a plan on PostgreSQL.
extension QueryPlan {
    /// The SQL to run now, with the names bound when the strategy uses them, and whether it gathers (reads the few
    /// documents with the equality's value in no order).
    func chosen(_ connection: PostgresConnection, logger: Logger) async throws -> (sql: String, arguments: [SQLArgument], gathers: Bool) {
        if let selective {
            // One row with one array: far cheaper to receive than a row per name.
            let namesSQL = "SELECT COALESCE(array_agg(m.name), '{}') FROM (\(selective.namesSQL)) m"
            var names: [[UInt8]] = []
            for try await array in try await connection.query(Self.postgres(namesSQL, selective.namesArguments), logger: logger)
                .decode([ByteBuffer].self)
            {
                names = array.map { Array($0.readableBytesView) }
            }
            switch strategy(count: names.count) {
            case .gather: return (selective.gatherSQL, Selective.binding(names, in: selective.gatherArguments), true)
            case .ordered: return (selective.sql, Selective.binding(names, in: selective.arguments), false)
            case .probe: break
            }
        }
        return (sql, arguments, false)
    }

    /// How many rows the first read asks for: one more than the query's limit (the row after the last shows that no
    /// equal key follows), at least 8 (nil: no limit). Rows are read in order until the limit, so each one costs.
    var firstRowLimit: Int? { scanLimit.map { max(8, $0 + 1) } }

    /// `sql` with a `LIMIT` of `rows`, when there is one.
    func limited(_ sql: String, rows: Int?) -> String { rows.map { "\(sql) LIMIT \($0)" } ?? sql }

    /// Runs the plan. With a limit, the SQL gets a `LIMIT` too, so that PostgreSQL plans for the first rows (an
    /// ordered index scan) instead of reading and sorting the whole range: first `firstRowLimit`, and when that many
    /// rows were not enough (candidates the exact check refused), again with eight times more, until the answer is
    /// complete or the range is exhausted.
    func run(_ connection: PostgresConnection, logger: Logger) async throws -> [Document] {
        let (sql, arguments, gathers) = try await chosen(connection, logger: logger)
        if gathers {
            var documents: [Document] = []
            for try await row in try await connection.query(Self.postgres(sql, arguments), logger: logger) {
                documents.append(try PostgresDocumentStore.document(row.makeRandomAccess()))
            }
            return query.evaluate(over: documents)
        }
        var rowLimit = firstRowLimit
        while true {
            let rows = try await connection.query(Self.postgres(limited(sql, rows: rowLimit), arguments), logger: logger)
            var collector = Collector(self)
            var read = 0
            var stopped = false
            for try await row in rows {
                read += 1
                let cells = row.makeRandomAccess()
                let key = drivenByValue ? Array(try cells[5].decode(ByteBuffer.self).readableBytesView) : nil
                let taken = try collector.add(key: key) { try PostgresDocumentStore.document(cells) }
                if !taken {
                    stopped = true
                    break
                }
            }
            // Complete when the collector has what it needs, or when the database ran out of rows before the limit.
            guard let limit = rowLimit, !stopped, read >= limit else { return collector.finish() }
            rowLimit = limit > Int.max / 8 ? nil : limit * 8
        }
    }

    /// The plan's SQL with PostgreSQL's numbered placeholders (`$1`, `$2`, …) and its arguments bound to them.
    static func postgres(_ sql: String, _ arguments: [SQLArgument]) -> PostgresQuery {
        var text = ""
        var number = 0
        for character in sql {
            if character == "?" {
                number += 1
                text += "$\(number)"
            } else {
                text.append(character)
            }
        }
        var bindings = PostgresBindings(capacity: arguments.count)
        for argument in arguments {
            switch argument {
            case .text(let value): bindings.append(value)
            case .bytes(let value): bindings.append(ByteBuffer(bytes: value))
            case .integer(let value): bindings.append(Int64(value))
            case .byteArrays(let values): bindings.append(values.map { ByteBuffer(bytes: $0) })
            }
        }
        return PostgresQuery(unsafeSQL: text, binds: bindings)
    }
}

extension PostgresDocumentStore {
    /// The document in a row whose first cells are `SQLiteDocumentStore.documentColumns` (the same on both stores).
    static func document(_ cells: PostgresRandomAccessRow) throws -> Document {
        try document(
            path: try cells[0].decode(String.self), data: try cells[1].decode(ByteBuffer.self), createTime: try cells[2].decode(Int64.self),
            updateTime: try cells[3].decode(Int64.self), version: try cells[4].decode(Int64.self))
    }
}
