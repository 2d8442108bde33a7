import FlintCore
import Foundation
import PostgresNIO

/// Users, refresh-token families, signing keys and OAuth clients in PostgreSQL, shared by every server.
///
/// What reads then writes (spending a refresh token or a code, taking a provider state) locks its row first
/// (`SELECT … FOR UPDATE`), so a token replayed on another server at the same moment waits, then sees it spent.
final class PostgresAuthStore: AuthStorage {
    let database: PostgresDatabase
    var logger: Logger { database.logger }

    /// The advisory lock (`pg_advisory_xact_lock`) under which the first signing key is made: "flint-sk" in ASCII.
    static let signingKeyLock: Int64 = 0x666c_696e_742d_736b

    init(database: PostgresDatabase) async throws {
        self.database = database
        try await database.migrate(
            "auth-v1",
            [
                """
                CREATE TABLE users (
                    uid text PRIMARY KEY, email text UNIQUE, password_hash text, provider text NOT NULL,
                    disabled boolean NOT NULL DEFAULT false, claims text NOT NULL DEFAULT '{}', created_at bigint NOT NULL,
                    last_sign_in bigint)
                """,
                """
                CREATE TABLE refresh_tokens (
                    hash bytea PRIMARY KEY, family text NOT NULL, uid text NOT NULL, auth_time bigint NOT NULL,
                    expires_at bigint NOT NULL, spent boolean NOT NULL DEFAULT false, revoked boolean NOT NULL DEFAULT false)
                """,
                "CREATE INDEX refresh_tokens_family ON refresh_tokens (family)",
                "CREATE INDEX refresh_tokens_uid ON refresh_tokens (uid)",
                "CREATE TABLE signing_keys (kid text PRIMARY KEY, private_pem text NOT NULL, created_at bigint NOT NULL)",
                """
                CREATE TABLE clients (
                    client_id text PRIMARY KEY, secret_hash text, name text NOT NULL DEFAULT '', scopes text NOT NULL,
                    redirect_uris text NOT NULL DEFAULT '', created_at bigint NOT NULL)
                """,
                """
                CREATE TABLE authorization_codes (
                    hash bytea PRIMARY KEY, client_id text NOT NULL, redirect_uri text NOT NULL, uid text NOT NULL, scope text NOT NULL,
                    code_challenge text NOT NULL, nonce text, auth_time bigint NOT NULL, expires_at bigint NOT NULL,
                    used boolean NOT NULL DEFAULT false, family text)
                """,
                "CREATE TABLE identities (provider text NOT NULL, subject text NOT NULL, uid text NOT NULL, PRIMARY KEY (provider, subject))",
                """
                CREATE TABLE provider_states (
                    hash bytea PRIMARY KEY, provider text NOT NULL, verifier text NOT NULL, nonce text NOT NULL,
                    authorization_request text NOT NULL, expires_at bigint NOT NULL)
                """,
            ])
    }


    private static func digest(_ token: String) -> Data { Data(AuthStore.digest(token)) }

    // MARK: External identities

    func user(provider: String, subject: String, email: String?) async throws -> AuthStore.User {
        if let row = try await database.rows("SELECT uid FROM identities WHERE provider = \(provider) AND subject = \(subject)").first,
            let user = try await user(uid: try row["uid"].decode(String.self))
        {
            return user
        }
        // The email is taken by another account: link by subject only, without the email.
        var free = email
        if let email, try await user(email: email) != nil { free = nil }
        let user = try await createUser(email: free, passwordHash: nil, provider: provider)
        try await database.client.query(
            """
            INSERT INTO identities (provider, subject, uid) VALUES (\(provider), \(subject), \(user.uid))
            ON CONFLICT (provider, subject) DO UPDATE SET uid = excluded.uid
            """, logger: logger)
        return user
    }

    func storeProviderState(_ state: String, _ value: AuthStore.ProviderState, lifetimeSeconds: Int64) async throws {
        let authorization = JSON.object(value.authorization.mapValues(JSON.string)).text
        let now = Timestamp.now().microseconds
        try await database.transaction { connection in
            try await connection.query(
                """
                INSERT INTO provider_states (hash, provider, verifier, nonce, authorization_request, expires_at)
                VALUES (\(Self.digest(state)), \(value.provider), \(value.verifier), \(value.nonce), \(authorization), \(now + lifetimeSeconds * 1_000_000))
                """, logger: logger)
            try await connection.query("DELETE FROM provider_states WHERE expires_at < \(now)", logger: logger)
        }
    }

    func takeProviderState(_ state: String) async throws -> AuthStore.ProviderState? {
        guard
            let row = try await database.rows("DELETE FROM provider_states WHERE hash = \(Self.digest(state)) RETURNING provider, verifier, nonce, authorization_request, expires_at"
            ).first,
            try row["expires_at"].decode(Int64.self) >= Timestamp.now().microseconds,
            case .object(let members) = try JSON(parsing: try row["authorization_request"].decode(String.self))
        else { return nil }
        return AuthStore.ProviderState(
            provider: try row["provider"].decode(String.self), verifier: try row["verifier"].decode(String.self),
            nonce: try row["nonce"].decode(String.self),
            authorization: members.compactMapValues { if case .string(let s) = $0 { s } else { nil } })
    }

    // MARK: Users

    private static func user(from row: PostgresRandomAccessRow) throws -> AuthStore.User {
        var claims: [String: JSON] = [:]
        if case .object(let members) = try JSON(parsing: try row["claims"].decode(String.self)) { claims = members }
        return AuthStore.User(
            uid: try row["uid"].decode(String.self), email: try row["email"].decode(String?.self),
            passwordHash: try row["password_hash"].decode(String?.self), provider: try row["provider"].decode(String.self),
            disabled: try row["disabled"].decode(Bool.self), claims: claims,
            createdAt: Timestamp(microseconds: try row["created_at"].decode(Int64.self)))
    }

    func user(uid: String) async throws -> AuthStore.User? {
        try await database.rows("SELECT * FROM users WHERE uid = \(uid)").first.map(Self.user(from:))
    }

    func user(email: String) async throws -> AuthStore.User? {
        try await database.rows("SELECT * FROM users WHERE email = \(email)").first.map(Self.user(from:))
    }

    func createUser(email: String?, passwordHash: String?, provider: String) async throws -> AuthStore.User {
        let user = AuthStore.User(
            uid: AutoID.make(length: 28), email: email, passwordHash: passwordHash, provider: provider, disabled: false, claims: [:],
            createdAt: .now())
        do {
            try await database.client.query(
                """
                INSERT INTO users (uid, email, password_hash, provider, created_at)
                VALUES (\(user.uid), \(user.email), \(user.passwordHash), \(user.provider), \(user.createdAt.microseconds))
                """, logger: logger)
        } catch let error as PSQLError where error.isUniqueViolation {
            throw FlintError(.alreadyExists, "an account with this email already exists; sign in instead")
        }
        return user
    }

    func link(uid: String, email: String, passwordHash: String) async throws {
        do {
            try await database.client.query(
                "UPDATE users SET email = \(email), password_hash = \(passwordHash), provider = 'password' WHERE uid = \(uid)", logger: logger)
        } catch let error as PSQLError where error.isUniqueViolation {
            throw FlintError(.alreadyExists, "an account with this email already exists")
        }
    }

    func setPasswordHash(uid: String, hash: String) async throws {
        try await database.client.query("UPDATE users SET password_hash = \(hash) WHERE uid = \(uid)", logger: logger)
    }

    func setDisabled(uid: String, _ disabled: Bool) async throws -> Bool {
        try await database.transaction { connection in
            let changed = try await connection.query("UPDATE users SET disabled = \(disabled) WHERE uid = \(uid) RETURNING uid", logger: logger)
                .collect().count
            if disabled { try await connection.query("UPDATE refresh_tokens SET revoked = true WHERE uid = \(uid)", logger: logger) }
            return changed > 0 || disabled
        }
    }

    func users(after uid: String?, limit: Int) async throws -> [AuthStore.User] {
        try await database.rows("SELECT * FROM users WHERE uid > \(uid ?? "") ORDER BY uid LIMIT \(limit)").map(Self.user(from:))
    }

    func deleteUser(uid: String) async throws -> Bool {
        try await database.transaction { connection in
            try await connection.query("DELETE FROM refresh_tokens WHERE uid = \(uid)", logger: logger)
            return try await connection.query("DELETE FROM users WHERE uid = \(uid) RETURNING uid", logger: logger).collect().count > 0
        }
    }

    func revokeSessions(uid: String, keeping family: String?) async throws {
        try await database.client.query(
            "UPDATE refresh_tokens SET revoked = true WHERE uid = \(uid) AND family != \(family ?? "")", logger: logger)
    }

    func setClaims(uid: String, _ claims: [String: JSON]) async throws -> Bool {
        try await !database.rows("UPDATE users SET claims = \(JSON.object(claims).text) WHERE uid = \(uid) RETURNING uid").isEmpty
    }

    // MARK: Refresh tokens

    func storeRefreshToken(_ token: String, session: AuthStore.Session, lifetimeSeconds: Int64) async throws {
        try await database.client.query(
            """
            INSERT INTO refresh_tokens (hash, family, uid, auth_time, expires_at)
            VALUES (\(Self.digest(token)), \(session.family), \(session.uid), \(session.authTime.microseconds),
                \(Timestamp.now().microseconds + lifetimeSeconds * 1_000_000))
            """, logger: logger)
    }

    private static func session(from row: PostgresRandomAccessRow) throws -> AuthStore.Session {
        AuthStore.Session(
            family: try row["family"].decode(String.self), uid: try row["uid"].decode(String.self),
            authTime: Timestamp(microseconds: try row["auth_time"].decode(Int64.self)))
    }

    func redeemRefreshToken(_ token: String) async throws -> AuthStore.Redemption {
        let hash = Self.digest(token)
        return try await database.transaction { connection in
            // The row lock makes a concurrent redemption of the same token (on any server) wait for this one's outcome.
            guard
                let row = try await connection.query("SELECT * FROM refresh_tokens WHERE hash = \(hash) FOR UPDATE", logger: logger)
                    .collect().first?.makeRandomAccess()
            else { return .invalid }
            let session = try Self.session(from: row)
            if try row["revoked"].decode(Bool.self) { return .invalid }
            if try row["spent"].decode(Bool.self) {
                try await connection.query("UPDATE refresh_tokens SET revoked = true WHERE family = \(session.family)", logger: logger)
                return .reused(session)
            }
            if try row["expires_at"].decode(Int64.self) < Timestamp.now().microseconds { return .invalid }
            try await connection.query("UPDATE refresh_tokens SET spent = true WHERE hash = \(hash)", logger: logger)
            return .valid(session)
        }
    }

    func revokeFamily(_ family: String) async throws {
        try await database.client.query("UPDATE refresh_tokens SET revoked = true WHERE family = \(family)", logger: logger)
    }

    func refreshSession(_ token: String) async throws -> AuthStore.Session? {
        guard let row = try await database.rows("SELECT * FROM refresh_tokens WHERE hash = \(Self.digest(token))").first,
            try !row["spent"].decode(Bool.self), try !row["revoked"].decode(Bool.self),
            try row["expires_at"].decode(Int64.self) >= Timestamp.now().microseconds
        else { return nil }
        return try Self.session(from: row)
    }

    func revokeRefreshToken(_ token: String) async throws -> Bool {
        try await !database.rows("""
            UPDATE refresh_tokens SET revoked = true
            WHERE family = (SELECT family FROM refresh_tokens WHERE hash = \(Self.digest(token))) RETURNING hash
            """
        ).isEmpty
    }

    // MARK: Signing keys

    func signingKeys() async throws -> [(kid: String, pem: String, createdAt: Timestamp)] {
        try await database.rows("SELECT kid, private_pem, created_at FROM signing_keys ORDER BY created_at, kid").map {
            (try $0["kid"].decode(String.self), try $0["private_pem"].decode(String.self), Timestamp(microseconds: try $0["created_at"].decode(Int64.self)))
        }
    }

    func addSigningKey(kid: String, pem: String) async throws {
        try await database.client.query(
            "INSERT INTO signing_keys (kid, private_pem, created_at) VALUES (\(kid), \(pem), \(Timestamp.now().microseconds))", logger: logger)
    }

    func addFirstSigningKey(kid: String, pem: String) async throws {
        try await database.transaction { connection in
            // Servers starting together on a new database take turns here, so only the first one's key is stored.
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.signingKeyLock))", logger: logger)
            try await connection.query(
                """
                INSERT INTO signing_keys (kid, private_pem, created_at)
                SELECT \(kid), \(pem), \(Timestamp.now().microseconds) WHERE NOT EXISTS (SELECT 1 FROM signing_keys)
                """, logger: logger)
        }
    }

    func removeSigningKeys(createdBefore time: Timestamp, keeping kid: String) async throws {
        try await database.client.query("DELETE FROM signing_keys WHERE created_at < \(time.microseconds) AND kid != \(kid)", logger: logger)
    }

    // MARK: Clients

    private static func client(from row: PostgresRandomAccessRow) throws -> AuthStore.Client {
        AuthStore.Client(
            clientID: try row["client_id"].decode(String.self), secretHash: try row["secret_hash"].decode(String?.self),
            name: try row["name"].decode(String.self), scopes: try row["scopes"].decode(String.self).split(separator: " ").map(String.init),
            redirectURIs: try row["redirect_uris"].decode(String.self).split(separator: " ").map(String.init))
    }

    func client(id: String) async throws -> AuthStore.Client? {
        try await database.rows("SELECT * FROM clients WHERE client_id = \(id)").first.map(Self.client(from:))
    }

    func clients() async throws -> [AuthStore.Client] {
        try await database.rows("SELECT * FROM clients ORDER BY client_id").map(Self.client(from:))
    }

    func deleteClient(id: String) async throws -> Bool {
        try await !database.rows("DELETE FROM clients WHERE client_id = \(id) RETURNING client_id").isEmpty
    }

    func putClient(_ client: AuthStore.Client) async throws {
        try await database.client.query(
            """
            INSERT INTO clients (client_id, secret_hash, name, scopes, redirect_uris, created_at)
            VALUES (\(client.clientID), \(client.secretHash), \(client.name), \(client.scopes.joined(separator: " ")),
                \(client.redirectURIs.joined(separator: " ")), \(Timestamp.now().microseconds))
            ON CONFLICT (client_id) DO UPDATE SET secret_hash = excluded.secret_hash, name = excluded.name,
                scopes = excluded.scopes, redirect_uris = excluded.redirect_uris
            """, logger: logger)
    }

    // MARK: Authorization codes

    func storeCode(_ code: String, _ grant: AuthStore.AuthorizationCode, lifetimeSeconds: Int64) async throws {
        try await database.client.query(
            """
            INSERT INTO authorization_codes (hash, client_id, redirect_uri, uid, scope, code_challenge, nonce, auth_time, expires_at)
            VALUES (\(Self.digest(code)), \(grant.clientID), \(grant.redirectURI), \(grant.uid), \(grant.scope), \(grant.codeChallenge),
                \(grant.nonce), \(grant.authTime.microseconds), \(Timestamp.now().microseconds + lifetimeSeconds * 1_000_000))
            """, logger: logger)
    }

    func redeemCode(_ code: String, family: String) async throws -> AuthStore.CodeRedemption {
        let hash = Self.digest(code)
        return try await database.transaction { connection in
            guard
                let row = try await connection.query("SELECT * FROM authorization_codes WHERE hash = \(hash) FOR UPDATE", logger: logger)
                    .collect().first?.makeRandomAccess()
            else { return .invalid }
            if try row["used"].decode(Bool.self) {
                if let family = try row["family"].decode(String?.self) {
                    try await connection.query("UPDATE refresh_tokens SET revoked = true WHERE family = \(family)", logger: logger)
                }
                return .reused
            }
            guard try row["expires_at"].decode(Int64.self) >= Timestamp.now().microseconds else { return .invalid }
            try await connection.query("UPDATE authorization_codes SET used = true, family = \(family) WHERE hash = \(hash)", logger: logger)
            return .valid(
                AuthStore.AuthorizationCode(
                    clientID: try row["client_id"].decode(String.self), redirectURI: try row["redirect_uri"].decode(String.self),
                    uid: try row["uid"].decode(String.self), scope: try row["scope"].decode(String.self),
                    codeChallenge: try row["code_challenge"].decode(String.self), nonce: try row["nonce"].decode(String?.self),
                    authTime: Timestamp(microseconds: try row["auth_time"].decode(Int64.self))))
        }
    }
}
