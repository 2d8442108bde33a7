public import FlintCore

/// Who is making a request, as verified from its access token: the seam every handler (and later the security
/// rules) reads. Requests without a token have no identity.
public struct Identity: Sendable, Equatable {
    /// The user's id, or the client id of a service account.
    public var uid: String
    /// How the user signed in: `password`, `anonymous`, `client_credentials`, or an external provider's id.
    public var provider: String
    /// The OAuth scopes granted (service accounts and third-party apps).
    public var scopes: Set<String>
    /// Custom claims set by an admin.
    public var claims: [String: JSON]
    public var email: String?
    /// The session (refresh-token family) of the token.
    public var session: String?

    /// Service accounts with the `admin` scope may use `/v1/admin`.
    public var isAdmin: Bool { scopes.contains("admin") }

    init(claims: AccessClaims) {
        uid = claims.sub
        provider = claims.provider
        scopes = Set((claims.scope ?? "").split(separator: " ").map(String.init))
        self.claims = claims.custom
        email = claims.email
        session = claims.sid
    }
}
