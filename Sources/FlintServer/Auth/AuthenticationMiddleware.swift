import FlintCore
import Foundation
import Hummingbird

/// Reads `Authorization: Bearer <access token>`, verifies it and puts the identity in the request context.
/// No header: no identity. A header with a bad token: 401, with the reason.
/// (HTTP Basic client authentication passes through to the OAuth endpoints.)
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = FlintRequestContext
    let tokens: TokenService

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else { return try await next(request, context) }
        // HTTP Basic is how OAuth clients authenticate to the token, revocation and introspection endpoints
        // (RFC 6749 §2.3.1), which check it themselves: it is not an identity.
        if header.lowercased().hasPrefix("basic ") { return try await next(request, context) }
        guard header.lowercased().hasPrefix("bearer ") else {
            throw FlintError(.unauthenticated, "Authorization must be \"Bearer <access token>\"")
        }
        let claims = try await tokens.verify(String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces))
        var context = context
        context.identity = Identity(claims: claims)
        return try await next(request, context)
    }
}
