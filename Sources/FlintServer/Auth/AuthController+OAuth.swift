import Crypto
import FlintCore
import Foundation
import Hummingbird
import JWTKit

/// The OAuth 2.0 authorization server for third-party apps: authorization code with PKCE (RFC 6749 §4.1, RFC 7636),
/// revocation (RFC 7009), introspection (RFC 7662), metadata (RFC 8414) and OpenID Connect discovery with `id_token`.
extension AuthController {
    /// Authorization codes live this long.
    static let codeLifetimeSeconds: Int64 = 60
    /// The scopes a third-party app may ask a user for.
    static let userScopes: Set<String> = ["openid", "email", "profile"]

    func addOAuthRoutes(to router: Router<FlintRequestContext>) {
        router.get("/v1/auth/authorize") { request, _ in try await self.authorizePage(request) }
        router.post("/v1/auth/authorize") { request, context in try await self.authorize(request, context) }
        router.post("/v1/auth/revoke") { request, _ in try await self.revoke(request) }
        router.post("/v1/auth/introspect") { request, _ in try await self.introspect(request) }
        router.get("/.well-known/oauth-authorization-server") { _, _ in self.metadata }
        router.get("/.well-known/openid-configuration") { _, _ in self.metadata }
    }

    /// RFC 8414 metadata, also served as OIDC discovery.
    var metadata: JSON {
        let issuer = tokens.issuer
        return .object([
            "issuer": .string(issuer),
            "authorization_endpoint": .string(issuer + "/v1/auth/authorize"),
            "token_endpoint": .string(issuer + "/v1/auth/token"),
            "revocation_endpoint": .string(issuer + "/v1/auth/revoke"),
            "introspection_endpoint": .string(issuer + "/v1/auth/introspect"),
            "userinfo_endpoint": .string(issuer + "/v1/auth/userinfo"),
            "jwks_uri": .string(issuer + "/.well-known/jwks.json"),
            "response_types_supported": .array([.string("code")]),
            "grant_types_supported": .array(["authorization_code", "refresh_token", "client_credentials"].map(JSON.string)),
            "code_challenge_methods_supported": .array([.string("S256")]),
            "token_endpoint_auth_methods_supported": .array(["client_secret_basic", "client_secret_post", "none"].map(JSON.string)),
            "scopes_supported": .array(["openid", "email", "profile", "admin"].map(JSON.string)),
            "subject_types_supported": .array([.string("public")]),
            "id_token_signing_alg_values_supported": .array([.string("ES256")]),
        ])
    }

    // MARK: Authorize

    /// An authorization request, checked: valid, or the answer to give instead.
    enum AuthorizationCheck {
        case valid(AuthorizationRequest)
        case answer(Response)
    }

    /// The checked parameters of an authorization request.
    struct AuthorizationRequest {
        var client: AuthStore.Client
        var redirectURI: String
        var state: String?
        var scope: String
        var codeChallenge: String
        var nonce: String?

        var hiddenFields: [(String, String)] {
            var fields = [
                ("response_type", "code"), ("client_id", client.clientID), ("redirect_uri", redirectURI), ("scope", scope),
                ("code_challenge", codeChallenge), ("code_challenge_method", "S256"),
            ]
            if let state { fields.append(("state", state)) }
            if let nonce { fields.append(("nonce", nonce)) }
            return fields
        }
    }

    /// Validates an authorization request. Problems with the client or the redirect URI are shown to the user (never
    /// redirected, RFC 6749 §4.1.2.1); other problems go back to the app as `error` on the redirect URI.
    func authorizationRequest(_ parameters: [String: String]) async throws -> AuthorizationCheck {
        guard let clientID = parameters["client_id"], let client = try await store.client(id: clientID), !client.redirectURIs.isEmpty else {
            return .answer(Self.page(title: "Unknown application", message: "This sign-in link names no registered application.", status: .badRequest))
        }
        guard let redirectURI = parameters["redirect_uri"], client.redirectURIs.contains(redirectURI) else {
            return .answer(Self.page(
                title: "Wrong redirect address", message: "The sign-in link's redirect_uri is not registered for \(client.name.isEmpty ? client.clientID : client.name).",
                status: .badRequest))
        }
        let state = parameters["state"]
        func fail(_ error: String, _ description: String) -> AuthorizationCheck {
            .answer(Self.redirect(redirectURI, ["error": error, "error_description": description, "state": state]))
        }
        guard parameters["response_type"] == "code" else { return fail("unsupported_response_type", "response_type must be code") }
        guard let challenge = parameters["code_challenge"], challenge.count >= 43, challenge.count <= 128 else {
            return fail("invalid_request", "PKCE is required: send code_challenge (S256)")
        }
        guard parameters["code_challenge_method"] == "S256" else { return fail("invalid_request", "code_challenge_method must be S256") }
        let scope = parameters["scope"] ?? "openid"
        let asked = Set(scope.split(separator: " ").map(String.init))
        guard asked.isSubset(of: Self.userScopes) else {
            return fail("invalid_scope", "the scopes a user can grant are: \(Self.userScopes.sorted().joined(separator: " "))")
        }
        return .valid(AuthorizationRequest(
            client: client, redirectURI: redirectURI, state: state, scope: scope, codeChallenge: challenge, nonce: parameters["nonce"]))
    }

    func authorizePage(_ request: Request) async throws -> Response {
        var parameters: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { parameters[String(key)] = String(value).removingPercentEncoding ?? String(value) }
        switch try await authorizationRequest(parameters) {
        case .answer(let response): return response
        case .valid(let authorization): return Self.signInForm(authorization, error: nil)
        }
    }

    /// The sign-in form's submission: checks the credentials, then redirects back to the app with a code.
    func authorize(_ request: Request, _ context: FlintRequestContext) async throws -> Response {
        let form = try await Self.form(request, limit: maximumBodySize)
        let authorization: AuthorizationRequest
        switch try await authorizationRequest(form) {
        case .answer(let response): return response
        case .valid(let valid): authorization = valid
        }
        let user: AuthStore.User
        do {
            user = try await checkCredentials(email: form["email"] ?? "", password: form["password"] ?? "", context: context)
        } catch let error as FlintError {
            return Self.signInForm(authorization, error: error.message)
        } catch let limited as RetryLater {
            return Self.signInForm(authorization, error: "Too many attempts; try again in \(limited.seconds) seconds.")
        }
        return try await issueCode(for: user, authorization)
    }

    /// Ends an authorization request for a signed-in user: a one-time code, sent back to the app with its state.
    func issueCode(for user: AuthStore.User, _ authorization: AuthorizationRequest) async throws -> Response {
        let code = Self.randomToken()
        try await store.storeCode(
            code,
            .init(
                clientID: authorization.client.clientID, redirectURI: authorization.redirectURI, uid: user.uid, scope: authorization.scope,
                codeChallenge: authorization.codeChallenge, nonce: authorization.nonce, authTime: .now()),
            lifetimeSeconds: Self.codeLifetimeSeconds)
        return Self.redirect(authorization.redirectURI, ["code": code, "state": authorization.state])
    }

    /// The token endpoint's `authorization_code` grant: the code, once, for the client it was issued to, with the same
    /// redirect URI, and the PKCE verifier whose S256 is the challenge.
    func exchangeCode(_ request: Request, _ form: [String: String]) async throws -> Response {
        guard let code = form["code"], let redirectURI = form["redirect_uri"], let verifier = form["code_verifier"] else {
            throw OAuthError(.invalidRequest, "code, redirect_uri and code_verifier are required")
        }
        let (clientID, secret) = Self.clientCredentials(request, form)
        guard let clientID, let client = try await store.client(id: clientID) else { throw OAuthError(.invalidClient, "unknown client") }
        if let secretHash = client.secretHash {
            guard let secret, hasher.verify(secret, against: secretHash) else { throw OAuthError(.invalidClient, "wrong client secret") }
        }
        let family = AutoID.make(length: 24)
        switch try await store.redeemCode(code, family: family) {
        case .invalid:
            throw OAuthError(.invalidGrant, "the authorization code is invalid or expired")
        case .reused:
            throw OAuthError(.invalidGrant, "the authorization code was already used; the tokens issued for it are revoked")
        case .valid(let grant):
            guard grant.clientID == client.clientID else { throw OAuthError(.invalidGrant, "the code was issued to another client") }
            guard grant.redirectURI == redirectURI else { throw OAuthError(.invalidGrant, "redirect_uri does not match the authorization request") }
            let computed = Base64.urlEncode(Array(SHA256.hash(data: Array(verifier.utf8))))
            guard computed == grant.codeChallenge else { throw OAuthError(.invalidGrant, "code_verifier does not match the code_challenge") }
            guard let user = try await store.user(uid: grant.uid), !user.disabled else {
                throw OAuthError(.invalidGrant, "the account is disabled or deleted")
            }
            let session = AuthStore.Session(family: family, uid: user.uid, authTime: grant.authTime)
            var extra: [String: JSON] = ["scope": .string(grant.scope)]
            if grant.scope.split(separator: " ").contains("openid") {
                let now = Timestamp.now().microseconds / 1_000_000
                let idToken = IDTokenClaims(
                    iss: tokens.issuer, aud: client.clientID, sub: user.uid, iat: now, exp: now + tokens.lifetimeSeconds,
                    authTime: grant.authTime.microseconds / 1_000_000, nonce: grant.nonce, email: user.email)
                extra["id_token"] = .string(try await tokens.sign(idToken))
            }
            return try await issue(for: user, session: session, status: .ok, extra: extra)
        }
    }

    // MARK: Revocation and introspection

    /// RFC 7009: revokes a refresh token's whole sign-in. Always 200, even for unknown tokens (§2.2).
    func revoke(_ request: Request) async throws -> Response {
        let form = try await Self.form(request, limit: maximumBodySize)
        guard let token = form["token"] else { throw OAuthError(.invalidRequest, "token is missing") }
        _ = try await store.revokeRefreshToken(token)
        return Response(status: .ok, headers: [.cacheControl: "no-store"])
    }

    /// RFC 7662: whether a token is active, for a caller that authenticates as a confidential client.
    func introspect(_ request: Request) async throws -> Response {
        let form = try await Self.form(request, limit: maximumBodySize)
        let (clientID, secret) = Self.clientCredentials(request, form)
        guard let clientID, let secret, let client = try await store.client(id: clientID), let hash = client.secretHash,
            hasher.verify(secret, against: hash)
        else { throw OAuthError(.invalidClient, "introspection needs a confidential client's credentials") }
        guard let token = form["token"] else { throw OAuthError(.invalidRequest, "token is missing") }
        var answer: [String: JSON] = ["active": .bool(false)]
        if let claims = try? await tokens.verify(token) {
            answer = [
                "active": .bool(true), "token_type": .string("Bearer"), "sub": .string(claims.sub), "iss": .string(claims.iss),
                "aud": .string(claims.aud), "iat": .integer(claims.iat), "exp": .integer(claims.exp),
            ]
            if let scope = claims.scope { answer["scope"] = .string(scope) }
        } else if let session = try await store.refreshSession(token) {
            answer = ["active": .bool(true), "token_type": .string("refresh_token"), "sub": .string(session.uid)]
        }
        return .json(.object(answer), headers: [.cacheControl: "no-store"])
    }

    // MARK: Helpers

    /// Client credentials from HTTP Basic (RFC 6749 §2.3.1, form-encoded id and secret) or the form.
    static func clientCredentials(_ request: Request, _ form: [String: String]) -> (id: String?, secret: String?) {
        if let header = request.headers[.authorization], header.lowercased().hasPrefix("basic "),
            let decoded = Base64.decode(String(header.dropFirst(6))).flatMap({ String(validating: $0, as: UTF8.self) }),
            let colon = decoded.firstIndex(of: ":")
        {
            return (
                String(decoded[..<colon]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding,
                String(decoded[decoded.index(after: colon)...]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
            )
        }
        return (form["client_id"], form["client_secret"])
    }

    static func randomToken() -> String {
        var bytes = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for i in bytes.indices { bytes[i] = UInt8.random(in: .min ... .max, using: &generator) }
        return Base64.urlEncode(bytes)
    }

    static func redirect(_ uri: String, _ parameters: [String: String?]) -> Response {
        var components = URLComponents(string: uri)
        var items = components?.queryItems ?? []
        for (name, value) in parameters.sorted(by: { $0.key < $1.key }) {
            if let value { items.append(URLQueryItem(name: name, value: value)) }
        }
        components?.queryItems = items
        return Response(status: .found, headers: [.location: components?.string ?? uri, .cacheControl: "no-store"])
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
            .replacingOccurrences(of: "'", with: "&#39;")
    }

    static func page(title: String, message: String, status: HTTPResponse.Status) -> Response {
        html(status: status, body: "<h1>\(escape(title))</h1><p>\(escape(message))</p>")
    }

    static func signInForm(_ authorization: AuthorizationRequest, error: String?) -> Response {
        let app = escape(authorization.client.name.isEmpty ? authorization.client.clientID : authorization.client.name)
        let hidden = authorization.hiddenFields.map { "<input type=\"hidden\" name=\"\(escape($0.0))\" value=\"\(escape($0.1))\">" }.joined()
        let errorHTML = error.map { "<p class=\"error\" role=\"alert\">\(escape($0))</p>" } ?? ""
        return html(
            status: .ok,
            body: """
                <h1>Sign in</h1><p><strong>\(app)</strong> asks to use your account (\(escape(authorization.scope))).</p>\(errorHTML)
                <form method="post" action="/v1/auth/authorize">\(hidden)
                <label>Email <input type="email" name="email" autocomplete="username" required autofocus></label>
                <label>Password <input type="password" name="password" autocomplete="current-password" required></label>
                <button type="submit">Sign in and allow</button></form>
                """)
    }

    static func html(status: HTTPResponse.Status, body: String) -> Response {
        let document = """
            <!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Flint</title><style>
            body{font-family:system-ui,sans-serif;background:#f4f4f5;display:flex;justify-content:center;padding:4rem 1rem;color:#18181b}
            main{background:#fff;border-radius:12px;box-shadow:0 1px 3px rgba(0,0,0,.1);padding:2rem;max-width:22rem;width:100%}
            label{display:block;margin:1rem 0;font-size:.9rem}input{display:block;width:100%;box-sizing:border-box;padding:.6rem;margin-top:.3rem;border:1px solid #d4d4d8;border-radius:6px}
            button{width:100%;padding:.7rem;border:0;border-radius:6px;background:#ea580c;color:#fff;font-size:1rem;cursor:pointer}
            .error{color:#b91c1c}</style></head><body><main>\(body)</main></body></html>
            """
        return Response(
            status: status,
            headers: [
                .contentType: "text/html; charset=utf-8", .cacheControl: "no-store", .init("X-Frame-Options")!: "DENY",
                .init("Content-Security-Policy")!: "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
            ],
            body: .init(byteBuffer: ByteBuffer(string: document)))
    }
}

/// An OpenID Connect ID token's claims.
struct IDTokenClaims: JWTPayload {
    var iss: String
    var aud: String
    var sub: String
    var iat: Int64
    var exp: Int64
    var authTime: Int64
    var nonce: String?
    var email: String?

    enum CodingKeys: String, CodingKey {
        case iss, aud, sub, iat, exp, nonce, email
        case authTime = "auth_time"
    }

    func verify(using algorithm: some JWTAlgorithm) throws {}
}

extension Base64 {
    /// Base64url without padding (RFC 4648 §5), as JWTs and PKCE use it.
    static func urlEncode(_ bytes: [UInt8]) -> String {
        encode(bytes).replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
