import FlintCore
import Foundation
import GRDB

/// Queries, served from the field index. SQLite yields candidates in (or near) the query's order from one index
/// range; every candidate is then checked and ordered exactly by the query's own semantics (`Query.matches`,
/// `Query.compare`), so the index only has to be a superset in the right order, never the final word.
extension SQLiteDocumentStore {
    public func query(_ query: Query) async throws -> [Document] {
        let plan = QueryPlan(query, thresholds: thresholds)
        return try await pool.read { db in try plan.run(db) }
    }

    /// `EXPLAIN QUERY PLAN` of the SQL that `query` runs, one line per step.
    public func explain(_ query: Query) async throws -> [String] {
        let plan = QueryPlan(query, thresholds: thresholds)
        return try await pool.read { db in
            let (sql, arguments, _) = try plan.chosen(db)
            return try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: arguments).map { $0["detail"] as String }
        }
    }
}

/// Running a plan on SQLite.
extension QueryPlan {
    /// The SQL to run now, and whether it gathers (reads the few documents with the equality's value in no order).
    func chosen(_ db: Database) throws -> (sql: String, arguments: StatementArguments, gathers: Bool) {
        if let selective, let count = try Int.fetchOne(db, sql: selective.countSQL, arguments: Self.sqlite(selective.namesArguments)) {
            switch strategy(count: count) {
            case .gather: return (selective.gatherSQL, Self.sqlite(selective.gatherArguments), true)
            case .ordered: return (selective.sql, Self.sqlite(selective.arguments), false)
            case .probe: break
            }
        }
        return (sql, Self.sqlite(arguments), false)
    }

    func run(_ db: Database) throws -> [Document] {
        let (sql, arguments, gathers) = try chosen(db)
        let rows = try Row.fetchCursor(db, sql: sql, arguments: arguments)
        if gathers {
            var documents: [Document] = []
            while let row = try rows.next() { documents.append(try SQLiteDocumentStore.document(from: row)) }
            return query.evaluate(over: documents)
        }
        var collector = Collector(self)
        while let row = try rows.next() {
            let key = drivenByValue ? [UInt8](row[5] as Data) : nil
            guard try collector.add(key: key, { try SQLiteDocumentStore.document(from: row) }) else { break }
        }
        return collector.finish()
    }

    private static func sqlite(_ arguments: [SQLArgument]) -> StatementArguments {
        StatementArguments(
            arguments.map { argument -> any DatabaseValueConvertible in
                switch argument {
                case .text(let text): text
                case .bytes(let bytes): Data(bytes)
                case .integer(let integer): integer
                case .byteArrays: preconditionFailure("SQLite plans bind no arrays")
                }
            })
    }
}
