import FlintCore
import FlintTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import Testing

/// Killing the server (`kill -9`) in the middle of uploads: nothing half-written becomes visible, what was
/// acknowledged stays, and a resumable upload resumes from the offset it reported.
@Suite struct FilesDurabilityTests {
    @Test func killDuringASimpleUploadLeavesNoVisibleObject() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let server = try await ServerProcess(dataDirectory: directory.path)
        let (user, _) = try await FilesTest.signIn(server.http)
        let kept = FilesTest.bytes(200_000, seed: 1)
        #expect(try await server.http.upload("kept.bin", kept, headers: user).status == .created)

        // A slow upload: the head and a quarter of the body, and the client keeps the connection open.
        let connection = try await onOwnThread { [port = server.port] in try RawConnection(port: port) }
        let authorization = try #require(user[.authorization])
        try await onOwnThread {
            connection.write(
                "PUT /v1/files/victim.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: \(authorization)\r\nContent-Length: 4194304\r\n\r\n")
            connection.write(FilesTest.bytes(1 << 20, seed: 2))
        }
        // Kill it once the upload is being written to a temporary file.
        try await eventually("one temporary file is left", until: { FilesTest.entries(directory.path, "tmp").count == 1 })
        try await server.stop(signal: SIGKILL)
        _ = connection

        let restarted = try await ServerProcess(dataDirectory: directory.path)
        let (again, _) = try await FilesTest.signIn(restarted.http)
        #expect(try await restarted.http.send(.get, "/v1/files/victim.bin", headers: again).status == .notFound)
        let listing = try await restarted.http.send(.get, "/v1/files", headers: again).json
        #expect(listing["items"]?.arrayCount == 1, "only the acknowledged upload is an object, not the temporary leftover")
        #expect(try await restarted.http.send(.get, "/v1/files/kept.bin", headers: again).body == kept)
        try await restarted.stop(signal: SIGKILL)
    }

    @Test func aResumableUploadResumesAfterTheServerWasKilled() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let data = FilesTest.bytes(600_000, seed: 3)
        // A fixed public URL keeps the tokens' issuer the same across the restart (the port changes).
        let arguments = ["--public-url", "http://flint.test"]
        let server = try await ServerProcess(dataDirectory: directory.path, arguments: arguments)
        let (user, _) = try await FilesTest.signIn(server.http)
        let location = try await FilesTusTests.create(server.http, user, path: "resumed.bin", length: data.count)
        var patch = FilesTusTests.tus(user, [("Upload-Offset", "0")])
        patch[.contentType] = "application/offset+octet-stream"
        let first = try await server.http.send(.patch, location, bytes: Array(data[0..<250_000]), headers: patch)
        #expect(first.status == .noContent)
        try await server.stop(signal: SIGKILL)

        let restarted = try await ServerProcess(dataDirectory: directory.path, arguments: arguments)
        let head = try await restarted.http.send(.head, location, headers: FilesTusTests.tus(user))
        #expect(head.headers[HTTPField.Name("Upload-Offset")!] == "250000", "an acknowledged offset survives kill -9")
        #expect(try await restarted.http.send(.get, "/v1/files/resumed.bin", headers: user).status == .notFound)
        patch[HTTPField.Name("Upload-Offset")!] = "250000"
        let rest = try await restarted.http.send(.patch, location, bytes: Array(data[250_000...]), headers: patch)
        #expect(rest.status == .noContent)
        let download = try await restarted.http.send(.get, "/v1/files/resumed.bin", headers: user)
        #expect(FilesTest.sha256(download.body) == FilesTest.sha256(data))
        try await restarted.stop(signal: SIGKILL)
    }
}
