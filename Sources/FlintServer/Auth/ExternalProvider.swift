public import FlintCore

/// An external identity provider users can sign in with: OpenID Connect by issuer URL (Google, Apple, Microsoft,
/// Keycloak, another Flint), or a plain OAuth 2.0 provider with a userinfo endpoint (GitHub-style).
public struct ExternalProvider: Sendable, Equatable {
    /// The name in URLs (`/v1/auth/providers/{id}/start`) and in users' `provider` (`oidc:{id}`).
    public var id: String
    public var clientID: String
    public var clientSecret: String
    /// OpenID Connect: the issuer, whose discovery document names the endpoints and the JWKS.
    public var issuer: String?
    /// Plain OAuth 2.0: the endpoints themselves.
    public var authorizationEndpoint: String?
    public var tokenEndpoint: String?
    public var userinfoEndpoint: String?
    /// The scopes asked of the provider.
    public var scopes: String
    /// Plain OAuth 2.0: the userinfo fields holding the stable subject and the email.
    public var subjectField: String
    public var emailField: String

    public var isOpenIDConnect: Bool { issuer != nil }

    /// Reads the providers from their JSON form (`FLINT_AUTH_PROVIDERS`): an array of objects with `id`,
    /// `clientId`, `clientSecret`, and either `issuer` or the three endpoints; optional `scopes`, `subjectField`,
    /// `emailField`.
    public static func parse(_ text: String) throws(FlintError) -> [ExternalProvider] {
        guard case .array(let items) = try JSON(parsing: text) else {
            throw .invalidArgument("FLINT_AUTH_PROVIDERS must be a JSON array of providers")
        }
        var providers: [ExternalProvider] = []
        for (index, item) in items.enumerated() {
            let object = try JSONObject(item, context: "FLINT_AUTH_PROVIDERS[\(index)]")
            try object.allowOnly([
                "id", "clientId", "clientSecret", "issuer", "authorizationEndpoint", "tokenEndpoint", "userinfoEndpoint", "scopes",
                "subjectField", "emailField",
            ])
            let id = try object.string("id")
            guard !id.isEmpty, id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                throw .invalidArgument("FLINT_AUTH_PROVIDERS[\(index)].id must be letters, digits, - or _")
            }
            let issuer = try object.optionalString("issuer")
            let endpoints = (
                try object.optionalString("authorizationEndpoint"), try object.optionalString("tokenEndpoint"),
                try object.optionalString("userinfoEndpoint")
            )
            if issuer == nil, endpoints.0 == nil || endpoints.1 == nil || endpoints.2 == nil {
                throw .invalidArgument(
                    "FLINT_AUTH_PROVIDERS[\(index)] needs an issuer (OpenID Connect) or authorizationEndpoint, tokenEndpoint and userinfoEndpoint")
            }
            if providers.contains(where: { $0.id == id }) { throw .invalidArgument("FLINT_AUTH_PROVIDERS names \(id) twice") }
            providers.append(ExternalProvider(
                id: id, clientID: try object.string("clientId"), clientSecret: try object.string("clientSecret"),
                issuer: issuer.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }, authorizationEndpoint: endpoints.0,
                tokenEndpoint: endpoints.1, userinfoEndpoint: endpoints.2,
                scopes: try object.optionalString("scopes") ?? (issuer != nil ? "openid email" : ""),
                subjectField: try object.optionalString("subjectField") ?? "id", emailField: try object.optionalString("emailField") ?? "email"))
        }
        return providers
    }
}
