import FlintCore
import Foundation

/// Which content types uploads may have: a list of media ranges (`image/png`, `image/*`, `*/*`).
struct ContentTypePolicy: Sendable, Equatable {
    /// The media ranges, lowercased.
    let allowed: [String]

    static let anything = ContentTypePolicy(allowed: ["*/*"])

    /// The type uploads get when they name none.
    static var fallback: String { "application/octet-stream" }

    init(allowed: [String]) {
        self.allowed = allowed.map { $0.lowercased() }
    }

    /// Parses a comma-separated list of media ranges; nil with a reason when one is malformed.
    static func parse(_ text: String) -> Result<ContentTypePolicy, ConfigurationError> {
        var ranges: [String] = []
        for item in text.split(separator: ",") {
            let range = item.trimmingCharacters(in: .whitespaces).lowercased()
            let parts = range.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2, isToken(parts[0]) || parts[0] == "*", isToken(parts[1]) || parts[1] == "*",
                parts[0] != "*" || parts[1] == "*"
            else {
                return .failure(ConfigurationError("FLINT_FILE_CONTENT_TYPES / --file-content-types: \"\(range)\" is not a media range such as image/png, image/* or */*"))
            }
            ranges.append(range)
        }
        guard !ranges.isEmpty else {
            return .failure(ConfigurationError("FLINT_FILE_CONTENT_TYPES / --file-content-types must list at least one media range (*/* allows all)"))
        }
        return .success(ContentTypePolicy(allowed: ranges))
    }

    /// The content type of an upload, from its `Content-Type` (or tus metadata): checked, and allowed by the policy.
    /// - Throws: `FlintError` with `invalid-argument` for a malformed type, `permission-denied` for one not allowed.
    func check(_ header: String?) throws(FlintError) -> String {
        let contentType = header?.trimmingCharacters(in: .whitespaces) ?? ""
        if contentType.isEmpty { return try check(Self.fallback) }
        guard contentType.utf8.count <= 256, contentType.utf8.allSatisfy({ (0x20...0x7E).contains($0) }) else {
            throw FlintError.invalidArgument("a content type is printable ASCII of at most 256 bytes")
        }
        let mediaType = Self.mediaType(of: contentType)
        let parts = mediaType.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, Self.isToken(parts[0]), Self.isToken(parts[1]) else {
            throw FlintError.invalidArgument("\"\(contentType)\" is not a content type such as image/png or text/plain; charset=utf-8")
        }
        let allowedHere = allowed.contains { range in
            range == "*/*" || range == mediaType || (range.hasSuffix("/*") && range.dropLast(2) == parts[0])
        }
        guard allowedHere else {
            throw FlintError(.permissionDenied, "this server does not accept \(mediaType) files (FLINT_FILE_CONTENT_TYPES: \(allowed.joined(separator: ",")))")
        }
        return contentType
    }

    /// `type/subtype`, lowercased, without parameters.
    static func mediaType(of contentType: String) -> String {
        String(contentType.prefix(while: { $0 != ";" })).trimmingCharacters(in: .whitespaces).lowercased()
    }

    /// An RFC 9110 token: visible ASCII except delimiters.
    private static func isToken(_ text: Substring) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { byte in
            (0x21...0x7E).contains(byte) && !"\"(),/:;<=>?@[\\]{}".utf8.contains(byte)
        }
    }
}
