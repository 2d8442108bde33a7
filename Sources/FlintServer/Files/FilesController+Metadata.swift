import FlintCore
import Hummingbird
import NIOCore

extension FilesController {
    /// `PATCH /v1/files/{path}`: changes `contentType`, `contentDisposition`, `cacheControl` and `customMetadata`
    /// (merged key by key; a null value removes a key, a null map removes them all). The bytes stay; the
    /// metageneration counts up.
    func updateMetadata(_ request: Request, _ context: Context) async throws -> Response {
        let path = try ObjectPath.fromRequestPath(request.uri.path, after: Self.prefix)
        guard case .object(let fields) = try await request.json(limit: Self.maximumJSONBody) else {
            throw FlintError.invalidArgument("the body is a JSON object of contentType, contentDisposition, cacheControl and customMetadata")
        }
        for key in fields.keys where !["contentType", "contentDisposition", "cacheControl", "customMetadata"].contains(key) {
            throw FlintError.invalidArgument(
                "unknown field \(key); a file's metadata has contentType, contentDisposition, cacheControl and customMetadata")
        }
        let contentType = try fields["contentType"].map { json throws(FlintError) in
            guard case .string(let text) = json else { throw FlintError.invalidArgument("contentType must be a string") }
            return try storage.limits.contentTypes.check(text)
        }
        let disposition = try Self.optionalHeaderValue(fields, "contentDisposition", name: "Content-Disposition")
        let cacheControl = try Self.optionalHeaderValue(fields, "cacheControl", name: "Cache-Control")
        var metadataChanges: [String: String?]? = nil
        switch fields["customMetadata"] {
        case nil: break
        case .null?: metadataChanges = [:]
        case .object(let members)?:
            var changes: [String: String?] = [:]
            for (key, value) in members {
                switch value {
                case .string(let text): changes[key] = .some(text)
                case .null: changes[key] = .some(nil)
                default: throw FlintError.invalidArgument("customMetadata.\(key) must be a string, or null to remove it")
                }
            }
            metadataChanges = changes
        default:
            throw FlintError.invalidArgument("customMetadata must be an object of strings (null removes a key)")
        }
        let clearMetadata = fields["customMetadata"] == .null
        let updated = try await storage.update(path, identity: context.identity, precondition: try FileHTTP.precondition(request)) {
            existing throws(FlintError) in
            var attributes = ObjectAttributes(
                contentType: contentType ?? existing.contentType, customMetadata: clearMetadata ? [:] : existing.customMetadata,
                contentDisposition: existing.contentDisposition, cacheControl: existing.cacheControl)
            if let disposition { attributes.contentDisposition = disposition }
            if let cacheControl { attributes.cacheControl = cacheControl }
            for (key, value) in metadataChanges ?? [:] { attributes.customMetadata[key] = value }
            try ObjectAttributes.validate(customMetadata: attributes.customMetadata)
            return attributes
        }
        return .json(updated.json, headers: [.eTag: updated.etag])
    }

    /// A header-like field of a metadata update: absent (nil), null (`.some(nil)`, remove it) or a string.
    private static func optionalHeaderValue(_ fields: [String: JSON], _ key: String, name: String) throws(FlintError) -> String?? {
        switch fields[key] {
        case nil: return nil
        case .null?: return .some(nil)
        case .string(let text)?:
            try ObjectAttributes.validateHeaderValue(text, name: name)
            return .some(text)
        default: throw FlintError.invalidArgument("\(key) must be a string, or null to remove it")
        }
    }

    // MARK: Signed links

    /// `POST /v1/files/{path}:sign` with an optional body `{"expiresIn": seconds}` or `{"expireTime": RFC 3339}`:
    /// a URL that downloads this generation of the object without a token until it expires.
    func sign(_ request: Request, _ context: Context) async throws -> Response {
        guard request.uri.path.hasSuffix(":sign") else {
            throw FlintError.invalidArgument("POST on a file signs a link: POST /v1/files/{path}:sign; upload with PUT")
        }
        let path = try ObjectPath.fromRequestPath(request.uri.path, after: Self.prefix, removing: ":sign")
        let now = Timestamp.now().microseconds / 1_000_000
        let maximum = storage.limits.linkMaximumLifetimeSeconds
        var expires = now + min(3600, maximum)
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: Self.maximumJSONBody)
        } catch is NIOTooManyBytesError {
            throw HTTPError(.contentTooLarge)
        }
        if buffer.readableBytes > 0 {
            guard case .object(let fields) = try JSON(parsing: buffer.readableBytesView) else {
                throw FlintError.invalidArgument("the body is a JSON object with expiresIn (seconds) or expireTime (RFC 3339)")
            }
            switch (fields["expiresIn"], fields["expireTime"]) {
            case (nil, nil):
                break
            case (.integer(let seconds)?, nil):
                guard (1...maximum).contains(seconds) else {
                    throw FlintError.invalidArgument("expiresIn is from 1 to \(maximum) seconds (FLINT_SIGNED_LINK_MAX_LIFETIME)")
                }
                expires = now + seconds
            case (nil, .string(let text)?):
                // A time in the past is allowed: the link is born expired, which clients can use to test their handling.
                guard let time = Timestamp(rfc3339: text), time.microseconds / 1_000_000 <= now + maximum else {
                    throw FlintError.invalidArgument(
                        "expireTime is an RFC 3339 time at most \(maximum) seconds from now (FLINT_SIGNED_LINK_MAX_LIFETIME)")
                }
                expires = time.microseconds / 1_000_000
            default:
                throw FlintError.invalidArgument("give expiresIn (an integer of seconds) or expireTime (RFC 3339), not both")
            }
        }
        let object = try await storage.readable(path, identity: context.identity)
        let link = signer.sign(path, generation: object.generation, expires: expires)
        return .json(
            .object([
                "url": .string(publicURL() + Self.prefix + path.urlEncoded + "?" + link.query),
                "expireTime": .string(Timestamp(microseconds: expires * 1_000_000).description),
                "generation": .integer(object.generation),
            ]))
    }
}
