import FlintCore
import Hummingbird
import NIOCore

/// Resumable uploads with tus 1.0 at `/v1/uploads`: core, creation, creation-with-upload, termination, checksum
/// (sha1, md5, sha256) and expiration, so that existing tus clients work.
///
/// `POST /v1/uploads` with `Upload-Length` and `Upload-Metadata` (`path`, `contentType` or `filetype`; other keys
/// become custom metadata) creates an upload; `PATCH /v1/uploads/{id}` appends at `Upload-Offset`; `HEAD` tells how
/// far it came. Bytes are synced before their offset is recorded, so an interrupted upload resumes from the last
/// offset reported. The object becomes visible only when the last byte arrives, through the same commit as a simple
/// upload. Errors carry the JSON error body and the statuses the protocol prescribes.
struct TusController: Sendable {
    typealias Context = FlintRequestContext
    let storage: FileStorage

    static let prefix = "/v1/uploads"

    func addRoutes(to router: Router<Context>) {
        router.on("/v1/uploads", method: .options) { _, _ in self.options() }
        router.post("/v1/uploads") { request, context in try await self.answering { try await self.create(request, context) } }
        router.head("/v1/uploads/{id}") { request, context in try await self.answering { try await self.head(request, context) } }
        router.patch("/v1/uploads/{id}") { request, context in try await self.answering { try await self.patch(request, context) } }
        router.delete("/v1/uploads/{id}") { request, context in try await self.answering { try await self.terminate(request, context) } }
        // For clients behind proxies that allow only GET and POST (tus core, X-HTTP-Method-Override).
        router.post("/v1/uploads/{id}") { request, context in
            try await self.answering {
                switch request.headers[TusProtocol.methodOverride]?.uppercased() {
                case "PATCH": try await self.patch(request, context)
                case "DELETE": try await self.terminate(request, context)
                case "HEAD": try await self.head(request, context)
                default: throw FlintError.invalidArgument("POST on an upload needs X-HTTP-Method-Override: PATCH, DELETE or HEAD")
                }
            }
        }
    }

    // MARK: Routes

    /// `OPTIONS`: what this server supports.
    func options() -> Response {
        Response(
            status: .noContent,
            headers: [
                TusProtocol.resumable: TusProtocol.version, TusProtocol.versionHeader: TusProtocol.version,
                TusProtocol.extensionHeader: TusProtocol.extensions, TusProtocol.maxSize: String(storage.limits.maximumSize),
                TusProtocol.checksumAlgorithm: UploadChecksum.Algorithm.allCases.map(\.rawValue).joined(separator: ","),
            ])
    }

    /// `POST /v1/uploads`: a new upload, authorised as a create (or update) of its object with the declared length; with
    /// a body (creation-with-upload), its first bytes too.
    func create(_ request: Request, _ context: Context) async throws -> Response {
        try Self.checkVersion(request)
        guard let length = try TusProtocol.integer(request, TusProtocol.uploadLength) else {
            if request.headers[TusProtocol.uploadDeferLength] != nil {
                throw FlintError.invalidArgument("this server needs Upload-Length when an upload is created (no creation-defer-length)")
            }
            throw FlintError.invalidArgument("Upload-Length is missing: give the upload's total size in bytes")
        }
        var fields = try TusProtocol.metadata(request.headers[TusProtocol.uploadMetadata] ?? "")
        guard let pathText = fields.removeValue(forKey: "path") else {
            throw FlintError.invalidArgument("Upload-Metadata needs path: the object's path, base64-encoded")
        }
        let path = try ObjectPath(pathText)
        let contentType = fields.removeValue(forKey: "contentType") ?? fields["filetype"]
        let attributes = ObjectAttributes(contentType: try storage.limits.contentTypes.check(contentType), customMetadata: fields)
        try ObjectAttributes.validate(customMetadata: fields)
        try await storage.admit(path, attributes: attributes, size: length, identity: context.identity, precondition: nil)

        let blob = try await storage.blobs.createPartial()
        let now = Timestamp.now()
        let upload = PendingUpload(
            id: FileSystemBlobStore.newID(), path: path, blob: blob, length: length, offset: 0, attributes: attributes,
            rawMetadata: request.headers[TusProtocol.uploadMetadata] ?? "", uploader: context.identity?.uid, createTime: now,
            expireTime: Timestamp(microseconds: now.microseconds + storage.limits.uploadExpirySeconds * 1_000_000))
        do {
            try await storage.metadata.createUpload(upload)
        } catch {
            await storage.removeBlob(blob)
            throw error
        }
        var headers: HTTPFields = [.location: Self.prefix + "/" + upload.id, TusProtocol.uploadExpires: FileHTTP.date(upload.expireTime)]
        let hasBody = (try TusProtocol.integer(request, .contentLength)).map { $0 > 0 } ?? (request.headers[.transferEncoding] != nil)
        if length == 0 || (hasBody && request.headers[.contentType] == TusProtocol.offsetContentType) {
            let offset = try await append(to: upload, request, context)
            headers[TusProtocol.uploadOffset] = String(offset)
        }
        return Response(status: .created, headers: headers)
    }

    /// `HEAD /v1/uploads/{id}`: the offset to resume from.
    func head(_ request: Request, _ context: Context) async throws -> Response {
        let upload = try await upload(request, context)
        var headers: HTTPFields = [
            TusProtocol.uploadOffset: String(upload.offset), TusProtocol.uploadLength: String(upload.length),
            TusProtocol.uploadExpires: FileHTTP.date(upload.expireTime), .cacheControl: "no-store",
        ]
        if !upload.rawMetadata.isEmpty { headers[TusProtocol.uploadMetadata] = upload.rawMetadata }
        return Response(status: .ok, headers: headers)
    }

    /// `PATCH /v1/uploads/{id}`: bytes at `Upload-Offset`.
    func patch(_ request: Request, _ context: Context) async throws -> Response {
        let upload = try await upload(request, context)
        guard request.headers[.contentType] == TusProtocol.offsetContentType else {
            throw FileHTTPError(
                .invalidArgument("a PATCH carries Content-Type: \(TusProtocol.offsetContentType)"), status: .unsupportedMediaType)
        }
        guard let offset = try TusProtocol.integer(request, TusProtocol.uploadOffset) else {
            throw FlintError.invalidArgument("Upload-Offset is missing: send the offset HEAD reported")
        }
        guard offset == upload.offset else {
            throw FileHTTPError(
                .failedPrecondition("Upload-Offset is \(offset) but the upload has \(upload.offset) bytes; resume from \(upload.offset)"),
                status: .conflict)
        }
        let newOffset = try await append(to: upload, request, context)
        return Response(
            status: .noContent, headers: [TusProtocol.uploadOffset: String(newOffset), TusProtocol.uploadExpires: FileHTTP.date(upload.expireTime)])
    }

    /// `DELETE /v1/uploads/{id}` (termination): the upload and its bytes are gone.
    func terminate(_ request: Request, _ context: Context) async throws -> Response {
        let upload = try await upload(request, context, allowExpired: true)
        guard storage.uploadLocks.acquire(upload.id) else { throw Self.busy }
        defer { storage.uploadLocks.release(upload.id) }
        if let removed = try await storage.metadata.deleteUpload(upload.id) { await storage.removeBlob(removed.blob) }
        return Response(status: .noContent)
    }

    // MARK: Helpers

    /// Writes the request's body at the upload's offset; completes the upload when the last byte is in.
    /// - Returns: the new offset.
    private func append(to upload: PendingUpload, _ request: Request, _ context: Context) async throws -> Int64 {
        let checksum = try request.headers[TusProtocol.uploadChecksum].map { header throws(FlintError) in try UploadChecksum(header: header) }
        let remaining = upload.length - upload.offset
        if let declared = try TusProtocol.integer(request, .contentLength), declared > remaining {
            throw FileHTTPError(
                FlintError(.resourceExhausted, "the body has \(declared) bytes but only \(remaining) remain of Upload-Length"),
                status: .contentTooLarge)
        }
        guard storage.uploadLocks.acquire(upload.id) else { throw Self.busy }
        defer { storage.uploadLocks.release(upload.id) }
        let written = try await storage.blobs.append(
            to: upload.blob, at: upload.offset, request.body, maximumLength: remaining, checksum: checksum)
        let offset = upload.offset + written
        guard offset == upload.length else {
            guard try await storage.metadata.advance(upload.id, from: upload.offset, to: offset) else {
                throw FileHTTPError(.failedPrecondition("the upload moved on or was removed meanwhile; ask HEAD for its offset"), status: .conflict)
            }
            return offset
        }
        // The last byte is in: the object becomes visible now, or never.
        let blob = try await storage.blobs.completePartial(upload.blob, length: upload.length)
        do {
            _ = try await storage.commit(
                blob, to: upload.path, attributes: upload.attributes, identity: context.identity, precondition: nil, completingUpload: upload.id)
        } catch let error as FlintError where Self.isFinal(error) {
            // Refused for good (rules, quota, size): the upload cannot succeed by retrying, so it is removed.
            if try await storage.metadata.deleteUpload(upload.id) != nil { await storage.removeBlob(upload.blob) }
            throw error
        }
        return offset
    }

    /// The upload a request names, if the caller may use it (its creator, or an admin) and it has not expired.
    private func upload(_ request: Request, _ context: Context, allowExpired: Bool = false) async throws -> PendingUpload {
        try Self.checkVersion(request)
        let id = try context.parameters.require("id")
        guard let upload = try await storage.metadata.upload(id: id) else {
            throw FlintError.notFound("no upload \(id): it finished, was terminated, or expired")
        }
        if let uploader = upload.uploader, uploader != context.identity?.uid, context.identity?.isAdmin != true {
            throw FlintError(.permissionDenied, "this upload belongs to another user")
        }
        if !allowExpired, upload.expireTime < Timestamp.now() {
            throw FileHTTPError(FlintError.notFound("upload \(id) expired at \(upload.expireTime); start a new one"), status: .gone)
        }
        return upload
    }

    /// Every request but `OPTIONS` names the protocol version it speaks (tus core: 412 otherwise).
    private static func checkVersion(_ request: Request) throws(FileHTTPError) {
        guard request.headers[TusProtocol.resumable] == TusProtocol.version else {
            throw FileHTTPError(
                .failedPrecondition("this server speaks tus \(TusProtocol.version): send Tus-Resumable: \(TusProtocol.version)"),
                status: .preconditionFailed, headers: [TusProtocol.versionHeader: TusProtocol.version])
        }
    }

    /// Runs a tus route: every answer, errors included, carries `Tus-Resumable`; creation checks the version too.
    private func answering(_ body: () async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await FileHTTP.answering(body)
        } catch let error as FileHTTPError {
            response = error.response
        } catch let error as FlintError {
            response = .error(error, headers: error.code == .unauthenticated ? [.wwwAuthenticate: "Bearer realm=\"flint\""] : [:])
        }
        response.headers[TusProtocol.resumable] = TusProtocol.version
        return response
    }

    private static var busy: FileHTTPError {
        FileHTTPError(.failedPrecondition("another request is writing to this upload; wait for it, then ask HEAD for the offset"), status: .conflict)
    }

    /// Errors that retrying the same bytes cannot fix.
    private static func isFinal(_ error: FlintError) -> Bool {
        [.permissionDenied, .unauthenticated, .resourceExhausted, .failedPrecondition, .invalidArgument].contains(error.code)
    }
}
