import FlintCore
import Foundation
import Hummingbird
import Logging
import Synchronization

/// `/v1/auth/…` and `/.well-known/jwks.json`: accounts, sessions and the OAuth 2.0 token endpoint.
struct AuthController: Sendable {
    let store: any AuthStorage
    let tokens: TokenService
    let hasher: PasswordHasher
    let accountLimiter: RateLimiter
    let addressLimiter: RateLimiter
    let minimumPasswordLength: Int
    let maximumBodySize: Int
    /// Refresh tokens live this long (rotated on every use).
    let refreshLifetimeSeconds: Int64 = 60 * 24 * 3600

    func addRoutes(to router: Router<FlintRequestContext>) {
        router.post("/v1/auth/signup") { request, context in try await self.signUp(request, context) }
        router.post("/v1/auth/signin") { request, context in try await self.signIn(request, context) }
        router.post("/v1/auth/anonymous") { _, _ in try await self.anonymous() }
        router.post("/v1/auth/token") { request, context in try await self.token(request, context) }
        router.post("/v1/auth/signout") { _, context in try await self.signOut(context) }
        router.get("/v1/auth/userinfo") { _, context in try await self.userInfo(context) }
        router.post("/v1/auth/password") { request, context in try await self.changePassword(request, context) }
        router.get("/.well-known/jwks.json") { _, _ in
            Response.json(tokens.jwks, headers: [.cacheControl: "public, max-age=300"])
        }
        addOAuthRoutes(to: router)
    }

    // MARK: Accounts

    func signUp(_ request: Request, _ context: FlintRequestContext) async throws -> Response {
        let body = try JSONObject(try await request.json(limit: maximumBodySize), context: "body")
        try body.allowOnly(["email", "password"])
        let email = try Self.normalizedEmail(try body.string("email"))
        let password = try body.string("password")
        try checkPolicy(password)
        let hash = try hasher.hash(password)
        // A signed-in anonymous user who signs up keeps their uid (and their data).
        if let identity = context.identity, identity.provider == "anonymous" {
            try await store.link(uid: identity.uid, email: email, passwordHash: hash)
            guard let user = try await store.user(uid: identity.uid) else { throw FlintError.notFound("the anonymous user no longer exists") }
            return try await session(for: user, status: .ok)
        }
        let user = try await store.createUser(email: email, passwordHash: hash, provider: "password")
        return try await session(for: user, status: .created)
    }

    func signIn(_ request: Request, _ context: FlintRequestContext) async throws -> Response {
        let body = try JSONObject(try await request.json(limit: maximumBodySize), context: "body")
        try body.allowOnly(["email", "password"])
        let email = try body.string("email")
        let password = try body.string("password")
        do {
            let user = try await checkCredentials(email: email, password: password, context: context)
            return try await session(for: user, status: .ok)
        } catch let limited as RetryLater {
            return .error(
                FlintError(.resourceExhausted, "too many sign-in attempts; try again in \(limited.seconds) seconds"),
                headers: [.retryAfter: String(limited.seconds)])
        }
    }

    /// Too many attempts: wait this many seconds.
    struct RetryLater: Error {
        var seconds: Int64
    }

    /// Checks an email and password, rate-limited per account and per client address; a failure costs the same time
    /// whether or not the account exists. Upgrades a hash made with an older cost.
    func checkCredentials(email rawEmail: String, password: String, context: FlintRequestContext) async throws -> AuthStore.User {
        let email = try Self.normalizedEmail(rawEmail)
        if let wait = accountLimiter.attempt("account:" + email) ?? addressLimiter.attempt("address:" + (context.clientAddress ?? "?")) {
            throw RetryLater(seconds: wait)
        }
        let user = try await store.user(email: email)
        // Verify against a decoy when there is no such user: a failure costs the same either way.
        let verified = hasher.verify(password, against: user?.passwordHash ?? decoyHash)
        guard let user, verified else {
            throw FlintError(.unauthenticated, "the email or the password is wrong")
        }
        guard !user.disabled else { throw FlintError(.permissionDenied, "this account is disabled") }
        if hasher.needsRehash(user.passwordHash ?? "") {
            try await store.setPasswordHash(uid: user.uid, hash: try hasher.hash(password))
        }
        return user
    }

    func anonymous() async throws -> Response {
        let user = try await store.createUser(email: nil, passwordHash: nil, provider: "anonymous")
        return try await session(for: user, status: .created)
    }

    func signOut(_ context: FlintRequestContext) async throws -> Response {
        guard let identity = context.identity else { throw FlintError(.unauthenticated, "sign out needs the session's access token") }
        if let session = identity.session { try await store.revokeFamily(session) }
        return Response(status: .noContent)
    }

    /// Changes the signed-in user's password (the current one is required) and signs out every other session.
    func changePassword(_ request: Request, _ context: FlintRequestContext) async throws -> Response {
        guard let identity = context.identity else { throw FlintError(.unauthenticated, "changing the password needs an access token") }
        let body = try JSONObject(try await request.json(limit: maximumBodySize), context: "body")
        try body.allowOnly(["currentPassword", "newPassword"])
        let current = try body.string("currentPassword")
        let new = try body.string("newPassword")
        try checkPolicy(new)
        guard let user = try await store.user(uid: identity.uid), let hash = user.passwordHash else {
            throw FlintError.failedPrecondition("this account has no password; sign up with one first")
        }
        guard hasher.verify(current, against: hash) else { throw FlintError(.unauthenticated, "the current password is wrong") }
        try await store.setPasswordHash(uid: user.uid, hash: try hasher.hash(new))
        try await store.revokeSessions(uid: user.uid, keeping: identity.session)
        return Response(status: .noContent)
    }

    func userInfo(_ context: FlintRequestContext) async throws -> JSON {
        guard let identity = context.identity else { throw FlintError(.unauthenticated, "userinfo needs an access token") }
        guard let user = try await store.user(uid: identity.uid) else {
            // A service account: what its token says.
            return .object(["sub": .string(identity.uid), "provider": .string(identity.provider)])
        }
        guard case .object(var members) = user.json else { return user.json }
        members["sub"] = .string(user.uid)
        return .object(members)
    }

    // MARK: OAuth 2.0 token endpoint (RFC 6749 §3.2)

    func token(_ request: Request, _ context: FlintRequestContext) async throws -> Response {
        let form = try await Self.form(request, limit: maximumBodySize)
        switch form["grant_type"] {
        case "refresh_token":
            guard let refreshToken = form["refresh_token"] else { throw OAuthError(.invalidRequest, "refresh_token is missing") }
            return try await refresh(refreshToken)
        case "client_credentials":
            return try await clientCredentials(request, form)
        case "authorization_code":
            return try await exchangeCode(request, form)
        case nil:
            throw OAuthError(.invalidRequest, "grant_type is missing")
        case let other?:
            throw OAuthError(.unsupportedGrantType, "grant_type \(other) is not supported; use authorization_code, refresh_token or client_credentials")
        }
    }

    private func refresh(_ refreshToken: String) async throws -> Response {
        switch try await store.redeemRefreshToken(refreshToken) {
        case .invalid:
            throw OAuthError(.invalidGrant, "the refresh token is invalid, expired or revoked; sign in again")
        case .reused(let session):
            Logger(label: "flint.auth").warning(
                "a spent refresh token was presented again: its whole family is revoked",
                metadata: ["uid": "\(session.uid)", "family": "\(session.family)"])
            throw OAuthError(.invalidGrant, "the refresh token was already used; every session token of this sign-in is revoked")
        case .valid(let session):
            guard let user = try await store.user(uid: session.uid), !user.disabled else {
                try await store.revokeFamily(session.family)
                throw OAuthError(.invalidGrant, "the account is disabled or deleted")
            }
            return try await issue(for: user, session: session, status: .ok)
        }
    }

    private func clientCredentials(_ request: Request, _ form: [String: String]) async throws -> Response {
        let (clientID, secret) = Self.clientCredentials(request, form)
        guard let clientID, let secret else { throw OAuthError(.invalidClient, "client authentication is missing") }
        let client = try await store.client(id: clientID)
        let verified = hasher.verify(secret, against: client?.secretHash ?? decoyHash)
        guard let client, verified else { throw OAuthError(.invalidClient, "unknown client or wrong secret") }
        var scopes = client.scopes
        if let requested = form["scope"] {
            let asked = requested.split(separator: " ").map(String.init)
            guard asked.allSatisfy(client.scopes.contains) else {
                throw OAuthError(.invalidScope, "the client may only ask for: \(client.scopes.joined(separator: " "))")
            }
            scopes = asked
        }
        let claims = tokens.claims(
            sub: client.clientID, provider: "client_credentials", authTime: .now(), scope: scopes.joined(separator: " "), sid: nil,
            email: nil, custom: [:])
        let accessToken = try await tokens.sign(claims)
        return .json(
            .object([
                "access_token": .string(accessToken), "token_type": .string("Bearer"),
                "expires_in": .integer(tokens.lifetimeSeconds), "scope": .string(scopes.joined(separator: " ")),
            ]), headers: [.cacheControl: "no-store"])
    }

    // MARK: Sessions

    /// Starts a new session (refresh-token family) for a user who just signed in.
    private func session(for user: AuthStore.User, status: HTTPResponse.Status) async throws -> Response {
        let session = AuthStore.Session(family: AutoID.make(length: 24), uid: user.uid, authTime: .now())
        return try await issue(for: user, session: session, status: status)
    }

    /// An access token and the next refresh token of a session, in RFC 6749's token response, with the user.
    func issue(
        for user: AuthStore.User, session: AuthStore.Session, status: HTTPResponse.Status, extra: [String: JSON] = [:]
    ) async throws -> Response {
        let refreshToken = Self.randomToken()
        try await store.storeRefreshToken(refreshToken, session: session, lifetimeSeconds: refreshLifetimeSeconds)
        let claims = tokens.claims(
            sub: user.uid, provider: user.provider, authTime: session.authTime, scope: nil, sid: session.family, email: user.email,
            custom: user.claims)
        let accessToken = try await tokens.sign(claims)
        var answer: [String: JSON] = [
            "access_token": .string(accessToken), "token_type": .string("Bearer"), "expires_in": .integer(tokens.lifetimeSeconds),
            "refresh_token": .string(refreshToken), "user": user.json,
        ]
        answer.merge(extra) { _, new in new }
        return .json(.object(answer), status: status, headers: [.cacheControl: "no-store"])
    }

    // MARK: Helpers

    var decoyHash: String { Self.decoys.hash(for: hasher) }

    func checkPolicy(_ password: String) throws(FlintError) {
        try Self.checkPolicy(password, minimumLength: minimumPasswordLength)
    }

    /// The password policy: a configurable minimum length, at most 1024 bytes.
    static func checkPolicy(_ password: String, minimumLength: Int) throws(FlintError) {
        guard password.count >= minimumLength else {
            throw .invalidArgument("the password must have at least \(minimumLength) characters")
        }
        guard password.utf8.count <= 1024 else { throw .invalidArgument("the password must be at most 1024 bytes") }
    }

    /// Emails compare trimmed and lower-cased; they must look like `local@domain`.
    static func normalizedEmail(_ text: String) throws(FlintError) -> String {
        let email = text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasPrefix("."), !parts[1].hasSuffix("."),
            email.count <= 320, !email.contains(where: \.isWhitespace)
        else { throw .invalidArgument("\"\(text)\" is not an email address") }
        return email
    }

    /// An `application/x-www-form-urlencoded` body (or, for convenience, a JSON object of strings).
    static func form(_ request: Request, limit: Int) async throws -> [String: String] {
        let buffer = try await request.body.collect(upTo: limit)
        let text = String(buffer: buffer)
        if request.headers[.contentType]?.hasPrefix("application/json") == true {
            guard case .object(let members) = try JSON(parsing: text) else { throw OAuthError(.invalidRequest, "the body must be a form") }
            return members.compactMapValues { if case .string(let s) = $0 { s } else { nil } }
        }
        var form: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.formDecode(parts[0]) else { throw OAuthError(.invalidRequest, "the form is malformed") }
            let value = parts.count > 1 ? Self.formDecode(parts[1]) : ""
            guard let value else { throw OAuthError(.invalidRequest, "the form is malformed") }
            guard form.updateValue(value, forKey: name) == nil else {
                throw OAuthError(.invalidRequest, "the parameter \(name) appears twice")
            }
        }
        return form
    }

    private static func formDecode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    /// One decoy hash per cost, made once.
    private static let decoys = DecoyHashes()
}

/// Decoy hashes, made lazily, one per hasher cost.
final class DecoyHashes: Sendable {
    private let cache = Mutex<[String: String]>([:])

    func hash(for hasher: PasswordHasher) -> String {
        let key = "\(hasher.cost.logN),\(hasher.cost.r),\(hasher.cost.p)"
        if let hit = cache.withLock({ $0[key] }) { return hit }
        let made = hasher.decoy()
        cache.withLock { $0[key] = made }
        return made
    }
}

/// An error of the OAuth 2.0 token endpoint, in RFC 6749 §5.2's form: `{"error": "invalid_grant", "error_description": …}`.
struct OAuthError: Error {
    enum Code: String {
        case invalidRequest = "invalid_request"
        case invalidClient = "invalid_client"
        case invalidGrant = "invalid_grant"
        case unauthorizedClient = "unauthorized_client"
        case unsupportedGrantType = "unsupported_grant_type"
        case invalidScope = "invalid_scope"
    }

    var code: Code
    var description: String

    init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }

    var response: Response {
        .json(
            .object(["error": .string(code.rawValue), "error_description": .string(description)]),
            status: code == .invalidClient ? .unauthorized : .badRequest,
            headers: code == .invalidClient ? [.wwwAuthenticate: "Basic realm=\"flint\"", .cacheControl: "no-store"] : [.cacheControl: "no-store"])
    }
}
