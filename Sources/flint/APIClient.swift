import AsyncHTTPClient
import FlintCore
import Foundation
import NIOCore
import NIOHTTP1

/// The server's HTTP API, as one profile reaches it: the base URL, and a bearer token obtained with the profile's
/// client credentials, obtained again when it is about to expire (or the server says it has). Error answers become
/// `CLIError`s carrying the server's message.
actor APIClient {
    /// `http(s)://host:port`, without a trailing slash.
    let baseURL: String
    let profileName: String
    private var profile: Profile?
    private let store: ProfileStore

    /// How long an ordinary request may take; streamed transfers have no deadline.
    static let timeout = TimeAmount.seconds(120)

    /// The HTTP client of the process. A command is one person waiting: a server that does not accept the connection
    /// fails the command at once instead of being retried with backoff (the shared client's default), connecting
    /// gives up after 10 s, an answer that stalls for 10 minutes fails, and redirects are not followed (they would
    /// carry the bearer token elsewhere).
    static let http: HTTPClient = {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow, timeout: .init(connect: .seconds(10), read: .minutes(10)))
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    init(baseURL: String, profileName: String, profile: Profile?, store: ProfileStore) {
        self.baseURL = baseURL
        self.profileName = profileName
        self.profile = profile
        self.store = store
    }

    /// The answer to a request, read whole.
    struct Reply: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: [UInt8]

        /// The body as JSON; null for an empty body.
        func json() throws -> JSON {
            if body.isEmpty { return .null }
            do {
                return try JSON(parsing: body)
            } catch {
                throw CLIError("the server's answer is not JSON (HTTP \(status))")
            }
        }
    }

    // MARK: Requests

    /// Sends a request whose body (if any) is in memory, and reads the whole answer.
    /// - Throws: `CLIError` with the server's message for an answer outside 2xx.
    func send(
        _ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: [UInt8]? = nil,
        contentType: String = "application/json", headers: [(String, String)] = [], authenticated: Bool = true
    ) async throws -> Reply {
        for attempt in 0..<2 {
            var request = try await makeRequest(method, path, query: query, headers: headers, authenticated: authenticated, freshToken: attempt > 0)
            if let body {
                request.headers.replaceOrAdd(name: "Content-Type", value: contentType)
                request.body = .bytes(ByteBuffer(bytes: body))
            }
            let response = try await execute(request, deadline: .now() + Self.timeout)
            let bytes: ByteBuffer
            do {
                bytes = try await response.body.collect(upTo: 256 << 20)
            } catch {
                throw CLIError("the answer from \(baseURL) broke off: \(Self.describe(error))")
            }
            let reply = Reply(status: Int(response.status.code), headers: response.headers, body: Array(bytes.readableBytesView))
            // A token the server no longer accepts (keys rotated, client changed): get a new one and try once more.
            if reply.status == 401, authenticated, attempt == 0 { continue }
            guard (200..<300).contains(reply.status) else { throw Self.error(from: reply) }
            return reply
        }
        preconditionFailure("the loop returns or throws")
    }

    /// Sends a JSON request and returns the JSON answer (null for an empty answer such as 204).
    func json(_ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: JSON? = nil, authenticated: Bool = true) async throws -> JSON {
        try await send(method, path, query: query, body: body?.serialized, authenticated: authenticated).json()
    }

    /// Reads the pages of a listing (`pageSize`, `pageToken`, `nextPageToken`) and returns the items under `key`, all
    /// of them or the first `limit`.
    func list(_ path: String, key: String, limit: Int? = nil) async throws -> [JSON] {
        var items: [JSON] = []
        var token: String? = nil
        repeat {
            var query = [("pageSize", String(min(1000, max(1, limit.map { $0 - items.count } ?? 1000))))]
            if let token { query.append(("pageToken", token)) }
            let page = try await json(.GET, path, query: query)
            items += page[key]?.items ?? []
            token = page["nextPageToken"]?.string
        } while token != nil && (limit.map { items.count < $0 } ?? true)
        if let limit, items.count > limit { items.removeLast(items.count - limit) }
        return items
    }

    /// Sends a request and returns the answer with its body still streaming, for downloads and exports; the body
    /// of the request may stream too. Error answers are read and thrown.
    func stream(
        _ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: HTTPClientRequest.Body? = nil,
        headers: [(String, String)] = [], authenticated: Bool = true
    ) async throws -> HTTPClientResponse {
        var request = try await makeRequest(method, path, query: query, headers: headers, authenticated: authenticated, freshToken: false)
        request.body = body
        let response = try await execute(request, deadline: .distantFuture)
        guard (200..<300).contains(Int(response.status.code)) else {
            let bytes = (try? await response.body.collect(upTo: 1 << 20)).map { Array($0.readableBytesView) } ?? []
            throw Self.error(from: Reply(status: Int(response.status.code), headers: response.headers, body: bytes))
        }
        return response
    }

    private func makeRequest(
        _ method: HTTPMethod, _ path: String, query: [(String, String)], headers: [(String, String)], authenticated: Bool, freshToken: Bool
    ) async throws -> HTTPClientRequest {
        var request = HTTPClientRequest(url: baseURL + path + Self.queryString(query))
        request.method = method
        request.headers.add(name: "User-Agent", value: "flint/\(FlintVersion.current)")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if authenticated { request.headers.add(name: "Authorization", value: "Bearer " + (try await bearerToken(fresh: freshToken))) }
        return request
    }

    private func execute(_ request: HTTPClientRequest, deadline: NIODeadline) async throws -> HTTPClientResponse {
        do {
            return try await Self.http.execute(request, deadline: deadline)
        } catch {
            throw CLIError("cannot reach \(baseURL): \(Self.describe(error))")
        }
    }

    // MARK: Tokens

    /// The cached access token while it has more than a minute left, else a new one from the client credentials.
    func bearerToken(fresh: Bool = false) async throws -> String {
        guard var profile else { throw CLIError.notLoggedIn(profile: profileName) }
        let now = Int64(Date().timeIntervalSince1970)
        if !fresh, let token = profile.accessToken, profile.tokenURL == baseURL, let expiry = profile.expiresAt, expiry - 60 > now {
            return token
        }
        let grant = try await Self.clientCredentials(baseURL: baseURL, clientID: profile.clientID, secret: profile.clientSecret)
        profile.accessToken = grant.token
        profile.tokenURL = baseURL
        profile.expiresAt = now + grant.expiresIn
        self.profile = profile
        // Caching the token is an optimisation: a read-only config folder must not fail the command.
        try? store.save(profile, as: profileName)
        return grant.token
    }

    /// What the token endpoint granted.
    struct Grant: Sendable {
        var token: String
        var expiresIn: Int64
        var scope: String
    }

    /// `POST /v1/auth/token` with `grant_type=client_credentials` (RFC 6749 §4.4).
    static func clientCredentials(baseURL: String, clientID: String, secret: String) async throws -> Grant {
        var request = HTTPClientRequest(url: baseURL + "/v1/auth/token")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "User-Agent", value: "flint/\(FlintVersion.current)")
        let form = "grant_type=client_credentials&client_id=\(percentEncoded(clientID))&client_secret=\(percentEncoded(secret))"
        request.body = .bytes(ByteBuffer(string: form))
        let response: HTTPClientResponse
        let bytes: ByteBuffer
        do {
            response = try await Self.http.execute(request, deadline: .now() + timeout)
            bytes = try await response.body.collect(upTo: 1 << 20)
        } catch {
            throw CLIError("cannot reach \(baseURL): \(describe(error))")
        }
        let reply = Reply(status: Int(response.status.code), headers: response.headers, body: Array(bytes.readableBytesView))
        guard reply.status == 200 else {
            let error = Self.error(from: reply)
            throw CLIError("the server refused the client credentials of \(clientID): \(error.message)", code: error.code, status: reply.status)
        }
        let json = try reply.json()
        guard let token = json["access_token"]?.string else { throw CLIError("the token endpoint of \(baseURL) gave no access_token") }
        var expiresIn: Int64 = 300
        if case .integer(let seconds)? = json["expires_in"] { expiresIn = seconds }
        return Grant(token: token, expiresIn: expiresIn, scope: json["scope"]?.string ?? "")
    }

    // MARK: Helpers

    /// The error an answer outside 2xx stands for: Flint's `{"error": {"code", "message", "details"}}`, OAuth's
    /// `{"error", "error_description"}`, or the status and the first line of the body.
    static func error(from reply: Reply) -> CLIError {
        if let json = try? JSON(parsing: reply.body) {
            if case .object(let error)? = json["error"], let message = error["message"]?.string {
                return CLIError(message, code: error["code"]?.string, details: error["details"], status: reply.status)
            }
            if let code = json["error"]?.string {
                return CLIError(json["error_description"]?.string ?? code, code: code, status: reply.status)
            }
        }
        let text = String(decoding: reply.body.prefix(200), as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        return CLIError("the server answered HTTP \(reply.status)" + (text.isEmpty ? "" : ": \(text)"), status: reply.status)
    }

    /// An error of the HTTP client as one line.
    static func describe(_ error: any Error) -> String {
        let text = String(describing: error).split(whereSeparator: \.isNewline).joined(separator: " ")
        for (needle, plain) in [("Connection refused", "connection refused"), ("connectTimeout", "connecting timed out"),
                                ("readTimeout", "the server stopped answering"), ("remoteConnectionClosed", "the server closed the connection")]
        where text.contains(needle) {
            return plain
        }
        return text
    }

    /// `?a=1&b=2`, each value percent-encoded; "" for no parameters.
    static func queryString(_ query: [(String, String)]) -> String {
        query.isEmpty ? "" : "?" + query.map { "\(percentEncoded($0.0))=\(percentEncoded($0.1))" }.joined(separator: "&")
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters (and `/` when `keepingSlashes`).
func percentEncoded(_ text: String, keepingSlashes: Bool = false) -> String {
    var out = ""
    for byte in text.utf8 {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            out.unicodeScalars.append(UnicodeScalar(byte))
        case UInt8(ascii: "/") where keepingSlashes:
            out.append("/")
        default:
            out += String(format: "%%%02X", byte)
        }
    }
    return out
}
