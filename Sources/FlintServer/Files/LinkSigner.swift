import Crypto
import FlintCore
import Foundation

/// Signs and checks download links: an HMAC-SHA256, under a key made once and kept in the database, over the object's
/// path, its generation and the link's expiry. A link dies at its expiry, and when the object is replaced or deleted
/// (the generation it names is gone).
struct LinkSigner: Sendable {
    let key: SymmetricKey

    init(key: [UInt8]) {
        self.key = SymmetricKey(data: key)
    }

    /// What a signed link carries in its query: `generation`, `expires` (Unix seconds) and `signature`.
    struct Link: Sendable, Equatable {
        var generation: Int64
        var expires: Int64
        var signature: String

        var query: String { "generation=\(generation)&expires=\(expires)&signature=\(signature)" }
    }

    func sign(_ path: ObjectPath, generation: Int64, expires: Int64) -> Link {
        let code = HMAC<SHA256>.authenticationCode(for: Self.message(path, generation: generation, expires: expires), using: key)
        return Link(generation: generation, expires: expires, signature: Self.base64URL(Array(code)))
    }

    /// Checks a link's signature and expiry.
    /// - Parameter now: Unix seconds.
    /// - Throws: `FlintError` with `permission-denied` for a signature that does not match or a link past its expiry.
    func verify(_ link: Link, for path: ObjectPath, now: Int64) throws(FlintError) {
        guard let signature = Self.decodeBase64URL(link.signature),
            HMAC<SHA256>.isValidAuthenticationCode(
                signature, authenticating: Self.message(path, generation: link.generation, expires: link.expires), using: key)
        else {
            throw FlintError(.permissionDenied, "this link's signature does not match; ask for a new signed link")
        }
        guard now < link.expires else {
            throw FlintError(
                .permissionDenied, "this signed link expired at \(Timestamp(microseconds: link.expires * 1_000_000)); ask for a new one")
        }
    }

    /// The signed bytes: a version tag, then the fields, each on its own line (names contain no newline).
    private static func message(_ path: ObjectPath, generation: Int64, expires: Int64) -> [UInt8] {
        Array("flint-file-link-v1\n\(path.string)\n\(generation)\n\(expires)".utf8)
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        String(Base64.encode(bytes).compactMap { character -> Character? in
            switch character {
            case "+": "-"
            case "/": "_"
            case "=": nil
            default: character
            }
        })
    }

    static func decodeBase64URL(_ text: String) -> [UInt8]? {
        guard text.allSatisfy({ $0.isLetter && $0.isASCII || $0.isNumber && $0.isASCII || $0 == "-" || $0 == "_" }) else { return nil }
        return Base64.decode(String(text.map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 }))
    }
}
