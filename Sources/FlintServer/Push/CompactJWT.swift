import Foundation

/// JSON Web Tokens signed the two ways push services want: ES256 (APNs, VAPID) and RS256 (Google's OAuth).
enum CompactJWT {
    /// `base64url(header).base64url(claims)`, ready to sign.
    static func signingInput(header: [String: Any], claims: [String: Any]) -> String {
        "\(segment(header)).\(segment(claims))"
    }

    private static func segment(_ object: [String: Any]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return base64URL(Array(data))
    }

    static func base64URL(_ bytes: some Sequence<UInt8>) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func base64URLDecode(_ text: String) -> [UInt8]? {
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while standard.count % 4 != 0 { standard += "=" }
        return Data(base64Encoded: standard).map(Array.init)
    }
}
