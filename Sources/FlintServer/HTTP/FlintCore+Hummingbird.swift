public import FlintCore
public import Hummingbird
import NIOCore

/// HTTP conformances of FlintCore's values, kept here so that FlintCore never imports Hummingbird.
extension JSON: ResponseGenerator {
    /// A `200 OK` response with the JSON text as body.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        Response.json(self)
    }
}

extension Response {
    /// A response with a JSON body and `Content-Type: application/json`.
    static func json(_ json: JSON, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json; charset=utf-8"
        let bytes = json.serialized
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// The error body of DESIGN.md: `{"error": {"code": …, "message": …, "details": …}}` (details when there are some).
    static func error(_ error: FlintError, status: HTTPResponse.Status? = nil, headers: HTTPFields = [:]) -> Response {
        var body: [String: JSON] = ["code": .string(error.code.rawValue), "message": .string(error.message)]
        if let details = error.details { body["details"] = details }
        return .json(.object(["error": .object(body)]), status: status ?? error.code.httpStatus, headers: headers)
    }
}

extension FlintError.Code {
    /// The HTTP status of each public error code.
    var httpStatus: HTTPResponse.Status {
        switch self {
        case .invalidArgument, .outOfRange: .badRequest
        case .unauthenticated: .unauthorized
        case .permissionDenied: .forbidden
        case .notFound: .notFound
        case .alreadyExists, .aborted: .conflict
        case .failedPrecondition: .preconditionFailed
        case .resourceExhausted: .tooManyRequests
        case .unavailable: .serviceUnavailable
        case .internal: .internalServerError
        }
    }
}

extension Request {
    /// Reads the whole body, at most `limit` bytes, and parses it as JSON.
    /// - Throws: `FlintError` with `invalid-argument` for bad JSON; `HTTPError(.contentTooLarge)` past the limit.
    func json(limit: Int) async throws -> JSON {
        let buffer: ByteBuffer
        do {
            buffer = try await body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw HTTPError(.contentTooLarge)
        }
        return try JSON(parsing: buffer.readableBytesView)
    }
}
