public import FlintCore
public import FlintServer
public import Foundation
public import Hummingbird
public import HummingbirdTesting
public import NIOCore
import Logging

/// A Flint server on a loopback port chosen by the OS, with its data in a fresh temporary folder.
public enum TestServer {
    /// Runs `body` against a live server over real sockets, then removes the server's data.
    /// - Parameters:
    ///   - store: where the documents live: SQLite in the data folder, or a fresh PostgreSQL database of their own.
    ///   - rules: rules files deployed at start-up (open rules by default; none: only admins have access).
    public static func run<T: Sendable>(
        store: StoreKind = .sqlite,
        rules: [String: String] = TestRules.open,
        configure: (inout Configuration) -> Void = { _ in },
        _ body: @Sendable (HTTPTestClient) async throws -> T
    ) async throws -> T {
        if store == .postgres {
            return try await TestPostgres.withDatabase { url in
                try await run(rules: rules, configure: { configuration in
                    configuration.databaseURL = url
                    configure(&configuration)
                }, body)
            }
        }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var configuration = Configuration()
        configuration.port = 0
        configuration.dataDirectory = directory.path
        configuration.logLevel = .error
        // A cheap scrypt cost keeps sign-ups fast in tests; the parameters are stored with each hash either way.
        configuration.passwordCost = 10
        if !rules.isEmpty { configuration.rulesDirectory = try TestRules.folder(rules, in: directory.path) }
        configure(&configuration)
        let app = try await buildApplication(configuration).application
        return try await app.test(.live) { client in try await body(HTTPTestClient(client: client)) }
    }
}

/// A JSON-speaking HTTP client for tests, over Hummingbird's test clients.
public struct HTTPTestClient: Sendable {
    public let transport: @Sendable (HTTPRequest.Method, String, HTTPFields, ByteBuffer?) async throws -> Reply
    /// The server's port, for WebSocket clients.
    public let port: Int?

    /// Over the client of `app.test(.live)`.
    public init(client: any TestClientProtocol) {
        port = client.port
        transport = { method, uri, headers, body in
            try await client.execute(uri: uri, method: method, headers: headers, body: body) { response in
                Reply(status: response.status, headers: response.headers, body: Array(response.body.readableBytesView))
            }
        }
    }

    /// Over a connected `TestClient`, for servers in another process.
    public init(client: TestClient, port: Int) {
        self.port = port
        transport = { method, uri, headers, body in
            var headers = headers
            headers[.connection] = "keep-alive"
            let response = try await client.execute(TestClient.Request(uri, method: method, authority: "localhost", headers: headers, body: body))
            return Reply(
                status: response.head.status, headers: response.head.headerFields,
                body: response.body.map { Array($0.readableBytesView) } ?? [])
        }
    }

    public struct Reply: Sendable {
        public var status: HTTPResponse.Status
        public var headers: HTTPFields
        public var body: [UInt8]

        public var text: String { String(decoding: body, as: UTF8.self) }
        /// The body parsed as JSON; a test failure if it is not.
        public var json: JSON {
            get throws { try JSON(parsing: body) }
        }
        /// The `error.code` of an error body.
        public var errorCode: String? {
            guard case .object(let root)? = try? json, case .object(let error)? = root["error"], case .string(let code)? = error["code"]
            else { return nil }
            return code
        }
        public var errorMessage: String? {
            guard case .object(let root)? = try? json, case .object(let error)? = root["error"], case .string(let message)? = error["message"]
            else { return nil }
            return message
        }
    }

    @discardableResult
    public func send(_ method: HTTPRequest.Method, _ uri: String, body: String? = nil, headers: HTTPFields = [:]) async throws -> Reply {
        var headers = headers
        if body != nil, headers[.contentType] == nil { headers[.contentType] = "application/json" }
        return try await transport(method, uri, headers, body.map { ByteBuffer(string: $0) })
    }
}

/// A folder under the system's temporary directory, removed by `remove()`.
public struct TemporaryDirectory: Sendable {
    public let path: String

    public init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("flint-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    public func remove() { try? FileManager.default.removeItem(atPath: path) }
}

extension JSON {
    /// Member access for tests: `json["data"]?["n"]`.
    public subscript(key: String) -> JSON? {
        guard case .object(let members) = self else { return nil }
        return members[key]
    }

    public subscript(index: Int) -> JSON? {
        guard case .array(let items) = self, items.indices.contains(index) else { return nil }
        return items[index]
    }

    public var arrayCount: Int? {
        guard case .array(let items) = self else { return nil }
        return items.count
    }
}
