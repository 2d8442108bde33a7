import FlintCore

/// Where users, refresh-token families, signing keys and OAuth clients live. One seam, two stores: `AuthStore` in the
/// server's SQLite database, `PostgresAuthStore` when several servers share PostgreSQL. The value types they exchange
/// (`AuthStore.User`, `.Session`, `.Client`, …) are the SQLite store's nested types, shared by both.
///
/// Every operation that reads then writes (spending a refresh token or a code, taking a provider state) is atomic in
/// the store, so two servers racing on one token cannot both succeed.
protocol AuthStorage: Sendable {
    // MARK: Users

    func user(uid: String) async throws -> AuthStore.User?
    func user(email: String) async throws -> AuthStore.User?
    /// Creates a user; `already-exists` when the email is taken.
    func createUser(email: String?, passwordHash: String?, provider: String) async throws -> AuthStore.User
    /// Turns an anonymous user into an email/password one, keeping the uid (and so its data).
    func link(uid: String, email: String, passwordHash: String) async throws
    func setPasswordHash(uid: String, hash: String) async throws
    /// Disables (revoking every refresh token) or enables a user; false if there was no such user to enable.
    func setDisabled(uid: String, _ disabled: Bool) async throws -> Bool
    /// Users in uid order, after `uid` (exclusive), at most `limit`.
    func users(after uid: String?, limit: Int) async throws -> [AuthStore.User]
    /// Deletes a user and every refresh token of theirs; false if there was no such user.
    func deleteUser(uid: String) async throws -> Bool
    /// Revokes every refresh-token family of a user except `keeping` (the session that asked).
    func revokeSessions(uid: String, keeping family: String?) async throws
    func setClaims(uid: String, _ claims: [String: JSON]) async throws -> Bool

    // MARK: External identities

    /// The user linked to an external provider's subject, creating (and linking) one on first sign-in.
    func user(provider: String, subject: String, email: String?) async throws -> AuthStore.User
    func storeProviderState(_ state: String, _ value: AuthStore.ProviderState, lifetimeSeconds: Int64) async throws
    /// Takes a pending provider sign-in, once.
    func takeProviderState(_ state: String) async throws -> AuthStore.ProviderState?

    // MARK: Refresh tokens

    /// Stores a new refresh token (only its SHA-256) in `session.family`.
    func storeRefreshToken(_ token: String, session: AuthStore.Session, lifetimeSeconds: Int64) async throws
    /// Spends a refresh token: valid once; presenting a spent token revokes every token of its family.
    func redeemRefreshToken(_ token: String) async throws -> AuthStore.Redemption
    func revokeFamily(_ family: String) async throws
    /// Whether a refresh token is live (not spent, revoked or expired), and its session: for introspection.
    func refreshSession(_ token: String) async throws -> AuthStore.Session?
    /// Revokes the family of a refresh token (RFC 7009); false if the token is unknown.
    func revokeRefreshToken(_ token: String) async throws -> Bool

    // MARK: Signing keys

    /// Every stored signing key, oldest first.
    func signingKeys() async throws -> [(kid: String, pem: String, createdAt: Timestamp)]
    func addSigningKey(kid: String, pem: String) async throws
    /// Stores the key only when there is no key yet: servers starting together on a new database end up with one.
    func addFirstSigningKey(kid: String, pem: String) async throws
    func removeSigningKeys(createdBefore time: Timestamp, keeping kid: String) async throws

    // MARK: Clients

    func client(id: String) async throws -> AuthStore.Client?
    func clients() async throws -> [AuthStore.Client]
    func deleteClient(id: String) async throws -> Bool
    /// Creates or replaces a client.
    func putClient(_ client: AuthStore.Client) async throws

    // MARK: Authorization codes

    func storeCode(_ code: String, _ grant: AuthStore.AuthorizationCode, lifetimeSeconds: Int64) async throws
    /// Spends an authorization code, once. `family` is the refresh-token family the tokens will belong to, recorded so
    /// that a second use of the code can revoke them.
    func redeemCode(_ code: String, family: String) async throws -> AuthStore.CodeRedemption
}
