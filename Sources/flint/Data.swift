#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import AsyncHTTPClient
import FlintCore
import NIOHTTP1
import Foundation
import NIOCore

/// `flint data …`: documents out as NDJSON and back in.
struct DataCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Export documents as NDJSON and import them again.",
        discussion: """
            One document per line: {"path", "data", "createTime", "updateTime"}, values in Flint's JSON form \
            ({"$timestamp": …}, {"$ref": …}, …). Both directions stream, so memory stays small however large the \
            data; a progress line appears on standard error when it is a terminal.

            Examples:
              flint data export > dump.ndjson
              flint data export --collection rooms --all-descendants -o rooms.ndjson
              flint data import dump.ndjson
            """,
        subcommands: [DataExport.self, DataImport.self])
}

/// `flint data export`
struct DataExport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write documents as NDJSON to standard output or a file.",
        discussion: """
            Documents come in name order, page by page as the server reads them: the export is not a snapshot of \
            one instant, so documents written meanwhile may or may not appear. With --output the file appears only \
            once the export is whole (written as FILE.partial, then renamed); with --json the summary \
            ({"documents", "bytes", "file"}) is printed on standard output.

            Examples:
              flint data export > dump.ndjson
              flint data export --collection users -o users.ndjson
              flint data export --collection rooms --all-descendants | gzip > rooms.gz
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("Only this collection's documents, such as rooms or rooms/r1/messages.", valueName: "path"))
    var collection: String?

    @Flag(name: .customLong("all-descendants"), help: "With --collection, also every document nested below its documents.")
    var allDescendants = false

    @Option(name: [.short, .long], help: ArgumentHelp("Write to this file instead of standard output.", valueName: "file"))
    var output: String?

    func validate() throws {
        if allDescendants && collection == nil { throw ValidationError("--all-descendants needs --collection") }
        if global.json && output == nil { throw ValidationError("--json prints a summary, which needs --output (the export itself is already JSON)") }
    }

    func run() async throws {
        var query: [(String, String)] = []
        if let collection { query.append(("collection", collection)) }
        if allDescendants { query.append(("allDescendants", "true")) }
        let client = try global.client()
        let response = try await client.stream(.GET, "/v1/admin/export", query: query)
        var descriptor = Terminal.standardOutput
        let partial = output.map { $0 + ".partial" }
        if let partial {
            descriptor = open(partial, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            guard descriptor >= 0 else { throw CLIError("cannot write \(partial): \(String(cString: strerror(errno)))") }
        }
        var bytes: Int64 = 0
        var documents: Int64 = 0
        var progress = ProgressLine("Exporting")
        do {
            for try await chunk in response.body {
                documents += Int64(chunk.readableBytesView.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) })
                bytes += Int64(chunk.readableBytes)
                try Terminal.write(chunk.readableBytesView, to: descriptor)
                progress.update(bytes: bytes, documents: documents)
            }
        } catch {
            if let partial {
                close(descriptor)
                unlink(partial)
            }
            if error is CLIError { throw error }
            throw CLIError("the export broke off after \(documents) documents: \(APIClient.describe(error))")
        }
        progress.finish(bytes: bytes, documents: documents)
        if let partial, let output {
            fsync(descriptor)
            close(descriptor)
            guard rename(partial, output) == 0 else { throw CLIError("cannot write \(output): \(String(cString: strerror(errno)))") }
            global.output.document(.object(["documents": .integer(documents), "bytes": .integer(bytes), "file": .string(output)]))
            global.output.line("Exported \(documents) document\(documents == 1 ? "" : "s") (\(formatBytes(bytes))) to \(output)")
        }
    }
}

/// `flint data import`
struct DataImport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Set documents from an NDJSON file, as `flint data export` writes it.",
        discussion: """
            Each line sets its document (path and data; the times become the import's), committed in batches of at \
            most 500. Importing the same file twice gives the same documents, so an import that stopped can simply \
            be run again. A malformed line stops the import with its line number; the lines before it are imported. \
            Use - to read standard input.

            Examples:
              flint data import dump.ndjson
              gunzip -c rooms.ndjson.gz | flint data import -
              flint data import dump.ndjson --profile staging
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("The NDJSON file, or - for standard input.", valueName: "file"))
    var file: String

    func run() async throws {
        let output = global.output
        let client = try global.client()
        let descriptor = file == "-" ? Terminal.standardInput : open(file, O_RDONLY)
        guard descriptor >= 0 else { throw CLIError("cannot open \(file): \(String(cString: strerror(errno)))") }
        defer { if descriptor != Terminal.standardInput { close(descriptor) } }
        var info = stat()
        var length = HTTPClientRequest.Body.Length.unknown
        var total: Int64? = nil
        if fstat(descriptor, &info) == 0, (info.st_mode & 0o170000) == 0o100000 {
            total = Int64(info.st_size)
            length = .known(Int64(info.st_size))
        }
        let body = HTTPClientRequest.Body.stream(FileChunks(descriptor: descriptor, total: total, label: "Importing"), length: length)
        let reply: JSON
        do {
            let response = try await client.stream(
                .POST, "/v1/admin/import", body: body, headers: [("Content-Type", "application/x-ndjson")])
            let bytes = try await response.body.collect(upTo: 1 << 20)
            reply = try JSON(parsing: bytes.readableBytesView)
        } catch let error as CLIError {
            throw CLIError("\(file == "-" ? "standard input" : file): \(error.message)", code: error.code, details: error.details, status: error.status)
        }
        output.document(reply)
        let imported = reply["imported"].display
        output.line("Imported \(imported) document\(imported == "1" ? "" : "s") in \(reply["commits"].display) commit\(reply["commits"].display == "1" ? "" : "s") from \(file)")
    }
}
