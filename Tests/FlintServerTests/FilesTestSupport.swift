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

    /// Waits (polling the filesystem, at most `timeout`) until `condition` holds.
    static func eventually(timeout: Duration = .seconds(20), _ condition: () -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return condition()
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

/// A blocking TCP connection to 127.0.0.1 for requests no HTTP client would send (a body cut short, chunked bodies,
/// paths with `..`). Use it on a thread of its own (`onOwnThread`).
final class RawConnection: @unchecked Sendable {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw ServerProcessError("connect to \(port) failed") }
    }

    deinit { close(fd) }

    func write(_ bytes: [UInt8]) {
        var done = 0
        while done < bytes.count {
            let sent = bytes[done...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return }
            done += sent
        }
    }

    func write(_ text: String) { write(Array(text.utf8)) }

    /// Stops sending: the server sees the end of the stream.
    func finishWriting() { shutdown(fd, Int32(SHUT_WR)) }

    /// Reads one response's status line and headers (and no body).
    func readHead() -> (status: Int, head: String) {
        var data: [UInt8] = []
        var byte: UInt8 = 0
        while !data.suffix(4).elementsEqual([13, 10, 13, 10]) {
            guard recv(fd, &byte, 1, 0) == 1 else { break }
            data.append(byte)
        }
        let head = String(decoding: data, as: UTF8.self)
        let status = head.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        return (status, head)
    }

    /// Sends a request with no body and returns the status.
    static func status(port: Int, _ request: String) async throws -> Int {
        try await onOwnThread {
            let connection = try RawConnection(port: port)
            connection.write(request)
            return connection.readHead().status
        }
    }
}
