import FlintCore
import Logging
import PostgresNIO

/// Queries on PostgreSQL: the same plans as on SQLite (`QueryPlan`) over the same field index, with candidates checked
/// and ordered exactly by the query's own semantics (`Query.matches`, `Query.compare`).
extension PostgresDocumentStore {
    public func query(_ query: Query) async throws -> [Document] {
        let plan = QueryPlan(query, selectiveThreshold: selectiveThreshold, dialect: .postgres)
        // The name-set variant counts first and then reads: both in one snapshot.
        return try await reading(snapshot: plan.selective != nil) { connection in try await plan.run(connection, logger: self.logger) }
    }

    /// PostgreSQL's `EXPLAIN` of the SQL that `query` runs, one line per step.
    public func explain(_ query: Query) async throws -> [String] {
        let plan = QueryPlan(query, selectiveThreshold: selectiveThreshold, dialect: .postgres)
        return try await reading(snapshot: true) { connection in
            let (sql, arguments) = try await plan.chosen(connection, logger: self.logger)
            var lines: [String] = []
            for try await line in try await connection.query(QueryPlan.postgres("EXPLAIN " + sql, arguments), logger: self.logger)
                .decode(String.self)
            {
                lines.append(line)
            }
            return lines
        }
    }
}

/// Running a plan on PostgreSQL.
extension QueryPlan {
    /// The SQL to run now: the name-set variant when few documents have the equality's value.
    func chosen(_ connection: PostgresConnection, logger: Logger) async throws -> (sql: String, arguments: [SQLArgument]) {
        if let selective {
            for try await count in try await connection.query(Self.postgres(selective.countSQL, selective.countArguments), logger: logger)
                .decode(Int64.self) where prefersSelective(count: Int(count))
            {
                return (selective.sql, selective.arguments)
            }
        }
        return (sql, arguments)
    }

    /// Runs the plan. With a limit, the SQL gets a `LIMIT` too, so that PostgreSQL plans for the first rows (an
    /// ordered index scan) instead of reading and sorting the whole range: first twice the query's limit (at
    /// least 8 rows), and when that many rows were not enough (candidates the exact check refused), again with eight
    /// times more, until the answer is complete or the range is exhausted.
    func run(_ connection: PostgresConnection, logger: Logger) async throws -> [Document] {
        let (sql, arguments) = try await chosen(connection, logger: logger)
        var rowLimit = scanLimit.map { max(8, $0 * 2) }
        while true {
            let limited = rowLimit.map { "\(sql) LIMIT \($0)" } ?? sql
            let rows = try await connection.query(Self.postgres(limited, arguments), logger: logger)
            var collector = Collector(self)
            var read = 0
            var stopped = false
            for try await row in rows {
                read += 1
                let cells = row.makeRandomAccess()
                let key = drivenByValue ? Array(try cells[5].decode(ByteBuffer.self).readableBytesView) : nil
                let taken = try collector.add(key: key) {
                    try PostgresDocumentStore.document(
                        path: try cells[0].decode(String.self), data: try cells[1].decode(ByteBuffer.self), createTime: try cells[2].decode(Int64.self),
                        updateTime: try cells[3].decode(Int64.self), version: try cells[4].decode(Int64.self))
                }
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
            }
        }
        return PostgresQuery(unsafeSQL: text, binds: bindings)
    }
}
