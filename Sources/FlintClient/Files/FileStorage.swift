import AsyncHTTPClient
public import FlintCore
import NIOHTTP1
public import Foundation
import NIOCore

/// A stored file's metadata, as the server reports it.
public struct FileMetadata: Sendable, Equatable {
    public var path: String
    public var size: Int64
    public var contentType: String
    public var md5Hash: String?
    public var sha256: String?
    /// Changes whenever the file's bytes are written; never repeats.
    public var generation: Int64
    public var customMetadata: [String: String]
    public var updateTime: Timestamp?

    init(json: JSON) throws(FlintError) {
        let object = try JSONObject(json, context: "metadata")
        path = try object.string("path")
        size = try object.optionalInteger("size") ?? 0
        contentType = try object.optionalString("contentType") ?? "application/octet-stream"
        md5Hash = try? object.optionalString("md5Hash")
        sha256 = try? object.optionalString("sha256")
        generation = try object.optionalInteger("generation") ?? 0
        customMetadata = [:]
        if case .object(let members)? = object["customMetadata"] {
            for (key, value) in members { if case .string(let text) = value { customMetadata[key] = text } }
        }
        updateTime = (try? object.optionalString("updateTime")).flatMap { $0.flatMap(Timestamp.init(rfc3339:)) }
    }
}

/// How far an upload has come; the last element carries the stored file's metadata.
public struct UploadProgress: Sendable {
    public var bytesSent: Int64
    public var totalBytes: Int64
    /// Set on the last element, once the file is stored and visible.
    public var metadata: FileMetadata?

    public var fractionCompleted: Double { totalBytes == 0 ? 1 : Double(bytesSent) / Double(totalBytes) }
}

/// Files (sdk-docs/files.md): resumable uploads with progress, downloads to memory or to a file, metadata, deletion.
/// Online only: files are not cached.
public struct FileStorage: Sendable {
    let rest: RESTClient
    let auth: Auth
    let http: HTTPClient
    /// The bytes sent per tus `PATCH`: the granularity of progress and of what a failure costs.
    public static let chunkSize = 1 << 20

    /// Uploads a file from disk with the tus protocol: the bytes go in chunks, each acknowledged durably by the
    /// server; after a network failure the upload asks the server where it stopped and resumes from there (a few
    /// times, with pauses). The sequence yields progress after each chunk and ends with the stored file's metadata.
    public func upload(
        fileAt url: URL, to path: String, contentType: String? = nil, customMetadata: [String: String] = [:]
    ) -> AsyncThrowingStream<UploadProgress, any Error> {
        stream { continuation in
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }
            let size = Int64(try handle.seekToEnd())
            return try await tusUpload(
                path: path, size: size, contentType: contentType, customMetadata: customMetadata, continuation: continuation
            ) { offset, count in
                try handle.seek(toOffset: UInt64(offset))
                return Array(try handle.read(upToCount: count) ?? Data())
            }
        }
    }

    /// Uploads bytes from memory, as `upload(fileAt:…)` does.
    public func upload(
        data: Data, to path: String, contentType: String? = nil, customMetadata: [String: String] = [:]
    ) -> AsyncThrowingStream<UploadProgress, any Error> {
        stream { continuation in
            try await tusUpload(
                path: path, size: Int64(data.count), contentType: contentType, customMetadata: customMetadata, continuation: continuation
            ) { offset, count in
                Array(data[data.startIndex + Int(offset)..<data.startIndex + min(data.count, Int(offset) + count)])
            }
        }
    }

    private func stream(
        _ body: @escaping @Sendable (AsyncThrowingStream<UploadProgress, any Error>.Continuation) async throws -> FileMetadata
    ) -> AsyncThrowingStream<UploadProgress, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: UploadProgress.self)
        let task = Task {
            do {
                _ = try await body(continuation)
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    private func tusUpload(
        path: String, size: Int64, contentType: String?, customMetadata: [String: String],
        continuation: AsyncThrowingStream<UploadProgress, any Error>.Continuation,
        read: @Sendable (Int64, Int) throws -> [UInt8]
    ) async throws -> FileMetadata {
        var metadata = [("path", path)]
        if let contentType { metadata.append(("contentType", contentType)) }
        metadata += customMetadata.sorted { $0.key < $1.key }
        let header = metadata.map { "\($0.0) \(Base64.encode(Array($0.1.utf8)))" }.joined(separator: ",")
        let created = try await rest.send(
            .POST, "/v1/uploads", token: try await auth.accessToken(),
            headers: [("Tus-Resumable", "1.0.0"), ("Upload-Length", String(size)), ("Upload-Metadata", header)])
        try RESTClient.check(created)
        guard var location = created.headers.first(name: "Location") else { throw FlintError(.internal, "the server gave no upload location") }
        if let url = URL(string: location), url.host != nil { location = url.path }
        var offset: Int64 = 0
        var failures = 0
        continuation.yield(UploadProgress(bytesSent: 0, totalBytes: size))
        while offset < size {
            try Task.checkCancellation()
            let chunk = try read(offset, Self.chunkSize)
            do {
                let reply = try await rest.send(
                    .PATCH, location, body: chunk, contentType: "application/offset+octet-stream", token: try await auth.accessToken(),
                    headers: [("Tus-Resumable", "1.0.0"), ("Upload-Offset", String(offset))])
                try RESTClient.check(reply)
                offset = reply.headers.first(name: "Upload-Offset").flatMap { Int64($0) } ?? offset + Int64(chunk.count)
                failures = 0
                continuation.yield(UploadProgress(bytesSent: offset, totalBytes: size))
            } catch let error as FlintError where error.code == .unavailable || error.code == .failedPrecondition {
                // Cut off, or the offset moved: ask the server where the upload stands, and go on from there.
                failures += 1
                guard failures <= 5 else { throw error }
                try await Task.sleep(for: .milliseconds(200 * (1 << failures)))
                guard let head = try? await rest.send(.HEAD, location, token: try await auth.accessToken(), headers: [("Tus-Resumable", "1.0.0")]),
                    head.status.code == 200, let stored = head.headers.first(name: "Upload-Offset").flatMap(Int64.init)
                else { continue }
                offset = stored
            }
        }
        let stored = try await self.metadata(path)
        continuation.yield(UploadProgress(bytesSent: size, totalBytes: size, metadata: stored))
        return stored
    }

    /// A stored file's metadata.
    public func metadata(_ path: String) async throws -> FileMetadata {
        try FileMetadata(json: try await rest.json(.GET, "/v1/files/" + Self.encode(path) + "?metadata", token: try await auth.accessToken()))
    }

    /// The whole file in memory (at most `maximumSize` bytes).
    public func data(_ path: String, maximumSize: Int = 64 << 20) async throws -> Data {
        let reply = try await rest.send(.GET, "/v1/files/" + Self.encode(path), token: try await auth.accessToken(), maximumBytes: maximumSize)
        try RESTClient.check(reply)
        return Data(reply.body)
    }

    /// Streams the file to `destination` (written to a temporary file beside it, then moved into place).
    public func download(_ path: String, to destination: URL) async throws {
        var request = HTTPClientRequest(url: rest.baseURL + "/v1/files/" + Self.encode(path))
        if let token = try await auth.accessToken() { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: rest.timeout)
        } catch {
            throw RESTClient.unreachable(error)
        }
        guard response.status.code == 200 else {
            let body = try await response.body.collect(upTo: 1 << 20)
            throw RESTClient.error(from: .init(status: response.status, headers: response.headers, body: Array(body.readableBytesView)))
        }
        let temporary = destination.deletingLastPathComponent().appendingPathComponent(".\(destination.lastPathComponent).\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: temporary.path, contents: nil)
        let handle = try FileHandle(forWritingTo: temporary)
        do {
            for try await buffer in response.body { try handle.write(contentsOf: Data(buffer.readableBytesView)) }
            try handle.synchronize()
            try handle.close()
            _ = try? FileManager.default.removeItem(at: destination)
            try FileManager.default.moveItem(at: temporary, to: destination)
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(at: temporary)
            throw error is FlintError ? error : RESTClient.unreachable(error)
        }
    }

    /// Deletes a stored file.
    public func delete(_ path: String) async throws {
        _ = try await rest.json(.DELETE, "/v1/files/" + Self.encode(path), token: try await auth.accessToken())
    }

    static func encode(_ path: String) -> String {
        RESTClient.encode(path.split(separator: "/", omittingEmptySubsequences: false).map(String.init))
    }
}
