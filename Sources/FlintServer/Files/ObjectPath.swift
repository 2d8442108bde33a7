import FlintCore
import Foundation

/// The name of a stored object, such as `avatars/alice.png` or `rooms/r1/photos/x.jpg`: valid by construction.
///
/// Segments are separated by `/`. A name is 1 to 1024 bytes of UTF-8 (Cloud Storage's limit) with no NUL or other
/// control character, no empty segment (so no leading, trailing or doubled `/`: nothing absolute), and no `.` or `..`
/// segment. Names live only in the metadata; blobs on disk are named by opaque ids, so a name never reaches the
/// filesystem. The rules are strict anyway, so that names mean the same to every client and to security rules.
public struct ObjectPath: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The name, as users write it.
    public let string: String

    /// The most bytes of UTF-8 in a name.
    public static var maximumLength: Int { 1024 }

    /// Validates a name.
    /// - Throws: `FlintError` with `invalid-argument` saying what is wrong.
    public init(_ string: String) throws(FlintError) {
        guard !string.isEmpty else { throw FlintError.invalidArgument("an object path must not be empty") }
        try Self.validate(string, allowTrailingSlash: false, what: "an object path")
        self.string = string
    }

    /// A name known to be valid (read back from the database).
    init(trusted string: String) {
        self.string = string
    }

    /// The segments of the name.
    public var segments: [Substring] { string.split(separator: "/", omittingEmptySubsequences: false) }

    /// The last segment: the object's own name, used as the download's file name.
    public var name: Substring { segments[segments.count - 1] }

    public var description: String { string }

    public static func < (lhs: ObjectPath, rhs: ObjectPath) -> Bool { Array(lhs.string.utf8).lexicographicallyPrecedes(rhs.string.utf8) }

    /// Checks a list prefix: empty (everything), or a name that may end with `/`.
    static func validatePrefix(_ prefix: String) throws(FlintError) {
        if prefix.isEmpty { return }
        try validate(prefix, allowTrailingSlash: true, what: "a prefix")
    }

    private static func validate(_ string: String, allowTrailingSlash: Bool, what: String) throws(FlintError) {
        let bytes = string.utf8
        guard bytes.count <= maximumLength else {
            throw FlintError.invalidArgument("\(what) is at most \(maximumLength) bytes of UTF-8; this one has \(bytes.count)")
        }
        if let control = string.unicodeScalars.first(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw FlintError.invalidArgument(
                "\(what) must not contain control characters (found U+\(String(control.value, radix: 16, uppercase: true)))")
        }
        guard !string.hasPrefix("/") else {
            throw FlintError.invalidArgument("\(what) is relative: it must not start with /")
        }
        var segments = string.split(separator: "/", omittingEmptySubsequences: false)
        if allowTrailingSlash, segments.count > 1, segments.last == "" { segments.removeLast() }
        for segment in segments {
            if segment.isEmpty {
                throw FlintError.invalidArgument("\(what) must not have empty segments (a trailing or doubled /): \"\(string)\"")
            }
            if segment == "." || segment == ".." {
                throw FlintError.invalidArgument("\(what) must not have . or .. segments: \"\(string)\"")
            }
        }
    }

    /// The object a request names after `prefix` in its raw (percent-encoded) path, percent-decoded.
    /// - Parameter suffix: a custom method such as `:sign`, removed before decoding (an object whose name ends so is
    ///   written with the colon percent-encoded).
    static func fromRequestPath(_ raw: String, after prefix: String, removing suffix: String? = nil) throws(FlintError) -> ObjectPath {
        guard raw.hasPrefix(prefix) else { throw FlintError.invalidArgument("expected a path under \(prefix)") }
        var encoded = String(raw.dropFirst(prefix.count))
        if let suffix, encoded.hasSuffix(suffix) { encoded.removeLast(suffix.count) }
        guard let decoded = encoded.removingPercentEncoding else {
            throw FlintError.invalidArgument("the path has a malformed percent-escape: \"\(encoded)\"")
        }
        return try ObjectPath(decoded)
    }

    /// The name percent-encoded for a URL path, keeping `/` between segments.
    var urlEncoded: String {
        segments.map { $0.addingPercentEncoding(withAllowedCharacters: Self.segmentCharacters) ?? String($0) }.joined(separator: "/")
    }

    /// RFC 3986 unreserved characters plus sub-delims that are safe in a path segment; `:` is encoded, so that a name
    /// never looks like a custom method such as `:sign`.
    private static let segmentCharacters = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=@")
}
