import FlintCore
import Foundation
import Hummingbird
import NIOCore

/// The REST API of files: `/v1/files/{path…}` to upload (`PUT`), download (`GET`, `HEAD`, with ranges and signed
/// links), delete, read and update metadata (`GET …?metadata`, `PATCH`) and sign links (`POST …:sign`), and
/// `GET /v1/files` to list.
struct FilesController: Sendable {
    typealias Context = FlintRequestContext
    let storage: FileStorage
    let signer: LinkSigner
    /// The server's public URL, for signed links.
    let publicURL: @Sendable () -> String

    static let prefix = "/v1/files/"
    /// Bytes read from disk per chunk of a download.
    static var downloadChunkSize: Int { 256 * 1024 }
    /// The largest JSON body of the metadata and signing routes.
    static var maximumJSONBody: Int { 64 * 1024 }

    func addRoutes(to router: Router<Context>) {
        router.get("/v1/files") { request, context in try await FileHTTP.answering { try await self.list(request, context) } }
        router.put("/v1/files/**") { request, context in try await FileHTTP.answering { try await self.upload(request, context) } }
        router.get("/v1/files/**") { request, context in
            try await FileHTTP.answering { try await self.download(request, context, head: false) }
        }
        router.head("/v1/files/**") { request, context in
            try await FileHTTP.answering { try await self.download(request, context, head: true) }
        }
        router.delete("/v1/files/**") { request, context in try await FileHTTP.answering { try await self.delete(request, context) } }
        router.patch("/v1/files/**") { request, context in
            try await FileHTTP.answering { try await self.updateMetadata(request, context) }
        }
        router.post("/v1/files/**") { request, context in try await FileHTTP.answering { try await self.sign(request, context) } }
    }

    // MARK: Upload

    /// `PUT`: the body becomes the object, streamed to disk and made visible only once whole and committed.
    func upload(_ request: Request, _ context: Context) async throws -> Response {
        let path = try ObjectPath.fromRequestPath(request.uri.path, after: Self.prefix)
        guard let lengthText = request.headers[.contentLength], let length = Int64(lengthText), length >= 0 else {
            throw FileHTTPError(
                .invalidArgument("a simple upload needs Content-Length; for data of unknown length use a resumable upload (/v1/uploads)"),
                status: .lengthRequired)
        }
        let attributes = try attributes(of: request)
        let precondition = try FileHTTP.precondition(request)
        try await storage.admit(path, attributes: attributes, size: length, identity: context.identity, precondition: precondition)
        let blob = try await storage.blobs.store(request.body, expectedSize: length)
        do {
            let (object, created) = try await storage.commit(
                blob, to: path, attributes: attributes, identity: context.identity, precondition: precondition)
            var headers: HTTPFields = [.eTag: object.etag]
            if created { headers[.location] = Self.prefix + path.urlEncoded }
            return .json(object.json, status: created ? .created : .ok, headers: headers)
        } catch {
            await storage.removeBlob(blob.id)
            throw error
        }
    }

    /// The attributes a `PUT` sets: `Content-Type` (checked against the allow-list), `Content-Disposition`,
    /// `Cache-Control`, and custom metadata from `X-Flint-Meta-<key>` headers (keys lowercased).
    func attributes(of request: Request) throws(FlintError) -> ObjectAttributes {
        var attributes = ObjectAttributes(contentType: try storage.limits.contentTypes.check(request.headers[.contentType]))
        if let disposition = request.headers[.contentDisposition] {
            try ObjectAttributes.validateHeaderValue(disposition, name: "Content-Disposition")
            attributes.contentDisposition = disposition
        }
        if let cacheControl = request.headers[.cacheControl] {
            try ObjectAttributes.validateHeaderValue(cacheControl, name: "Cache-Control")
            attributes.cacheControl = cacheControl
        }
        let metaPrefix = "x-flint-meta-"
        for field in request.headers where field.name.canonicalName.hasPrefix(metaPrefix) {
            attributes.customMetadata[String(field.name.canonicalName.dropFirst(metaPrefix.count))] = field.value
        }
        try ObjectAttributes.validate(customMetadata: attributes.customMetadata)
        return attributes
    }

    // MARK: Download

    /// `GET` and `HEAD`: the object's bytes (or its metadata with `?metadata`), with conditional requests and a
    /// single byte range; by the caller's identity or by a signed link.
    func download(_ request: Request, _ context: Context, head: Bool) async throws -> Response {
        let path = try ObjectPath.fromRequestPath(request.uri.path, after: Self.prefix)
        let query = request.uri.queryParameters
        if query.has("metadata") {
            let object = try await storage.readable(path, identity: context.identity)
            return .json(object.json)
        }
        // The blob of the object just read can go if the object is replaced meanwhile: then read it again.
        for _ in 0..<3 {
            let object = try await query.has("signature") ? linked(path, query) : storage.readable(path, identity: context.identity)
            var headers: HTTPFields = [
                .eTag: object.etag, .lastModified: FileHTTP.date(object.updateTime),
                .cacheControl: object.cacheControl ?? "private, max-age=0",
            ]
            if let tags = request.headers[.ifNoneMatch], FileHTTP.list(tags, matches: object.etag, weak: true) {
                return Response(status: .notModified, headers: headers)
            }
            if let tags = request.headers[.ifMatch], !FileHTTP.list(tags, matches: object.etag, weak: false) {
                throw FileHTTPError(.failedPrecondition("\(path) is at generation \(object.generation) (If-Match)"), status: .preconditionFailed)
            }
            headers[.contentType] = object.contentType
            headers[.xContentTypeOptions] = "nosniff"
            headers[.contentSecurityPolicy] = "sandbox"
            headers[.contentDisposition] = FileHTTP.disposition(of: object)
            headers[.acceptRanges] = "bytes"
            // If-Range: the range holds only for the representation the client has (RFC 9110 §13.1.5).
            let rangeApplies = request.headers[.ifRange].map { $0.trimmingCharacters(in: .whitespaces) == object.etag } ?? true
            let rangeHeader = rangeApplies ? request.headers[.range] : nil
            var status = HTTPResponse.Status.ok
            var range = 0..<object.size
            switch ByteRange(header: rangeHeader, size: object.size) {
            case .whole:
                break
            case .part(let part):
                status = .partialContent
                range = part
                headers[.contentRange] = "bytes \(part.lowerBound)-\(part.upperBound - 1)/\(object.size)"
            case .unsatisfiable:
                throw FileHTTPError(
                    FlintError(.outOfRange, "the range \(rangeHeader ?? "") is outside the file's \(object.size) bytes"),
                    status: .rangeNotSatisfiable, headers: [.contentRange: "bytes */\(object.size)"])
            }
            headers[.contentLength] = String(range.count)
            if head { return Response(status: status, headers: headers, body: ResponseBody()) }
            guard let reader = try await storage.blobs.open(object.blob) else { continue }
            let bytes = range
            let body = ResponseBody(contentLength: bytes.count) { writer in
                try await reader.read(bytes, chunkSize: Self.downloadChunkSize) { try await writer.write($0) }
                try await writer.finish(nil)
            }
            return Response(status: status, headers: headers, body: body)
        }
        throw FlintError(.aborted, "\(path) kept changing while it was read; try again")
    }

    /// The object a signed link opens: the signature and expiry must hold, and the object must still be the
    /// generation the link was made for.
    func linked(_ path: ObjectPath, _ query: Parameters) async throws -> FileMetadata {
        guard let generation = query["generation"].flatMap({ Int64($0) }), let expires = query["expires"].flatMap({ Int64($0) }),
            let signature = query["signature"]
        else {
            throw FlintError.invalidArgument("a signed link carries generation, expires and signature; ask for a new one")
        }
        let link = LinkSigner.Link(generation: generation, expires: expires, signature: String(signature))
        try signer.verify(link, for: path, now: Timestamp.now().microseconds / 1_000_000)
        guard let object = try await storage.metadata.object(at: path), object.generation == generation else {
            throw FlintError.notFound("the file this link was signed for was replaced or deleted")
        }
        return object
    }

    // MARK: Delete and list

    func delete(_ request: Request, _ context: Context) async throws -> Response {
        let path = try ObjectPath.fromRequestPath(request.uri.path, after: Self.prefix)
        try await storage.delete(path, identity: context.identity, precondition: try FileHTTP.precondition(request))
        return Response(status: .noContent)
    }

    /// `GET /v1/files?prefix=&delimiter=&pageSize=&pageToken=`: objects in name order, with folders rolled up.
    func list(_ request: Request, _ context: Context) async throws -> Response {
        let query = request.uri.queryParameters
        let prefix = query["prefix"].map(String.init) ?? ""
        try ObjectPath.validatePrefix(prefix)
        var delimiter: String? = nil
        if let text = query["delimiter"], !text.isEmpty {
            guard text.utf8.count <= 16, !text.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
                throw FlintError.invalidArgument("delimiter is at most 16 bytes without control characters, usually /")
            }
            delimiter = String(text)
        }
        var pageSize = 100
        if let text = query["pageSize"] {
            guard let size = Int(text), (1...1000).contains(size) else { throw FlintError.invalidArgument("pageSize must be from 1 to 1000") }
            pageSize = size
        }
        var start: [UInt8]? = nil
        if let token = query["pageToken"], !token.isEmpty {
            guard let key = LinkSigner.decodeBase64URL(String(token)), key.starts(with: prefix.utf8) else {
                throw FlintError.invalidArgument("pageToken is not one this listing gave out; start again without it")
            }
            start = key
        }
        let listing = try await storage.list(prefix: prefix, delimiter: delimiter, start: start, pageSize: pageSize, identity: context.identity)
        var body: [String: JSON] = ["items": .array(listing.items.map(\.json)), "prefixes": .array(listing.prefixes.map(JSON.string))]
        if let next = listing.next { body["nextPageToken"] = .string(LinkSigner.base64URL(next)) }
        return .json(.object(body))
    }
}
