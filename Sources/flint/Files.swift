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

/// `flint files …`: the server's files.
struct Files: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, copy, remove and sign links to files.",
        discussion: """
            A file on the server is written flint:PATH (flint:avatars/alice.png); a path without the prefix is \
            local. `cp` uploads when the destination is flint:…, and downloads when the source is. ls, rm and sign \
            take server paths with or without the prefix. Admin credentials bypass the storage rules.

            Examples:
              flint files ls
              flint files ls avatars/ --recursive
              flint files cp alice.png flint:avatars/alice.png
              flint files cp flint:avatars/alice.png ./downloads/
              flint files sign avatars/alice.png --expires-in 600
              flint files rm flint:avatars/alice.png
            """,
        subcommands: [FilesList.self, FilesCopy.self, FilesRemove.self, FilesSign.self])

    static let scheme = "flint:"

    /// A server path without the `flint:` prefix.
    static func remotePath(_ text: String) -> String {
        text.hasPrefix(scheme) ? String(text.dropFirst(scheme.count)) : text
    }

    /// `/v1/files/<path>`, each segment percent-encoded.
    static func route(_ path: String) -> String { "/v1/files/" + percentEncoded(path, keepingSlashes: true) }
}

/// `flint files ls`
struct FilesList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls", abstract: "List files under a prefix, folders rolled up unless --recursive.",
        discussion: """
            Examples:
              flint files ls
              flint files ls flint:avatars/
              flint files ls rooms/r1/ --recursive --json
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: ArgumentHelp("The prefix to list (default: everything).", valueName: "prefix")) var prefix: String = ""
    @Flag(name: [.short, .long], help: "List every file below the prefix instead of rolling folders up.") var recursive = false

    func run() async throws {
        let output = global.output
        let client = try global.client()
        let prefix = Files.remotePath(self.prefix)
        var items: [JSON] = []
        var prefixes: [JSON] = []
        var token: String? = nil
        repeat {
            var query = [("prefix", prefix), ("pageSize", "1000")]
            if !recursive { query.append(("delimiter", "/")) }
            if let token { query.append(("pageToken", token)) }
            let page = try await client.json(.GET, "/v1/files", query: query)
            items += page["items"]?.items ?? []
            prefixes += page["prefixes"]?.items ?? []
            token = page["nextPageToken"]?.string
        } while token != nil
        output.document(.object(["items": .array(items), "prefixes": .array(prefixes)]))
        var rows = prefixes.map { ["-", "", "", output.styled($0.display, .cyan)] }
        rows += items.map { item in
            var size = item["size"].display
            if case .integer(let bytes)? = item["size"] { size = formatBytes(bytes) }
            return [size, item["updateTime"].display, item["contentType"].display, item["path"].display]
        }
        if rows.isEmpty {
            output.line("No files" + (prefix.isEmpty ? "" : " under \(prefix)"))
        } else {
            output.table(["SIZE", "UPDATED", "TYPE", "PATH"], rows)
        }
    }
}

/// `flint files cp`
struct FilesCopy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cp", abstract: "Upload a local file to flint:PATH, or download flint:PATH to a local file.",
        discussion: """
            Exactly one side is flint:PATH. A destination ending in / (or an existing local folder) gets the \
            source's file name. Uploads stream the file (Content-Type from --content-type, else from the file \
            name's extension); downloads stream to FILE.partial and rename it when whole; - as the destination \
            writes to standard output.

            Examples:
              flint files cp alice.png flint:avatars/alice.png
              flint files cp report.pdf flint:docs/ --meta owner=alice
              flint files cp flint:avatars/alice.png alice-copy.png
              flint files cp flint:docs/report.pdf - | less
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The source: a local file or flint:PATH.") var source: String
    @Argument(help: "The destination: flint:PATH or a local file or folder.") var destination: String
    @Option(name: .customLong("content-type"), help: "The uploaded file's content type.") var contentType: String?
    @Option(name: .customLong("meta"), help: ArgumentHelp("Custom metadata key=value for an upload (repeatable).", valueName: "key=value"))
    var metadata: [String] = []

    func validate() throws {
        let up = destination.hasPrefix(Files.scheme)
        let down = source.hasPrefix(Files.scheme)
        guard up != down else {
            throw ValidationError("exactly one of source and destination must be flint:PATH; the other is a local path")
        }
        for entry in metadata where !entry.contains("=") { throw ValidationError("--meta takes key=value, not \"\(entry)\"") }
    }

    func run() async throws {
        let client = try global.client()
        if destination.hasPrefix(Files.scheme) {
            try await upload(client)
        } else {
            try await download(client)
        }
    }

    func upload(_ client: APIClient) async throws {
        let output = global.output
        var path = Files.remotePath(destination)
        if path.isEmpty || path.hasSuffix("/") { path += (source as NSString).lastPathComponent }
        let descriptor = open(source, O_RDONLY)
        guard descriptor >= 0 else { throw CLIError("cannot open \(source): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & 0o170000) == 0o100000 else {
            throw CLIError("\(source) is not a regular file")
        }
        let size = Int64(info.st_size)
        var headers = [("Content-Type", contentType ?? MediaTypes.guess(path))]
        for entry in metadata {
            let parts = entry.split(separator: "=", maxSplits: 1)
            headers.append(("X-Flint-Meta-\(parts[0])", parts.count > 1 ? String(parts[1]) : ""))
        }
        let body = HTTPClientRequest.Body.stream(FileChunks(descriptor: descriptor, total: size, label: "Uploading"), length: .known(size))
        let response = try await client.stream(.PUT, Files.route(path), body: body, headers: headers)
        let bytes = try await response.body.collect(upTo: 1 << 20)
        let object = (try? JSON(parsing: bytes.readableBytesView)) ?? .null
        output.document(object)
        output.line("Uploaded \(source) to \(Files.scheme)\(path) (\(formatBytes(size)), generation \(object["generation"].display))")
    }

    func download(_ client: APIClient) async throws {
        let output = global.output
        let path = Files.remotePath(source)
        let name = (path as NSString).lastPathComponent
        var target = destination
        var isFolder: ObjCBool = false
        if target.hasSuffix("/") || (FileManager.default.fileExists(atPath: target, isDirectory: &isFolder) && isFolder.boolValue) {
            target = (target as NSString).appendingPathComponent(name)
        }
        let toStandardOutput = destination == "-"
        if toStandardOutput && global.json { throw CLIError("--json prints a summary, which needs a destination file (not -)") }
        let response = try await client.stream(.GET, Files.route(path))
        let total = response.headers.first(name: "Content-Length").flatMap { Int64($0) }
        let partial = target + ".partial"
        let descriptor = toStandardOutput ? Terminal.standardOutput : open(partial, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { throw CLIError("cannot write \(partial): \(String(cString: strerror(errno)))") }
        var progress = ProgressLine("Downloading", total: total)
        var received: Int64 = 0
        do {
            for try await chunk in response.body {
                try Terminal.write(chunk.readableBytesView, to: descriptor)
                received += Int64(chunk.readableBytes)
                progress.update(bytes: received)
            }
        } catch {
            if !toStandardOutput {
                close(descriptor)
                unlink(partial)
            }
            if error is CLIError { throw error }
            throw CLIError("the download of \(Files.scheme)\(path) broke off after \(received) bytes: \(APIClient.describe(error))")
        }
        progress.finish(bytes: received)
        guard !toStandardOutput else { return }
        fsync(descriptor)
        close(descriptor)
        guard rename(partial, target) == 0 else { throw CLIError("cannot write \(target): \(String(cString: strerror(errno)))") }
        output.document(.object(["path": .string(path), "file": .string(target), "bytes": .integer(received)]))
        output.line("Downloaded \(Files.scheme)\(path) to \(target) (\(formatBytes(received)))")
    }
}

/// `flint files rm`
struct FilesRemove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm", abstract: "Delete files.",
        discussion: """
            Examples:
              flint files rm flint:avatars/alice.png
              flint files rm docs/a.pdf docs/b.pdf
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The files' paths (flint: optional).") var paths: [String]

    func validate() throws {
        if paths.isEmpty { throw ValidationError("give the path of a file to delete") }
    }

    func run() async throws {
        let output = global.output
        let client = try global.client()
        var removed: [JSON] = []
        for text in paths {
            let path = Files.remotePath(text)
            _ = try await client.send(.DELETE, Files.route(path))
            removed.append(.string(path))
            output.line("Removed \(Files.scheme)\(path)")
        }
        output.document(.object(["removed": .array(removed)]))
    }
}

/// `flint files sign`
struct FilesSign: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign", abstract: "Print a link that downloads a file without a token until it expires.",
        discussion: """
            The link dies when it expires and when the file is replaced or deleted.

            Examples:
              flint files sign avatars/alice.png
              flint files sign flint:docs/report.pdf --expires-in 86400
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The file's path (flint: optional).") var path: String
    @Option(name: .customLong("expires-in"), help: "Seconds the link lives (default 3600).") var expiresIn: Int = 3600

    func run() async throws {
        let output = global.output
        let path = Files.remotePath(self.path)
        let reply = try await global.client().json(.POST, Files.route(path) + ":sign", body: .object(["expiresIn": .integer(Int64(expiresIn))]))
        output.document(reply)
        output.line(reply["url"].display)
        if !output.json { Terminal.err("expires \(reply["expireTime"].display)\n") }
    }
}

/// Content types by file-name extension, for uploads without --content-type.
enum MediaTypes {
    static let byExtension: [String: String] = [
        "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp", "svg": "image/svg+xml",
        "avif": "image/avif", "heic": "image/heic", "ico": "image/vnd.microsoft.icon",
        "pdf": "application/pdf", "json": "application/json", "ndjson": "application/x-ndjson", "zip": "application/zip",
        "gz": "application/gzip", "tar": "application/x-tar", "wasm": "application/wasm", "xml": "application/xml",
        "txt": "text/plain", "md": "text/markdown", "csv": "text/csv", "html": "text/html", "htm": "text/html", "css": "text/css",
        "js": "text/javascript", "mp3": "audio/mpeg", "wav": "audio/wav", "ogg": "audio/ogg", "m4a": "audio/mp4",
        "mp4": "video/mp4", "webm": "video/webm", "mov": "video/quicktime", "woff2": "font/woff2", "woff": "font/woff",
    ]

    static func guess(_ path: String) -> String {
        byExtension[(path as NSString).pathExtension.lowercased()] ?? "application/octet-stream"
    }
}
