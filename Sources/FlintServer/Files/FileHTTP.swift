import FlintCore
import Foundation
import Hummingbird

#if canImport(Glibc)
import Glibc
#endif

/// An error answered with a status other than its code's usual one: 411, 413 and 416 for files, and the statuses
/// the tus protocol prescribes. The body is still the JSON error of DESIGN.md.
struct FileHTTPError: Error {
    var error: FlintError
    var status: HTTPResponse.Status
    var headers: HTTPFields

    init(_ error: FlintError, status: HTTPResponse.Status, headers: HTTPFields = [:]) {
        self.error = error
        self.status = status
        self.headers = headers
    }

    var response: Response { .error(error, status: status, headers: headers) }
}

/// HTTP details the file routes share: entity tags, preconditions, dates.
enum FileHTTP {
    /// Runs a route, answering `FileHTTPError`s with their own status; other errors go on to `ErrorMiddleware`.
    static func answering(_ body: () async throws -> Response) async throws -> Response {
        do {
            return try await body()
        } catch let error as FileHTTPError {
            return error.response
        } catch let error as BlobError {
            return .error(describe(error), status: status(of: error))
        }
    }

    static func describe(_ error: BlobError) -> FlintError {
        switch error {
        case .tooLong(let limit): FlintError(.resourceExhausted, "the body is longer than the \(limit) bytes allowed here")
        case .incomplete(let expected, let received):
            FlintError.invalidArgument("the body ended after \(received) of the \(expected) bytes its Content-Length announced")
        case .checksumMismatch: FlintError.invalidArgument("the bytes do not match Upload-Checksum; nothing of them was kept")
        case .missingPartial: FlintError(.internal, "the upload's stored bytes are missing; start a new upload")
        }
    }

    static func status(of error: BlobError) -> HTTPResponse.Status {
        switch error {
        case .tooLong: .contentTooLarge
        case .incomplete: .badRequest
        case .checksumMismatch: HTTPResponse.Status(code: 460, reasonPhrase: "Checksum Mismatch")
        case .missingPartial: .internalServerError
        }
    }

    /// Whether an `If-None-Match` or `If-Match` list names `etag` (or is `*`). Weak comparison for `If-None-Match`
    /// (RFC 9110 §13.1.2), strong for `If-Match` (§13.1.1).
    static func list(_ header: String, matches etag: String, weak: Bool) -> Bool {
        header.split(separator: ",").contains { item in
            let tag = item.trimmingCharacters(in: .whitespaces)
            return tag == "*" || tag == etag || (weak && tag == "W/" + etag)
        }
    }

    /// The write precondition of `If-Match` (`*` or `"<generation>"`) and `If-None-Match: *`.
    static func precondition(_ request: Request) throws(FlintError) -> ObjectPrecondition? {
        if let header = request.headers[.ifNoneMatch] {
            guard header.trimmingCharacters(in: .whitespaces) == "*" else {
                throw FlintError.invalidArgument("a write accepts If-None-Match: * (create only), not an entity tag")
            }
            return .absent
        }
        guard let header = request.headers[.ifMatch] else { return nil }
        let tag = header.trimmingCharacters(in: .whitespaces)
        if tag == "*" { return .exists }
        guard tag.hasPrefix("\""), tag.hasSuffix("\""), tag.count >= 3, let generation = Int64(tag.dropFirst().dropLast()) else {
            throw FlintError.invalidArgument("If-Match must be * or a file's ETag such as \"42\"")
        }
        return .generation(generation)
    }

    /// An IMF-fixdate (RFC 9110 §5.6.7): `Sun, 06 Nov 1994 08:49:37 GMT`.
    static func date(_ timestamp: Timestamp) -> String {
        var seconds = time_t(timestamp.microseconds / 1_000_000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }

    /// `Content-Disposition` for a download: the stored one, or inline with the object's own name (RFC 6266, with
    /// RFC 8187's `filename*` for names beyond ASCII).
    static func disposition(of object: FileMetadata) -> String {
        if let stored = object.contentDisposition { return stored }
        let name = String(object.path.name)
        let ascii = String(String.UnicodeScalarView(name.unicodeScalars.map { scalar in
            (0x20...0x7E).contains(scalar.value) && scalar != "\"" && scalar != "\\" ? scalar : "_"
        }))
        let encoded = name.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? ascii
        return "inline; filename=\"\(ascii)\"; filename*=UTF-8''\(encoded)"
    }
}
