import Crypto
import FlintCore
import Foundation
import GRDB

/// Users, refresh-token families, signing keys and OAuth clients, in the server's SQLite database.
final class AuthStore: Sendable {
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
                        secret_hash TEXT NOT NULL,
                        scopes TEXT NOT NULL,
                        created_at INTEGER NOT NULL
                    );
                    """)
        }
        return migrator
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

    func removeSigningKeys(createdBefore time: Timestamp, keeping kid: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM signing_keys WHERE created_at < ? AND kid != ?", arguments: [time.microseconds, kid])
        }
    }

    // MARK: Clients

    struct Client: Sendable {
        var clientID: String
        var secretHash: String
        var scopes: [String]
    }

    func client(id: String) async throws -> Client? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM clients WHERE client_id = ?", arguments: [id]).map {
                Client(clientID: $0["client_id"], secretHash: $0["secret_hash"], scopes: ($0["scopes"] as String).split(separator: " ").map(String.init))
            }
        }
    }

    /// Creates or replaces a client.
    func putClient(_ client: Client) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO clients (client_id, secret_hash, scopes, created_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT(client_id) DO UPDATE SET secret_hash = excluded.secret_hash, scopes = excluded.scopes
                    """,
                arguments: [client.clientID, client.secretHash, client.scopes.joined(separator: " "), Timestamp.now().microseconds])
        }
    }
}
