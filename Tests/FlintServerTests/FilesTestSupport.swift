import Crypto
import FlintCore
import FlintTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What the file tests share: signed-in users, binary bodies, digests, raw sockets.
enum FilesTest {
    /// Signs in a new anonymous user; returns the `Authorization` header and the uid.
    static func signIn(_ http: HTTPTestClient) async throws -> (headers: HTTPFields, uid: String) {
        let session = try await http.send(.post, "/v1/auth/anonymous").json
        guard case .string(let token)? = session["access_token"], case .string(let uid)? = session["user"]?["uid"] else {
            throw ServerProcessError("anonymous sign-in failed: \(session)")
        }
        return ([.authorization: "Bearer \(token)"], uid)
    }

    /// `count` bytes from a seeded generator, every byte value included.
    static func bytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<count).map { _ in
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return UInt8(truncatingIfNeeded: state >> 24)
        }
    }

    static func sha256(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    /// The files under a data folder's blob store (`files/blobs` or `files/tmp`).
    static func entries(_ dataDirectory: String, _ folder: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: dataDirectory + "/files/" + folder)) ?? []
    }
}

/// The data folder of a `TestServer`, read in its `configure` closure (which runs before the server starts).
final class DataDirectory: @unchecked Sendable {
    var path = ""
}

extension HTTPTestClient {
    /// Sends raw bytes as the body.
    @discardableResult
    func send(_ method: HTTPRequest.Method, _ uri: String, bytes: [UInt8], headers: HTTPFields = [:]) async throws -> Reply {
        try await transport(method, uri, headers, ByteBuffer(bytes: bytes))
    }

    /// Uploads `bytes` to `/v1/files/<path>`.
    @discardableResult
    func upload(_ path: String, _ bytes: [UInt8], contentType: String = "application/octet-stream", headers: HTTPFields) async throws -> Reply {
        var headers = headers
        headers[.contentType] = contentType
        return try await send(.put, "/v1/files/" + path, bytes: bytes, headers: headers)
    }
}

extension RawConnection {
    /// Sends a request with no body and returns the status.
    static func status(port: Int, _ request: String) async throws -> Int {
        try await onOwnThread {
            let connection = try RawConnection(port: port)
            connection.write(request)
            return connection.readHead().status
        }
    }
}
