import ArgumentParser
import FlintCore
import FlintServer
import Foundation
import Logging

/// `flint-bench query`: loads a collection into a fresh SQLiteDocumentStore, then times
/// `author == X orderBy sent desc limit 20` in-process (no HTTP), one query at a time.
struct QueryBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Load N documents into a fresh store, then time an equality + orderBy + limit-20 query.")

    @Option(help: "Documents to load into the collection.") var documents = 100_000
    @Option(help: "Timed query executions.") var iterations = 2_000
    @Option(help: "Untimed query executions before the timed ones.") var warmup = 200
    @Option(help: "Writes per commit while loading (at most 500).") var batch = 500
    @Option(help: "Distinct values of the `author` field.") var authors = 100
    @Option(help: "The collection to load and query.") var collection = "rooms/r1/messages"
    @Option(help: "Folder for the database; default a fresh temporary folder, removed afterwards.") var dataDir: String?
    @Option(help: "A fresh PostgreSQL database to load and query instead of SQLite (postgres://…).") var databaseURL: String?
    @Flag(help: "Keep the database folder afterwards.") var keep = false

    func validate() throws {
        guard documents > 0, iterations > 0, authors > 0, warmup >= 0 else { throw ValidationError("counts must be positive") }
        guard (1...Commit.maximumWrites).contains(batch) else { throw ValidationError("--batch must be 1...500") }
    }

    func run() async throws {
        let folder = dataDir ?? FileManager.default.temporaryDirectory
            .appendingPathComponent("flint-bench-query-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let databasePath = URL(fileURLWithPath: folder).appendingPathComponent("flint.sqlite").path
        guard !FileManager.default.fileExists(atPath: databasePath) else {
            throw ValidationError("\(databasePath) exists; the benchmark needs a fresh database")
        }
        defer {
            if keep || dataDir != nil {
                print("database kept at \(databasePath)")
            } else {
                try? FileManager.default.removeItem(atPath: folder)
            }
        }
        var logger = Logger(label: "flint-bench")
        logger.logLevel = .warning
        print("flint-bench query: documents=\(documents) iterations=\(iterations) warmup=\(warmup) batch=\(batch) authors=\(authors)")
        if let databaseURL {
            let database = try await PostgresDatabase.connect(try PostgresURL(parsing: databaseURL), logger: logger)
            print("collection=\(collection) database=\(try PostgresURL(parsing: databaseURL))")
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await database.run() }
                defer { group.cancelAll() }
                try await measure(try await PostgresDocumentStore(database: database, logger: logger))
            }
        } else {
            print("collection=\(collection) database=\(databasePath)")
            try await measure(try SQLiteDocumentStore(path: databasePath, logger: logger))
        }
    }

    /// Runs the store's writer while loading and timing.
    private func measure(_ store: some RunnableStore) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await store.run() }
            defer { group.cancelAll() }
            let perAuthor = try await load(store)
            try await time(store, perAuthor: perAuthor)
        }
    }

    /// Loads the documents, one commit of `batch` writes after another, and reports the rate.
    /// - Returns: how many documents each author has.
    private func load(_ store: some DocumentStore) async throws -> [Int] {
        var perAuthor = [Int](repeating: 0, count: authors)
        var random = SplitMix64(seed: 42)
        let base: Int64 = 1_767_225_600_000_000  // 2026-01-01T00:00:00Z in microseconds
        let span: Int64 = 90 * 86_400 * 1_000_000  // `sent` spread over 90 days
        let words = ["hello", "lunch?", "on my way", "see you at ten", "ok", "thanks!", "ship it", "call me"]
        let clock = ContinuousClock()
        let started = clock.now
        var commitTimes = Samples()
        var index = 0
        while index < documents {
            let count = min(batch, documents - index)
            var writes: [Write] = []
            writes.reserveCapacity(count)
            for i in index..<(index + count) {
                let author = Int.random(in: 0..<authors, using: &random)
                perAuthor[author] += 1
                let fields: [String: Value] = [
                    "author": .string("author-\(author)"),
                    "sent": .timestamp(Timestamp(microseconds: base + Int64.random(in: 0..<span, using: &random))),
                    "n": .integer(Int64.random(in: 0..<1_000_000, using: &random)),
                    "text": .string("\(words[i % words.count]) #\(i)"),
                ]
                let path = try DocumentPath(collection + "/" + String(format: "m%07d", i))
                writes.append(Write(path: path, operation: .set(data: fields, merge: false)))
            }
            let commitStarted = clock.now
            _ = try await store.commit(try Commit(writes: writes))
            commitTimes.append((clock.now - commitStarted).microseconds)
            index += count
        }
        let elapsed = (clock.now - started).seconds
        print("")
        print("load: \(documents) documents in \(commitTimes.count) commits of \(batch) writes, one commit at a time")
        print("load: \(fmt(elapsed, 2)) s, \(fmt(Double(documents) / elapsed, 0)) docs/s, commit p50 \(fmt(commitTimes.percentile(50) / 1000, 1)) ms, p99 \(fmt(commitTimes.percentile(99) / 1000, 1)) ms")
        return perAuthor
    }

    private func query(author: Int) throws -> Query {
        let text = """
            {"collection": "\(collection)", "where": {"field": "author", "op": "==", "value": "author-\(author)"},
             "orderBy": [{"field": "sent", "direction": "desc"}], "limit": 20}
            """
        return try Query(json: JSON(parsing: text))
    }

    /// Times the query, cycling through the authors, and checks every answer.
    private func time(_ store: some RunnableStore, perAuthor: [Int]) async throws {
        let queries = try (0..<authors).map { try query(author: $0) }
        print("")
        print("query: \(collection) where author == \"author-X\" orderBy sent desc limit 20 (X cycles over \(authors) values)")
        print("the database's plan:")
        // PostgreSQL's plans spell out bound arrays (a thousand document names): long lines are cut.
        for line in try await store.explain(queries[0]) {
            print("  " + (line.count > 200 ? "\(line.prefix(200))… (\(line.count) characters)" : line))
        }

        for i in 0..<warmup { _ = try await store.query(queries[i % authors]) }

        let clock = ContinuousClock()
        var latencies = Samples()
        var returned = 0
        let started = clock.now
        for i in 0..<iterations {
            let author = i % authors
            let t0 = clock.now
            let documents = try await store.query(queries[author])
            latencies.append((clock.now - t0).microseconds)
            returned += documents.count
            try check(documents, author: author, expected: min(20, perAuthor[author]))
        }
        let elapsed = (clock.now - started).seconds
        print("query: \(iterations) timed runs (after \(warmup) warm-up), \(fmt(Double(returned) / Double(iterations), 1)) documents per answer, \(fmt(Double(iterations) / elapsed, 0)) queries/s serial")
        print("query latency (µs): p50 \(fmt(latencies.percentile(50))) p90 \(fmt(latencies.percentile(90))) p99 \(fmt(latencies.percentile(99))) max \(fmt(latencies.max)) mean \(fmt(latencies.mean))")
    }

    /// Fails the benchmark if an answer is wrong: min(20, the author's documents), all by the author, newest first.
    private func check(_ documents: [Document], author: Int, expected: Int) throws {
        guard documents.count == expected else {
            throw ValidationError("the query returned \(documents.count) documents for author-\(author), expected \(expected)")
        }
        var previous: Timestamp? = nil
        for document in documents {
            guard case .string("author-\(author)") = document.fields["author"],
                case .timestamp(let sent) = document.fields["sent"]
            else { throw ValidationError("the query returned \(document.path), which does not match") }
            if let previous, sent > previous { throw ValidationError("the answer is not ordered by sent desc") }
            previous = sent
        }
    }
}

/// A document store whose writer runs in `run()`: both of Flint's.
protocol RunnableStore: DocumentStore {
    func run() async throws
    /// The database's plan for a query, one line per step.
    func explain(_ query: Query) async throws -> [String]
}

extension SQLiteDocumentStore: RunnableStore {}
extension PostgresDocumentStore: RunnableStore {}
