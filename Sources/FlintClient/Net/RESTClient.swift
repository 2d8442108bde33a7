import AsyncHTTPClient
import FlintCore
import Foundation
import NIOCore
import NIOHTTP1

/// Requests to the server's REST API over AsyncHTTPClient, with errors read into `FlintError`.
struct RESTClient: Sendable {
    let http: HTTPClient
    /// The server's base URL without a trailing slash: `http://127.0.0.1:8080`.
    let baseURL: String
    let timeout: TimeAmount

    /// An answer: status, headers and the whole body.
    struct Reply: Sendable {
        var status: HTTPResponseStatus
        var headers: HTTPHeaders
        var body: [UInt8]

        var json: JSON {
            get throws(FlintError) { try JSON(parsing: body) }
        }
    }

    /// Sends a request and reads the whole answer. Transport failures (no route, refused, cut off, timed out) are
    /// `unavailable`: the server could not be reached.
    func send(
        _ method: HTTPMethod, _ path: String, body: [UInt8]? = nil, contentType: String = "application/json", token: String? = nil,
        headers extra: [(String, String)] = [], maximumBytes: Int = 64 << 20
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (name, value) in extra { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        do {
            let response = try await http.execute(request, timeout: timeout)
            let bytes = try await response.body.collect(upTo: maximumBytes)
            return Reply(status: response.status, headers: response.headers, body: Array(bytes.readableBytesView))
        } catch let error as FlintError {
            throw error
        } catch {
            throw Self.unreachable(error)
        }
    }

    /// Sends JSON and expects a successful JSON answer; an error answer is thrown as the server's `FlintError`.
    func json(_ method: HTTPMethod, _ path: String, body: JSON? = nil, token: String? = nil) async throws -> JSON {
        let reply = try await send(method, path, body: body?.serialized, token: token)
        try Self.check(reply)
        return reply.body.isEmpty ? .null : try reply.json
    }

    /// Throws the error an answer carries, if it is not a success.
    static func check(_ reply: Reply) throws(FlintError) {
        guard !(200..<300).contains(reply.status.code) else { return }
        throw error(from: reply)
    }

    /// The `FlintError` of an error answer: `{"error": {"code", "message", "details"}}`, or OAuth's
    /// `{"error": "invalid_grant", "error_description": …}` from the token endpoint.
    static func error(from reply: Reply) -> FlintError {
        if case .object(let root)? = try? JSON(parsing: reply.body) {
            if case .object(let error)? = root["error"], case .string(let codeText)? = error["code"] {
                let code = FlintError.Code(rawValue: codeText) ?? .internal
                let message: String
                if case .string(let text)? = error["message"] { message = text } else { message = codeText }
                return FlintError(code, message, details: error["details"])
            }
            if case .string(let oauthError)? = root["error"] {
                var message = oauthError
                if case .string(let description)? = root["error_description"] { message += ": " + description }
                return FlintError(reply.status.code == 400 ? .unauthenticated : code(for: reply.status), message)
            }
        }
        return FlintError(code(for: reply.status), "the server answered \(reply.status.code) \(reply.status.reasonPhrase)")
    }

    static func code(for status: HTTPResponseStatus) -> FlintError.Code {
        switch status.code {
        case 400: .invalidArgument
        case 401: .unauthenticated
        case 403: .permissionDenied
        case 404: .notFound
        case 409: .alreadyExists
        case 412: .failedPrecondition
        case 413, 429: .resourceExhausted
        case 416: .outOfRange
        case 503, 502, 504: .unavailable
        default: .internal
        }
    }

    static func unreachable(_ error: any Error) -> FlintError {
        FlintError(.unavailable, "the server could not be reached (\(error)); the request was not completed")
    }

    /// A path's segments percent-encoded for a URL: everything but unreserved characters (RFC 3986 §2.3).
    static func encode(_ segments: [String]) -> String {
        segments.map { $0.addingPercentEncoding(withAllowedCharacters: unreserved) ?? $0 }.joined(separator: "/")
    }

    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// `application/x-www-form-urlencoded` for the token endpoint.
    static func form(_ fields: [(String, String)]) -> [UInt8] {
        let allowed = unreserved
        return Array(
            fields.map { key, value in
                "\(key)=\(value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value)"
            }.joined(separator: "&").utf8)
    }
}
