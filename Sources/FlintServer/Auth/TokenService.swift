import FlintCore
import Foundation
import JWTKit
import Synchronization

/// The claims of a Flint access token. Custom claims set by an admin sit at the top level, as in Firebase.
struct AccessClaims: JWTPayload, Equatable {
    var iss: String
    var aud: String
    var sub: String
    var iat: Int64
    var exp: Int64
    var authTime: Int64?
    var provider: String
    var scope: String?
    /// The refresh-token family (session) the token was issued in; signing out revokes it.
    var sid: String?
    var email: String?
    var custom: [String: JSON] = [:]

    /// Claim names a custom claim may not take.
    static let reserved: Set<String> = [
        "iss", "aud", "sub", "iat", "exp", "nbf", "jti", "auth_time", "provider", "scope", "sid", "email", "azp", "nonce",
        "client_id", "token_type",
    ]

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(iss: String, aud: String, sub: String, iat: Int64, exp: Int64, authTime: Int64?, provider: String, scope: String?, sid: String?, email: String?, custom: [String: JSON]) {
        self.iss = iss
        self.aud = aud
        self.sub = sub
        self.iat = iat
        self.exp = exp
        self.authTime = authTime
        self.provider = provider
        self.scope = scope
        self.sid = sid
        self.email = email
        self.custom = custom
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        iss = try c.decode(String.self, forKey: Key("iss"))
        aud = try c.decode(String.self, forKey: Key("aud"))
        sub = try c.decode(String.self, forKey: Key("sub"))
        iat = try c.decode(Int64.self, forKey: Key("iat"))
        exp = try c.decode(Int64.self, forKey: Key("exp"))
        authTime = try c.decodeIfPresent(Int64.self, forKey: Key("auth_time"))
        provider = try c.decode(String.self, forKey: Key("provider"))
        scope = try c.decodeIfPresent(String.self, forKey: Key("scope"))
        sid = try c.decodeIfPresent(String.self, forKey: Key("sid"))
        email = try c.decodeIfPresent(String.self, forKey: Key("email"))
        for key in c.allKeys where !Self.reserved.contains(key.stringValue) {
            custom[key.stringValue] = try c.decode(JSON.self, forKey: key)
        }
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        for (name, value) in custom where !Self.reserved.contains(name) { try c.encode(value, forKey: Key(name)) }
        try c.encode(iss, forKey: Key("iss"))
        try c.encode(aud, forKey: Key("aud"))
        try c.encode(sub, forKey: Key("sub"))
        try c.encode(iat, forKey: Key("iat"))
        try c.encode(exp, forKey: Key("exp"))
        try c.encodeIfPresent(authTime, forKey: Key("auth_time"))
        try c.encode(provider, forKey: Key("provider"))
        try c.encodeIfPresent(scope, forKey: Key("scope"))
        try c.encodeIfPresent(sid, forKey: Key("sid"))
        try c.encodeIfPresent(email, forKey: Key("email"))
    }

    /// Time and audience checks are made by `TokenService.verify`, with its clock and configuration.
    func verify(using algorithm: some JWTAlgorithm) throws {}
}

/// Issues and verifies access tokens: JWTs signed ES256, each with the `kid` of its key. Keys are kept in the
/// database; rotation adds a new signing key and keeps the old ones for verification until their tokens expire.
/// Servers sharing a database share the keys: a key rotated on another server is read when one of its tokens first
/// arrives, and each server signs with the newest stored key within a minute of its rotation.
final class TokenService: Sendable {
    let store: any AuthStorage
    let audience: String
    private let issuerBox: Mutex<String>

    /// The `iss` of issued tokens and of the OAuth metadata: the server's public URL.
    var issuer: String {
        get { issuerBox.withLock { $0 } }
        set { issuerBox.withLock { $0 = newValue } }
    }
    /// Access tokens live this long (at most an hour).
    let lifetimeSeconds: Int64
    private let keys = JWTKeyCollection()
    private struct Keys {
        var current: String = ""
        var published: [String: ECDSAParameters] = [:]
        /// When the stored keys were last read.
        var loaded = ContinuousClock.now
    }
    /// How often `sign` reads the stored keys again, to sign with the newest one.
    static let reloadInterval: Duration = .seconds(60)
    /// The least time between two reads caused by tokens with an unknown `kid`.
    static let unknownKeyReloadInterval: Duration = .seconds(1)
    private let state = Mutex(Keys())

    init(store: any AuthStorage, issuer: String, audience: String, lifetimeSeconds: Int64 = 3600) {
        self.store = store
        self.issuerBox = Mutex(issuer)
        self.audience = audience
        self.lifetimeSeconds = min(lifetimeSeconds, 3600)
    }

    /// Loads the stored keys, creating the first one on a new database (one only, when several servers start at once).
    func start() async throws {
        if try await store.signingKeys().isEmpty {
            try await store.addFirstSigningKey(kid: AutoID.make(length: 16), pem: ES256PrivateKey().pemRepresentation)
        }
        try await reload()
    }

    /// Reads the stored keys: publishes the ones not known yet and signs with the newest from now on.
    func reload() async throws {
        let stored = try await store.signingKeys()
        for key in stored where state.withLock({ $0.published[key.kid] == nil }) { try await load(kid: key.kid, pem: key.pem) }
        state.withLock {
            if let newest = stored.last { $0.current = newest.kid }
            $0.loaded = .now
        }
    }

    /// Starts signing with a new key. Keys older than one token lifetime before the previous key's retirement are
    /// dropped: every token they signed has expired.
    func rotate() async throws {
        let key = ES256PrivateKey()
        let kid = AutoID.make(length: 16)
        try await store.addSigningKey(kid: kid, pem: key.pemRepresentation)
        try await load(kid: kid, pem: key.pemRepresentation)
        state.withLock { $0.current = kid }
        let cutoff = Timestamp(microseconds: Timestamp.now().microseconds - 2 * lifetimeSeconds * 1_000_000)
        try await store.removeSigningKeys(createdBefore: cutoff, keeping: kid)
    }

    private func load(kid: String, pem: String) async throws {
        let key = try ES256PrivateKey(pem: pem)
        await keys.add(ecdsa: key, kid: JWKIdentifier(string: kid))
        state.withLock { $0.published[kid] = key.parameters }
    }

    /// The public keys as a JWK Set (RFC 7517), for `/.well-known/jwks.json`.
    var jwks: JSON {
        let published = state.withLock { $0.published }
        return .object([
            "keys": .array(published.keys.sorted().map { kid in
                let p = published[kid]!
                return .object([
                    "kty": .string("EC"), "crv": .string("P-256"), "x": .string(p.x), "y": .string(p.y), "kid": .string(kid),
                    "alg": .string("ES256"), "use": .string("sig"),
                ])
            })
        ])
    }

    var currentKeyID: String { state.withLock { $0.current } }

    /// Signs claims (an access or an ID token) with the current key.
    func sign(_ claims: some JWTPayload) async throws -> String {
        // A failed read keeps the keys already loaded: they still sign and verify.
        if state.withLock({ ContinuousClock.now - $0.loaded >= Self.reloadInterval }) { try? await reload() }
        let kid = currentKeyID
        return try await keys.sign(claims, kid: JWKIdentifier(string: kid))
    }

    /// Claims for a token issued now.
    func claims(sub: String, provider: String, authTime: Timestamp?, scope: String?, sid: String?, email: String?, custom: [String: JSON]) -> AccessClaims {
        let now = Timestamp.now().microseconds / 1_000_000
        return AccessClaims(
            iss: issuer, aud: audience, sub: sub, iat: now, exp: now + lifetimeSeconds, authTime: authTime.map { $0.microseconds / 1_000_000 },
            provider: provider, scope: scope, sid: sid, email: email, custom: custom)
    }

    /// Verifies a token: header `alg` ES256 and a known `kid`, a valid signature, `iss` and `aud` as expected,
    /// not expired, not issued in the future. Anything else is `unauthenticated`, with the reason.
    func verify(_ token: String) async throws(FlintError) -> AccessClaims {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerBytes = Base64.decode(Self.standardBase64(parts[0])),
            let header = try? JSON(parsing: headerBytes)
        else { throw FlintError(.unauthenticated, "the access token is not a JWT") }
        guard header.objectMember("alg") == .string("ES256") else {
            throw FlintError(.unauthenticated, "the access token must be signed ES256")
        }
        guard case .string(let kid)? = header.objectMember("kid") else {
            throw FlintError(.unauthenticated, "the access token's key (kid) is unknown; sign in again")
        }
        if state.withLock({ $0.published[kid] == nil && ContinuousClock.now - $0.loaded >= Self.unknownKeyReloadInterval }) {
            // Perhaps another server sharing the database rotated the keys.
            try? await reload()
        }
        guard state.withLock({ $0.published[kid] != nil }) else {
            throw FlintError(.unauthenticated, "the access token's key (kid) is unknown; sign in again")
        }
        let claims: AccessClaims
        do {
            claims = try await keys.verify(token, as: AccessClaims.self)
        } catch {
            throw FlintError(.unauthenticated, "the access token's signature or claims are invalid")
        }
        let now = Timestamp.now().microseconds / 1_000_000
        guard claims.iss == issuer else { throw FlintError(.unauthenticated, "the access token was issued by another issuer") }
        guard claims.aud == audience else { throw FlintError(.unauthenticated, "the access token is for another audience") }
        guard claims.exp > now else { throw FlintError(.unauthenticated, "the access token has expired; refresh it") }
        guard claims.iat <= now + 60 else { throw FlintError(.unauthenticated, "the access token is not valid yet") }
        return claims
    }

    static func standardBase64(_ urlSafe: Substring) -> String {
        var text = urlSafe.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while text.count % 4 != 0 { text += "=" }
        return text
    }
}

extension JSON {
    /// An object's member; nil for other values.
    func objectMember(_ key: String) -> JSON? {
        guard case .object(let members) = self else { return nil }
        return members[key]
    }
}
