import FlintCore
import Hummingbird
import NIOCore

/// `GET /v1/admin/export` and `POST /v1/admin/import`: all documents (or one collection's) as NDJSON, one document
/// per line, for admins; `flint data export` and `flint data import` speak it.
///
/// A line is `{"path": …, "data": {…}, "createTime": …, "updateTime": …}` with values in Flint's tagged JSON form.
/// The export reads page by page in name order, so server memory stays constant whatever the database's size; each
/// page is one consistent read, but the export as a whole is not a snapshot: a document written during the export
/// appears as it was when its page was read, or not at all if it was created behind the scan. The import commits
/// `set` writes in batches of at most 500 through the one commit path, so importing the same file again gives the
/// same documents.
struct DataTransferController: Sendable {
    let rules: DocumentRules

    /// Documents read per page of an export.
    static var exportPageSize: Int { 200 }
    /// The longest import line accepted: a document of 1 MiB with its path and times, with room to spare.
    static var maximumLineBytes: Int { 4 << 20 }
    /// An import commits once it holds this many writes or this many bytes of lines.
    static var batchWrites: Int { Commit.maximumWrites }
    static var batchBytes: Int { 16 << 20 }

    func addRoutes(to router: Router<FlintRequestContext>) {
        router.get("/v1/admin/export") { request, context in
            try AdminController.requireAdmin(context)
            return try await self.export(request)
        }
        router.post("/v1/admin/import") { request, context in
            try AdminController.requireAdmin(context)
            return try await self.import(request, identity: context.identity)
        }
    }

    // MARK: Export

    func export(_ request: Request) async throws -> Response {
        let parameters = request.uri.queryParameters
        var collection: CollectionPath? = nil
        if let text = parameters["collection"] {
            do {
                collection = try CollectionPath(String(text))
            } catch {
                throw FlintError.invalidArgument("collection=\(text): \(error.message)")
            }
        }
        var descendants = false
        if let text = parameters["allDescendants"] {
            guard ["", "true", "false"].contains(text) else { throw FlintError.invalidArgument("allDescendants must be true or false") }
            guard collection != nil else { throw FlintError.invalidArgument("allDescendants needs a collection") }
            descendants = text != "false"
        }
        let store = rules.store
        let pageSize = Self.exportPageSize
        let scope = collection
        let nested = descendants
        // The first page is read before the answer starts, so that a failing read is still an error status.
        let first = try await store.documents(in: collection, descendants: descendants, after: nil, limit: pageSize)
        let body = ResponseBody { writer in
            var page = first
            while true {
                var buffer = ByteBuffer()
                for document in page {
                    buffer.writeBytes(Self.line(document))
                    if buffer.readableBytes >= 64 * 1024 {
                        try await writer.write(buffer)
                        buffer.clear()
                    }
                }
                if buffer.readableBytes > 0 { try await writer.write(buffer) }
                guard page.count == pageSize, let last = page.last else { break }
                page = try await store.documents(in: scope, descendants: nested, after: last.path, limit: pageSize)
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "application/x-ndjson"], body: body)
    }

    /// One export line, with its line break.
    static func line(_ document: Document) -> [UInt8] {
        var bytes = JSON.object([
            "path": .string(document.path.description),
            "data": Value.map(document.fields).json,
            "createTime": .string(document.createTime.description),
            "updateTime": .string(document.updateTime.description),
        ]).serialized
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }

    // MARK: Import

    /// What is wrong with one line of an import.
    struct LineError: Error {
        var line: Int
        var message: String
    }

    func `import`(_ request: Request, identity: Identity?) async throws -> Response {
        var lines = NDJSONLines(maximumLineBytes: Self.maximumLineBytes)
        var batch = ImportBatch(rules: rules, identity: identity)
        do {
            do {
                for try await chunk in request.body {
                    for line in try lines.append(chunk.readableBytesView) {
                        try await batch.add(try Self.write(line.bytes, number: line.number), bytes: line.bytes.count, line: line.number)
                    }
                }
                if let line = try lines.finish() {
                    try await batch.add(try Self.write(line.bytes, number: line.number), bytes: line.bytes.count, line: line.number)
                }
            } catch let error as NDJSONLines.LineTooLong {
                throw LineError(line: error.line, message: "the line is longer than \(Self.maximumLineBytes) bytes")
            }
            try await batch.commit()
        } catch let error as LineError {
            // What came before the bad line is committed, so the report of what was imported is exact.
            try await batch.commit()
            throw FlintError(
                .invalidArgument, "line \(error.line): \(error.message); the \(batch.imported) documents before it were imported",
                details: .object(["line": .integer(Int64(error.line)), "imported": .integer(Int64(batch.imported))]))
        }
        return .json(.object([
            "imported": .integer(Int64(batch.imported)), "commits": .integer(Int64(batch.commits)),
            "lines": .integer(Int64(lines.count)),
        ]))
    }

    /// The `set` write of one line; nil for a blank line.
    static func write(_ line: [UInt8], number: Int) throws(LineError) -> Write? {
        if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) { return nil }
        do {
            let object = try JSONObject(try JSON(parsing: line), context: "the line")
            // The keys of an export line, and those of a document as GET /v1/documents answers it; only path and data count.
            try object.allowOnly(["path", "data", "createTime", "updateTime", "id", "version"])
            let path = try DocumentPath(try object.string("path"))
            guard let json = object["data"] else { throw FlintError.invalidArgument("the line has no \"data\"") }
            let data = try Write.documentData(json, context: "data")
            let size = Value.map(data).json.serialized.count
            guard size <= maximumDocumentBytes else {
                throw FlintError.invalidArgument("\(path) would be \(size) bytes; a document may be at most \(maximumDocumentBytes) bytes")
            }
            return Write(path: path, operation: .set(data: data, merge: false))
        } catch let error as FlintError {
            throw LineError(line: number, message: error.message)
        } catch {
            throw LineError(line: number, message: "\(error)")
        }
    }
}

/// The writes of an import not yet committed.
private struct ImportBatch {
    let rules: DocumentRules
    let identity: Identity?
    private var writes: [Write] = []
    private var bytes = 0
    private var firstLine = 0
    private(set) var imported = 0
    private(set) var commits = 0

    init(rules: DocumentRules, identity: Identity?) {
        self.rules = rules
        self.identity = identity
    }

    mutating func add(_ write: Write?, bytes lineBytes: Int, line: Int) async throws {
        guard let write else { return }
        if writes.isEmpty { firstLine = line }
        writes.append(write)
        bytes += lineBytes
        if writes.count >= DataTransferController.batchWrites || bytes >= DataTransferController.batchBytes { try await commit() }
    }

    /// Commits the pending writes, if any.
    mutating func commit() async throws {
        guard !writes.isEmpty else { return }
        do {
            _ = try await rules.commit(try Commit(writes: writes), identity: identity)
        } catch let error as FlintError {
            throw FlintError(
                error.code, "the lines from \(firstLine) on could not be committed: \(error.message); the \(imported) documents before them were imported",
                details: .object(["line": .integer(Int64(firstLine)), "imported": .integer(Int64(imported))]))
        }
        imported += writes.count
        commits += 1
        writes.removeAll(keepingCapacity: true)
        bytes = 0
    }
}
