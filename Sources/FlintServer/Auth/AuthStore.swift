import Crypto
import FlintCore
import Foundation
import GRDB

/// Users, refresh-token families, signing keys and OAuth clients, in the server's SQLite database.
final class AuthStore: AuthStorage {
    let pool: DatabasePool

    init(pool: DatabasePool) throws {
        self.pool = pool
        try Self.migrator.migrate(pool)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("auth-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE users (
                        uid TEXT PRIMARY KEY,
                        email TEXT UNIQUE,
                        password_hash TEXT,
                        provider TEXT NOT NULL,
                        disabled INTEGER NOT NULL DEFAULT 0,
                        claims TEXT NOT NULL DEFAULT '{}',
                        created_at INTEGER NOT NULL,
                        last_sign_in INTEGER
                    );
                    CREATE TABLE refresh_tokens (
                        hash BLOB PRIMARY KEY,
                        family TEXT NOT NULL,
                        uid TEXT NOT NULL,
                        auth_time INTEGER NOT NULL,
                        expires_at INTEGER NOT NULL,
                        spent INTEGER NOT NULL DEFAULT 0,
                        revoked INTEGER NOT NULL DEFAULT 0
                    );
                    CREATE INDEX refresh_tokens_family ON refresh_tokens(family);
                    CREATE INDEX refresh_tokens_uid ON refresh_tokens(uid);
                    CREATE TABLE signing_keys (
                        kid TEXT PRIMARY KEY,
                        private_pem TEXT NOT NULL,
                        created_at INTEGER NOT NULL
                    );
                    CREATE TABLE clients (
                        client_id TEXT PRIMARY KEY,
                        secret_hash TEXT,
                        name TEXT NOT NULL DEFAULT '',
                        scopes TEXT NOT NULL,
                        redirect_uris TEXT NOT NULL DEFAULT '',
                        created_at INTEGER NOT NULL
                    );
                    CREATE TABLE authorization_codes (
                        hash BLOB PRIMARY KEY,
                        client_id TEXT NOT NULL,
                        redirect_uri TEXT NOT NULL,
                        uid TEXT NOT NULL,
                        scope TEXT NOT NULL,
                        code_challenge TEXT NOT NULL,
                        nonce TEXT,
                        auth_time INTEGER NOT NULL,
                        expires_at INTEGER NOT NULL,
                        used INTEGER NOT NULL DEFAULT 0,
                        family TEXT
                    );
                    """)
        }
        migrator.registerMigration("auth-v2-providers") { db in
            try db.execute(
                sql: """
                    CREATE TABLE identities (
                        provider TEXT NOT NULL,
                        subject TEXT NOT NULL,
                        uid TEXT NOT NULL,
                        PRIMARY KEY (provider, subject)
                    );
                    CREATE TABLE provider_states (
                        hash BLOB PRIMARY KEY,
                        provider TEXT NOT NULL,
                        verifier TEXT NOT NULL,
                        nonce TEXT NOT NULL,
                        authorization TEXT NOT NULL,
                        expires_at INTEGER NOT NULL
                    );
                    """)
        }
        return migrator
    }

    // MARK: External identities

    /// The user linked to an external provider's subject, creating (and linking) one on first sign-in.
    func user(provider: String, subject: String, email: String?) async throws -> User {
        if let uid = try await pool.read({ db in
            try String.fetchOne(db, sql: "SELECT uid FROM identities WHERE provider = ? AND subject = ?", arguments: [provider, subject])
        }), let user = try await user(uid: uid) {
            return user
        }
        // The email is taken by another account: link by subject only, without the email.
        let free = try await email.asyncFilter { try await self.user(email: $0) == nil }
        let user = try await createUser(email: free, passwordHash: nil, provider: provider)
        try await pool.write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO identities (provider, subject, uid) VALUES (?, ?, ?)", arguments: [provider, subject, user.uid])
        }
        return user
    }

    /// A sign-in with a provider in progress: the PKCE verifier and nonce sent to it, and the app's authorization
    /// request to finish once the provider answers.
    struct ProviderState: Sendable {
        var provider: String
        var verifier: String
        var nonce: String
        /// The app's authorization request, as its query parameters.
        var authorization: [String: String]
    }

    func storeProviderState(_ state: String, _ value: ProviderState, lifetimeSeconds: Int64) async throws {
        let authorization = JSON.object(value.authorization.mapValues(JSON.string)).text
        try await pool.write { db in
            try db.execute(
                sql: "INSERT INTO provider_states (hash, provider, verifier, nonce, authorization, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [
                    Data(Self.digest(state)), value.provider, value.verifier, value.nonce, authorization,
                    Timestamp.now().microseconds + lifetimeSeconds * 1_000_000,
                ])
            try db.execute(sql: "DELETE FROM provider_states WHERE expires_at < ?", arguments: [Timestamp.now().microseconds])
        }
    }

    /// Takes a pending provider sign-in, once.
    func takeProviderState(_ state: String) async throws -> ProviderState? {
        try await pool.write { db in
            let hash = Data(Self.digest(state))
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM provider_states WHERE hash = ?", arguments: [hash]) else { return nil }
            try db.execute(sql: "DELETE FROM provider_states WHERE hash = ?", arguments: [hash])
            guard (row["expires_at"] as Int64) >= Timestamp.now().microseconds,
                case .object(let members) = try JSON(parsing: row["authorization"] as String)
            else { return nil }
            return ProviderState(
                provider: row["provider"], verifier: row["verifier"], nonce: row["nonce"],
                authorization: members.compactMapValues { if case .string(let s) = $0 { s } else { nil } })
        }
    }

    // MARK: Users

    struct User: Sendable, Equatable {
        var uid: String
        var email: String?
        var passwordHash: String?
        var provider: String
        var disabled: Bool
        /// Custom claims set by an admin, as a JSON object.
        var claims: [String: JSON]
        var createdAt: Timestamp

        var isAnonymous: Bool { provider == "anonymous" }

        /// The user as the API shows it (never the password hash).
        var json: JSON {
            var members: [String: JSON] = [
                "uid": .string(uid), "provider": .string(provider), "anonymous": .bool(isAnonymous),
                "disabled": .bool(disabled), "claims": .object(claims), "createTime": .string(createdAt.description),
            ]
            members["email"] = email.map(JSON.string) ?? .null
            return .object(members)
        }
    }

    private static func user(from row: Row) throws -> User {
        var claims: [String: JSON] = [:]
        if case .object(let members) = try JSON(parsing: row["claims"] as String) { claims = members }
        return User(
            uid: row["uid"], email: row["email"], passwordHash: row["password_hash"], provider: row["provider"],
            disabled: row["disabled"], claims: claims, createdAt: Timestamp(microseconds: row["created_at"]))
    }

    func user(uid: String) async throws -> User? {
        try await pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM users WHERE uid = ?", arguments: [uid]).map(Self.user(from:)) }
    }

    func user(email: String) async throws -> User? {
        try await pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM users WHERE email = ?", arguments: [email]).map(Self.user(from:)) }
    }

    /// Creates a user; `already-exists` when the email is taken.
    func createUser(email: String?, passwordHash: String?, provider: String) async throws -> User {
        let user = User(
            uid: AutoID.make(length: 28), email: email, passwordHash: passwordHash, provider: provider, disabled: false, claims: [:],
            createdAt: .now())
        do {
            try await pool.write { db in
                try db.execute(
                    sql: "INSERT INTO users (uid, email, password_hash, provider, created_at) VALUES (?, ?, ?, ?, ?)",
                    arguments: [user.uid, user.email, user.passwordHash, user.provider, user.createdAt.microseconds])
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            throw FlintError(.alreadyExists, "an account with this email already exists; sign in instead")
        }
        return user
    }

    /// Turns an anonymous user into an email/password one, keeping the uid (and so its data).
    func link(uid: String, email: String, passwordHash: String) async throws {
        do {
            try await pool.write { db in
                try db.execute(
                    sql: "UPDATE users SET email = ?, password_hash = ?, provider = 'password' WHERE uid = ?",
                    arguments: [email, passwordHash, uid])
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            throw FlintError(.alreadyExists, "an account with this email already exists")
        }
    }

    func setPasswordHash(uid: String, hash: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE users SET password_hash = ? WHERE uid = ?", arguments: [hash, uid])
        }
    }

    func setDisabled(uid: String, _ disabled: Bool) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "UPDATE users SET disabled = ? WHERE uid = ?", arguments: [disabled, uid])
            if disabled { try db.execute(sql: "UPDATE refresh_tokens SET revoked = 1 WHERE uid = ?", arguments: [uid]) }
            return db.changesCount > 0 || disabled
        }
    }

    /// Users in uid order, after `uid` (exclusive), at most `limit`.
    func users(after uid: String?, limit: Int) async throws -> [User] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM users WHERE uid > ? ORDER BY uid LIMIT ?", arguments: [uid ?? "", limit]
            ).map(Self.user(from:))
        }
    }

    /// Deletes a user and every refresh token of theirs; false if there was no such user.
    func deleteUser(uid: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM refresh_tokens WHERE uid = ?", arguments: [uid])
            try db.execute(sql: "DELETE FROM users WHERE uid = ?", arguments: [uid])
            return db.changesCount > 0
        }
    }

    /// Revokes every refresh-token family of a user except `keeping` (the session that asked).
    func revokeSessions(uid: String, keeping family: String?) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE refresh_tokens SET revoked = 1 WHERE uid = ? AND family != ?", arguments: [uid, family ?? ""])
        }
    }

    func setClaims(uid: String, _ claims: [String: JSON]) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "UPDATE users SET claims = ? WHERE uid = ?", arguments: [JSON.object(claims).text, uid])
            return db.changesCount > 0
        }
    }

    // MARK: Refresh tokens

    /// What a refresh token stands for.
    struct Session: Sendable {
        var family: String
        var uid: String
        var authTime: Timestamp
    }

    enum Redemption: Sendable {
        case valid(Session)
        /// The token was already used: its whole family is now revoked.
        case reused(Session)
        case invalid
    }

    /// Stores a new refresh token (only its SHA-256) in `family`.
    func storeRefreshToken(_ token: String, session: Session, lifetimeSeconds: Int64) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT INTO refresh_tokens (hash, family, uid, auth_time, expires_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [
                    Data(Self.digest(token)), session.family, session.uid, session.authTime.microseconds,
                    Timestamp.now().microseconds + lifetimeSeconds * 1_000_000,
                ])
        }
    }

    /// Spends a refresh token: valid once; presenting a spent token revokes every token of its family.
    func redeemRefreshToken(_ token: String) async throws -> Redemption {
        try await pool.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM refresh_tokens WHERE hash = ?", arguments: [Data(Self.digest(token))])
            else { return .invalid }
            let session = Session(family: row["family"], uid: row["uid"], authTime: Timestamp(microseconds: row["auth_time"]))
            if row["revoked"] as Bool { return .invalid }
            if row["spent"] as Bool {
                try db.execute(sql: "UPDATE refresh_tokens SET revoked = 1 WHERE family = ?", arguments: [session.family])
                return .reused(session)
            }
            if (row["expires_at"] as Int64) < Timestamp.now().microseconds { return .invalid }
            try db.execute(sql: "UPDATE refresh_tokens SET spent = 1 WHERE hash = ?", arguments: [Data(Self.digest(token))])
            return .valid(session)
        }
    }

    func revokeFamily(_ family: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE refresh_tokens SET revoked = 1 WHERE family = ?", arguments: [family])
        }
    }

    static func digest(_ token: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(token.utf8)))
    }

    // MARK: Signing keys

    func signingKeys() async throws -> [(kid: String, pem: String, createdAt: Timestamp)] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT kid, private_pem, created_at FROM signing_keys ORDER BY created_at").map {
                ($0["kid"], $0["private_pem"], Timestamp(microseconds: $0["created_at"]))
            }
        }
    }

    func addSigningKey(kid: String, pem: String) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT INTO signing_keys (kid, private_pem, created_at) VALUES (?, ?, ?)",
                arguments: [kid, pem, Timestamp.now().microseconds])
        }
    }

    func addFirstSigningKey(kid: String, pem: String) async throws {
        try await pool.write { db in
            guard try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM signing_keys") == 0 else { return }
            try db.execute(
                sql: "INSERT INTO signing_keys (kid, private_pem, created_at) VALUES (?, ?, ?)",
                arguments: [kid, pem, Timestamp.now().microseconds])
        }
    }

    func removeSigningKeys(createdBefore time: Timestamp, keeping kid: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM signing_keys WHERE created_at < ? AND kid != ?", arguments: [time.microseconds, kid])
        }
    }

    // MARK: Clients

    /// An OAuth client: a service account (a secret, scopes) or an app using the authorization-code flow
    /// (redirect URIs; a public client has no secret and relies on PKCE).
    struct Client: Sendable {
        var clientID: String
        /// nil for a public client.
        var secretHash: String?
        var name: String = ""
        var scopes: [String]
        var redirectURIs: [String] = []

        var json: JSON {
            .object([
                "client_id": .string(clientID), "name": .string(name), "scopes": .array(scopes.map(JSON.string)),
                "redirect_uris": .array(redirectURIs.map(JSON.string)), "public": .bool(secretHash == nil),
            ])
        }
    }

    private static func client(from row: Row) -> Client {
        Client(
            clientID: row["client_id"], secretHash: row["secret_hash"], name: row["name"],
            scopes: (row["scopes"] as String).split(separator: " ").map(String.init),
            redirectURIs: (row["redirect_uris"] as String).split(separator: " ").map(String.init))
    }

    func client(id: String) async throws -> Client? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM clients WHERE client_id = ?", arguments: [id]).map(Self.client(from:))
        }
    }

    func clients() async throws -> [Client] {
        try await pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM clients ORDER BY client_id").map(Self.client(from:)) }
    }

    func deleteClient(id: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM clients WHERE client_id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    /// Creates or replaces a client.
    func putClient(_ client: Client) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO clients (client_id, secret_hash, name, scopes, redirect_uris, created_at) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT(client_id) DO UPDATE SET secret_hash = excluded.secret_hash, name = excluded.name,
                        scopes = excluded.scopes, redirect_uris = excluded.redirect_uris
                    """,
                arguments: [
                    client.clientID, client.secretHash, client.name, client.scopes.joined(separator: " "),
                    client.redirectURIs.joined(separator: " "), Timestamp.now().microseconds,
                ])
        }
    }

    // MARK: Authorization codes

    struct AuthorizationCode: Sendable {
        var clientID: String
        var redirectURI: String
        var uid: String
        var scope: String
        var codeChallenge: String
        var nonce: String?
        var authTime: Timestamp
    }

    enum CodeRedemption: Sendable {
        case valid(AuthorizationCode)
        /// Used before: the tokens issued from it are revoked (RFC 6749 §4.1.2).
        case reused
        case invalid
    }

    func storeCode(_ code: String, _ grant: AuthorizationCode, lifetimeSeconds: Int64) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO authorization_codes (hash, client_id, redirect_uri, uid, scope, code_challenge, nonce, auth_time, expires_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    Data(Self.digest(code)), grant.clientID, grant.redirectURI, grant.uid, grant.scope, grant.codeChallenge, grant.nonce,
                    grant.authTime.microseconds, Timestamp.now().microseconds + lifetimeSeconds * 1_000_000,
                ])
        }
    }

    /// Spends an authorization code, once. `family` is the refresh-token family the tokens will belong to,
    /// recorded so that a second use of the code can revoke them.
    func redeemCode(_ code: String, family: String) async throws -> CodeRedemption {
        try await pool.write { db in
            let hash = Data(Self.digest(code))
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM authorization_codes WHERE hash = ?", arguments: [hash]) else {
                return .invalid
            }
            if row["used"] as Bool {
                if let family = row["family"] as String? {
                    try db.execute(sql: "UPDATE refresh_tokens SET revoked = 1 WHERE family = ?", arguments: [family])
                }
                return .reused
            }
            guard (row["expires_at"] as Int64) >= Timestamp.now().microseconds else { return .invalid }
            try db.execute(sql: "UPDATE authorization_codes SET used = 1, family = ? WHERE hash = ?", arguments: [family, hash])
            return .valid(
                AuthorizationCode(
                    clientID: row["client_id"], redirectURI: row["redirect_uri"], uid: row["uid"], scope: row["scope"],
                    codeChallenge: row["code_challenge"], nonce: row["nonce"], authTime: Timestamp(microseconds: row["auth_time"])))
        }
    }

    /// Whether a refresh token is live (not spent, revoked or expired), and its session: for introspection.
    func refreshSession(_ token: String) async throws -> Session? {
        try await pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM refresh_tokens WHERE hash = ?", arguments: [Data(Self.digest(token))]),
                !(row["spent"] as Bool), !(row["revoked"] as Bool), (row["expires_at"] as Int64) >= Timestamp.now().microseconds
            else { return nil }
            return Session(family: row["family"], uid: row["uid"], authTime: Timestamp(microseconds: row["auth_time"]))
        }
    }

    /// Revokes the family of a refresh token (RFC 7009); false if the token is unknown.
    func revokeRefreshToken(_ token: String) async throws -> Bool {
        try await pool.write { db in
            guard let family = try String.fetchOne(
                db, sql: "SELECT family FROM refresh_tokens WHERE hash = ?", arguments: [Data(Self.digest(token))])
            else { return false }
            try db.execute(sql: "UPDATE refresh_tokens SET revoked = 1 WHERE family = ?", arguments: [family])
            return true
        }
    }
}

extension Optional {
    /// The wrapped value if it passes an asynchronous test.
    fileprivate func asyncFilter(_ isIncluded: (Wrapped) async throws -> Bool) async rethrows -> Wrapped? {
        guard let value = self, try await isIncluded(value) else { return nil }
        return value
    }
}
