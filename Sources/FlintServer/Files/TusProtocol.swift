import FlintCore
import HTTPTypes
import Hummingbird
import Synchronization

/// The constants and header formats of tus 1.0 (https://tus.io/protocols/resumable-upload).
enum TusProtocol {
    static let version = "1.0.0"
    static let extensions = "creation,creation-with-upload,termination,checksum,expiration"
    /// The content type of every body that carries upload bytes.
    static let offsetContentType = "application/offset+octet-stream"

    static let resumable = HTTPField.Name("Tus-Resumable")!
    static let versionHeader = HTTPField.Name("Tus-Version")!
    static let extensionHeader = HTTPField.Name("Tus-Extension")!
    static let maxSize = HTTPField.Name("Tus-Max-Size")!
    static let checksumAlgorithm = HTTPField.Name("Tus-Checksum-Algorithm")!
    static let uploadLength = HTTPField.Name("Upload-Length")!
    static let uploadDeferLength = HTTPField.Name("Upload-Defer-Length")!
    static let uploadOffset = HTTPField.Name("Upload-Offset")!
    static let uploadMetadata = HTTPField.Name("Upload-Metadata")!
    static let uploadExpires = HTTPField.Name("Upload-Expires")!
    static let uploadChecksum = HTTPField.Name("Upload-Checksum")!
    static let methodOverride = HTTPField.Name("X-HTTP-Method-Override")!

    /// 460, the checksum extension's status for bytes that do not match `Upload-Checksum`.
    static let checksumMismatch = HTTPResponse.Status(code: 460, reasonPhrase: "Checksum Mismatch")

    /// Parses `Upload-Metadata`: comma-separated `key base64value` pairs (the value may be missing).
    /// - Throws: `FlintError` with `invalid-argument` naming the pair at fault.
    static func metadata(_ header: String) throws(FlintError) -> [String: String] {
        var result: [String: String] = [:]
        for pair in header.split(separator: ",") {
            let parts = pair.split(separator: " ", omittingEmptySubsequences: true)
            guard let key = parts.first, parts.count <= 2 else {
                throw FlintError.invalidArgument("Upload-Metadata has a malformed pair \"\(pair.prefix(60))\"; write key and base64 value")
            }
            guard result[String(key)] == nil else { throw FlintError.invalidArgument("Upload-Metadata repeats the key \(key)") }
            var value = ""
            if parts.count == 2 {
                guard let bytes = Base64.decode(String(parts[1])), let text = String(validating: bytes, as: UTF8.self) else {
                    throw FlintError.invalidArgument("Upload-Metadata's value of \(key) is not base64 of UTF-8 text")
                }
                value = text
            }
            result[String(key)] = value
        }
        return result
    }

    /// A non-negative integer header.
    static func integer(_ request: Request, _ name: HTTPField.Name) throws(FlintError) -> Int64? {
        guard let text = request.headers[name] else { return nil }
        guard let value = Int64(text.trimmingPrefix(" ")), value >= 0 else {
            throw FlintError.invalidArgument("\(name) must be a non-negative integer, not \"\(text)\"")
        }
        return value
    }
}

/// The uploads a request is writing to right now: a second concurrent `PATCH` to the same upload is refused (409)
/// rather than interleaved.
final class UploadLocks: Sendable {
    private let busy = Mutex<Set<String>>([])

    /// Takes the upload; false when another request holds it.
    func acquire(_ id: String) -> Bool {
        busy.withLock { $0.insert(id).inserted }
    }

    func release(_ id: String) {
        _ = busy.withLock { $0.remove(id) }
    }
}
