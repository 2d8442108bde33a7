import AsyncHTTPClient
import Crypto
import FlintCore
import Foundation
import Hummingbird
import JWTKit
import NIOCore
import NIOHTTP1
import Synchronization

/// Sign-in with external providers, as part of Flint's own authorization-code flow: an app sends the user to
/// `/v1/auth/providers/{id}/start` with the parameters of `/v1/auth/authorize` (its client id, redirect URI, PKCE
/// challenge, state); Flint runs authorization code + PKCE + `state` + `nonce` with the provider, verifies its ID token
/// against the provider's JWKS (or reads its userinfo), links the user by the provider's subject, and sends the app
/// back a Flint authorization code, which it trades at the token endpoint as usual.
struct ProviderController: Sendable {
    let auth: AuthController
    let providers: [String: ExternalProvider]
    let discovery = DiscoveryCache()
    /// A provider sign-in must complete within this many seconds.
    static let stateLifetimeSeconds: Int64 = 600

    func addRoutes(to router: Router<FlintRequestContext>) {
        router.get("/v1/auth/providers/{id}/start") { request, context in try await self.start(request, context) }
        router.get("/v1/auth/providers/{id}/callback") { request, context in try await self.callback(request, context) }
    }

    private func provider(_ context: FlintRequestContext) throws -> ExternalProvider {
        let id = try context.parameters.require("id")
        guard let provider = providers[id] else { throw FlintError.notFound("no sign-in provider \(id) is configured") }
        return provider
    }

    /// Our callback URL, which the provider must have registered for our client.
    private func callbackURL(_ provider: ExternalProvider) -> String {
        auth.tokens.issuer + "/v1/auth/providers/\(provider.id)/callback"
    }

    func start(_ request: Request, _ context: FlintRequestContext) async throws -> Response {
        let provider = try provider(context)
        var parameters: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { parameters[String(key)] = String(value).removingPercentEncoding ?? String(value) }
        if case .answer(let response) = try await auth.authorizationRequest(parameters) { return response }
        let endpoints = try await self.endpoints(provider)
        let state = AuthController.randomToken()
        let verifier = AuthController.randomToken()
        let nonce = AuthController.randomToken()
        try await auth.store.storeProviderState(
            state, .init(provider: provider.id, verifier: verifier, nonce: nonce, authorization: parameters),
            lifetimeSeconds: Self.stateLifetimeSeconds)
        var query = [
            "response_type": "code", "client_id": provider.clientID, "redirect_uri": callbackURL(provider), "state": state,
            "code_challenge": Base64.urlEncode(Array(SHA256.hash(data: Array(verifier.utf8)))), "code_challenge_method": "S256",
        ]
        if !provider.scopes.isEmpty { query["scope"] = provider.scopes }
        if provider.isOpenIDConnect { query["nonce"] = nonce }
        return AuthController.redirect(endpoints.authorization, query)
    }

    func callback(_ request: Request, _ context: FlintRequestContext) async throws -> Response {
        let provider = try provider(context)
        let query = request.uri.queryParameters
        guard let stateText = query["state"].map(String.init), let pending = try await auth.store.takeProviderState(stateText),
            pending.provider == provider.id
        else {
            return AuthController.page(
                title: "Sign-in expired", message: "This sign-in is unknown or took too long; start again from the app.", status: .badRequest)
        }
        guard case .valid(let authorization) = try await auth.authorizationRequest(pending.authorization) else {
            return AuthController.page(title: "Sign-in failed", message: "The app's sign-in request is no longer valid.", status: .badRequest)
        }
        func backToApp(_ error: String, _ description: String) -> Response {
            AuthController.redirect(authorization.redirectURI, ["error": error, "error_description": description, "state": authorization.state])
        }
        if let error = query["error"] {
            return backToApp("access_denied", "the provider refused: \(error)")
        }
        guard let code = query["code"].map(String.init) else { return backToApp("server_error", "the provider sent no code") }
        let identity: (subject: String, email: String?)
        do {
            identity = try await self.identity(provider, code: code, verifier: pending.verifier, nonce: pending.nonce)
        } catch let error as FlintError {
            return backToApp("access_denied", error.message)
        }
        let user = try await auth.store.user(provider: "oidc:\(provider.id)", subject: identity.subject, email: identity.email)
        guard !user.disabled else { return backToApp("access_denied", "this account is disabled") }
        return try await auth.issueCode(for: user, authorization)
    }

    // MARK: Talking to the provider

    struct Endpoints: Sendable {
        var authorization: String
        var token: String
        var userinfo: String?
        var jwks: String?
    }

    private func endpoints(_ provider: ExternalProvider) async throws -> Endpoints {
        guard let issuer = provider.issuer else {
            return Endpoints(
                authorization: provider.authorizationEndpoint!, token: provider.tokenEndpoint!, userinfo: provider.userinfoEndpoint, jwks: nil)
        }
        if let cached = discovery.endpoints(for: issuer) { return cached }
        let document = try await Self.getJSON(issuer + "/.well-known/openid-configuration", bearer: nil)
        guard case .string(let authorization)? = document.objectMember("authorization_endpoint"),
            case .string(let token)? = document.objectMember("token_endpoint"),
            case .string(let jwks)? = document.objectMember("jwks_uri"),
            document.objectMember("issuer") == .string(issuer)
        else { throw FlintError(.unavailable, "the provider's discovery document at \(issuer) is incomplete or names another issuer") }
        var userinfo: String? = nil
        if case .string(let url)? = document.objectMember("userinfo_endpoint") { userinfo = url }
        let endpoints = Endpoints(authorization: authorization, token: token, userinfo: userinfo, jwks: jwks)
        discovery.store(endpoints, for: issuer)
        return endpoints
    }

    /// Trades the provider's code for tokens and returns the verified subject and email.
    private func identity(_ provider: ExternalProvider, code: String, verifier: String, nonce: String) async throws -> (subject: String, email: String?) {
        let endpoints = try await self.endpoints(provider)
        var form = [
            "grant_type": "authorization_code", "code": code, "redirect_uri": callbackURL(provider), "code_verifier": verifier,
            "client_id": provider.clientID, "client_secret": provider.clientSecret,
        ]
        form = form.filter { !$0.value.isEmpty }
        let body = form.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.formEncode($0.value))" }.joined(separator: "&")
        var request = HTTPClientRequest(url: endpoints.token)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body))
        let tokens = try await Self.send(request)
        guard tokens.status == 200, case .object(let answer) = tokens.json else {
            throw FlintError(.unauthenticated, "the provider refused the code (HTTP \(tokens.status))")
        }
        if provider.isOpenIDConnect {
            guard case .string(let idToken)? = answer["id_token"], let jwksURL = endpoints.jwks else {
                throw FlintError(.unauthenticated, "the provider sent no id_token")
            }
            let keys = JWTKeyCollection()
            let jwks = try await Self.send(HTTPClientRequest(url: jwksURL))
            do {
                try await keys.add(jwksJSON: String(decoding: jwks.body, as: UTF8.self))
            } catch {
                throw FlintError(.unavailable, "the provider's JWKS cannot be read")
            }
            let claims: ProviderIDToken
            do {
                claims = try await keys.verify(idToken, as: ProviderIDToken.self)
            } catch {
                throw FlintError(.unauthenticated, "the provider's id_token does not verify against its JWKS")
            }
            let now = Timestamp.now().microseconds / 1_000_000
            guard claims.iss == provider.issuer else { throw FlintError(.unauthenticated, "the id_token names another issuer") }
            guard claims.aud.value.contains(provider.clientID) else { throw FlintError(.unauthenticated, "the id_token is for another client") }
            guard claims.exp > now else { throw FlintError(.unauthenticated, "the id_token has expired") }
            guard claims.nonce == nonce else { throw FlintError(.unauthenticated, "the id_token's nonce does not match") }
            return (claims.sub, claims.email)
        }
        guard case .string(let accessToken)? = answer["access_token"], let userinfoURL = endpoints.userinfo else {
            throw FlintError(.unauthenticated, "the provider sent no access_token")
        }
        let userinfo = try await Self.getJSON(userinfoURL, bearer: accessToken)
        let subject: String
        switch userinfo.objectMember(provider.subjectField) {
        case .string(let s)?: subject = s
        case .integer(let i)?: subject = String(i)
        default: throw FlintError(.unauthenticated, "the provider's userinfo has no \(provider.subjectField)")
        }
        var email: String? = nil
        if case .string(let e)? = userinfo.objectMember(provider.emailField) { email = e }
        return (subject, email)
    }

    private static func getJSON(_ url: String, bearer: String?) async throws -> JSON {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "application/json")
        if let bearer { request.headers.add(name: "Authorization", value: "Bearer \(bearer)") }
        let response = try await send(request)
        guard response.status == 200 else { throw FlintError(.unavailable, "\(url) answered HTTP \(response.status)") }
        return response.json
    }

    private static func send(_ request: HTTPClientRequest) async throws -> (status: UInt, body: [UInt8], json: JSON) {
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        } catch {
            throw FlintError(.unavailable, "the provider could not be reached")
        }
        let body = try await response.body.collect(upTo: 1 << 20)
        let bytes = Array(body.readableBytesView)
        return (response.status.code, bytes, (try? JSON(parsing: bytes)) ?? .null)
    }

    private static func formEncode(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }
}

/// Provider discovery documents, fetched once per issuer.
final class DiscoveryCache: Sendable {
    private let cache = Mutex<[String: ProviderController.Endpoints]>([:])

    func endpoints(for issuer: String) -> ProviderController.Endpoints? { cache.withLock { $0[issuer] } }
    func store(_ endpoints: ProviderController.Endpoints, for issuer: String) { cache.withLock { $0[issuer] = endpoints } }
}

/// The claims Flint reads from a provider's ID token.
struct ProviderIDToken: JWTPayload {
    var iss: String
    var aud: AudienceClaim
    var sub: String
    var exp: Int64
    var nonce: String?
    var email: String?

    func verify(using algorithm: some JWTAlgorithm) throws {}
}
