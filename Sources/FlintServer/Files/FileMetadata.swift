public import FlintCore

/// What the database knows of a stored object.
public struct FileMetadata: Sendable, Equatable {
    public var path: ObjectPath
    /// The blob store's id of the object's bytes: opaque, never derived from the path.
    var blob: String
    public var size: Int64
    public var contentType: String
    public var md5: [UInt8]
    public var sha256: [UInt8]
    /// Changes, and never repeats, whenever the object's bytes are written: the `ETag` of downloads.
    public var generation: Int64
    /// Counts metadata changes within one generation, from 1.
    public var metageneration: Int64
    public var customMetadata: [String: String]
    public var contentDisposition: String?
    public var cacheControl: String?
    /// The uid of the user who uploaded this generation; nil when uploaded without an identity.
    public var uploader: String?
    public var createTime: Timestamp
    public var updateTime: Timestamp

    /// The strong entity tag of the object's bytes: its generation, quoted.
    public var etag: String { "\"\(generation)\"" }

    /// The metadata as the API shows it.
    public var json: JSON {
        var object: [String: JSON] = [
            "path": .string(path.string),
            "name": .string(String(path.name)),
            "size": .integer(size),
            "contentType": .string(contentType),
            "md5Hash": .string(Base64.encode(md5)),
            "sha256": .string(Self.hex(sha256)),
            "etag": .string(etag),
            "generation": .integer(generation),
            "metageneration": .integer(metageneration),
            "customMetadata": .object(customMetadata.mapValues(JSON.string)),
            "createTime": .string(createTime.description),
            "updateTime": .string(updateTime.description),
            "uploader": uploader.map(JSON.string) ?? .null,
        ]
        if let contentDisposition { object["contentDisposition"] = .string(contentDisposition) }
        if let cacheControl { object["cacheControl"] = .string(cacheControl) }
        return .object(object)
    }

    /// What rules see of this object as it would be after a write that keeps its bytes (a metadata update).
    func incoming(contentType: String? = nil, metadata: [String: String]? = nil) -> IncomingFile {
        IncomingFile(size: size, contentType: contentType ?? self.contentType, metadata: metadata ?? customMetadata)
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// The attributes a writer sets on an object besides its bytes.
struct ObjectAttributes: Sendable, Equatable {
    var contentType: String
    var customMetadata: [String: String] = [:]
    var contentDisposition: String? = nil
    var cacheControl: String? = nil

    /// The most bytes of custom metadata (keys plus values), as in Cloud Storage.
    static var maximumCustomMetadataBytes: Int { 8192 }

    /// Checks custom metadata: keys of 1 to 256 bytes without control characters; at most 8 KiB in all.
    static func validate(customMetadata: [String: String]) throws(FlintError) {
        var total = 0
        for (key, value) in customMetadata {
            guard (1...256).contains(key.utf8.count) else {
                throw FlintError.invalidArgument("custom metadata keys are 1 to 256 bytes; \"\(key.prefix(40))\" is not")
            }
            guard !key.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
                throw FlintError.invalidArgument("custom metadata keys must not contain control characters")
            }
            total += key.utf8.count + value.utf8.count
        }
        guard total <= maximumCustomMetadataBytes else {
            throw FlintError.invalidArgument("custom metadata is at most \(maximumCustomMetadataBytes) bytes in all; this has \(total)")
        }
    }

    /// Checks a header-like value (`Content-Disposition`, `Cache-Control`): printable ASCII, at most 1024 bytes.
    static func validateHeaderValue(_ value: String, name: String) throws(FlintError) {
        guard value.utf8.count <= 1024, value.utf8.allSatisfy({ (0x20...0x7E).contains($0) }) else {
            throw FlintError.invalidArgument("\(name) must be printable ASCII of at most 1024 bytes")
        }
    }
}

/// What a write requires of the object it replaces.
enum ObjectPrecondition: Sendable, Equatable {
    /// `If-None-Match: *`: there must be no object.
    case absent
    /// `If-Match: *`: there must be an object.
    case exists
    /// `If-Match: "<generation>"`: the object must be this generation.
    case generation(Int64)

    func check(_ existing: FileMetadata?, path: ObjectPath) throws(FlintError) {
        switch self {
        case .absent:
            if existing != nil { throw FlintError.failedPrecondition("\(path) already exists (If-None-Match: *)") }
        case .exists:
            if existing == nil { throw FlintError.failedPrecondition("\(path) does not exist (If-Match: *)") }
        case .generation(let generation):
            guard let existing else { throw FlintError.failedPrecondition("\(path) does not exist (If-Match: \"\(generation)\")") }
            guard existing.generation == generation else {
                throw FlintError.failedPrecondition("\(path) is at generation \(existing.generation), not \(generation) (If-Match)")
            }
        }
    }
}
