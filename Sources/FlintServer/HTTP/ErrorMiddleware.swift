import FlintCore
public import Hummingbird
import Logging

/// Turns every error into the JSON error body, so that no client ever sees a bare status or a Swift error's text.
/// `FlintError`s keep their code and message; Hummingbird's `HTTPError`s (unknown route, body too large) get the
/// matching code; a PostgreSQL server that cannot be reached or dropped the connection is `unavailable` (503); anything
/// else is logged and answered as `internal`.
public struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as FlintError {
            return .error(error, headers: error.code == .unauthenticated ? [.wwwAuthenticate: "Bearer realm=\"flint\""] : [:])
        } catch let error as OAuthError {
            return error.response
        } catch where isDatabaseUnavailable(error) {
            context.logger.warning("the database is unavailable", metadata: ["error": "\(String(reflecting: error))"])
            return .error(FlintError(.unavailable, "the database is not answering; retry shortly (request id \(context.id))"))
        } catch let error as HTTPError {
            let (code, message) = Self.describe(error, request: request)
            return .error(FlintError(code, message), status: error.status, headers: error.headers)
        } catch {
            context.logger.error("unexpected error", metadata: ["error": "\(String(reflecting: error))"])
            return .error(FlintError(.internal, "the server failed to handle the request; the log has the details (request id \(context.id))"))
        }
    }

    static func describe(_ error: HTTPError, request: Request) -> (FlintError.Code, String) {
        switch error.status {
        case .notFound:
            return (.notFound, error.body ?? "no route for \(request.method) \(request.uri.path); see /openapi.json")
        case .contentTooLarge:
            return (.resourceExhausted, "the request body is larger than the server's limit (FLINT_MAX_BODY_SIZE)")
        case .methodNotAllowed:
            return (.invalidArgument, error.body ?? "\(request.method) is not allowed on \(request.uri.path); see /openapi.json")
        case .unauthorized: return (.unauthenticated, error.body ?? "authentication required")
        case .forbidden: return (.permissionDenied, error.body ?? "permission denied")
        case .serviceUnavailable: return (.unavailable, error.body ?? "unavailable")
        default:
            return (error.status.code < 500 ? .invalidArgument : .internal, error.body ?? error.status.reasonPhrase)
        }
    }
}
