import FlintCore
import FlintTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Paths that try to escape, limits, quotas, signed links, and concurrent writers.
@Suite struct FilesSecurityTests {
    /// Request targets as an attacker would send them, byte for byte (over a raw socket, so no client normalises them).
    @Test(arguments: [
        "/v1/files/../../etc/passwd",
        "/v1/files/a/../../../flint.sqlite",
        "/v1/files/a/%2e%2e/%2E%2E/b",
        "/v1/files/..%2F..%2Fescape.txt",
        "/v1/files/%2Fetc%2Fpasswd",
        "/v1/files/a//b",
        "/v1/files/a/./b",
        "/v1/files/a%00b",
        "/v1/files/a%0Ab",
        "/v1/files/trailing/",
        "/v1/files/" + String(repeating: "x", count: 1025),
        "/v1/files/bad%zzescape",
    ])
    func pathsThatTryToEscapeAreRefused(target: String) async throws {
        let data = DataDirectory()
        try await TestServer.run(configure: { data.path = $0.dataDirectory }) { http in
            let (user, _) = try await FilesTest.signIn(http)
            let port = try #require(http.port)
            let authorization = try #require(user[.authorization])
            let put = try await RawConnection.status(
                port: port,
                "PUT \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: \(authorization)\r\nContent-Length: 5\r\nConnection: close\r\n\r\nowned")
            #expect(put == 400, "PUT \(target)")
            let get = try await RawConnection.status(
                port: port, "GET \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: \(authorization)\r\nConnection: close\r\n\r\n")
            #expect(get == 400, "GET \(target)")
            // Nothing was written anywhere: no object, no blob, nothing beside the data folder.
            #expect(FilesTest.entries(data.path, "blobs").isEmpty)
            #expect(try await http.send(.get, "/v1/files", headers: user).json["items"] == .array([]))
            #expect(!FileManager.default.fileExists(atPath: data.path + "/escape.txt"))
            #expect(!FileManager.default.fileExists(atPath: data.path + "/../escape.txt"))
        }
    }

    @Test func namesWithReservedCharactersRoundTripWhenPercentEncoded() async throws {
        try await TestServer.run { http in
            let (user, _) = try await FilesTest.signIn(http)
            let put = try await http.upload("notes/a%20b%3Asign%3F%23.txt", Array("x".utf8), headers: user)
            #expect(put.status == .created)
            #expect(try put.json["path"] == .string("notes/a b:sign?#.txt"))
            #expect(try await http.send(.get, "/v1/files/notes/a%20b%3Asign%3F%23.txt", headers: user).text == "x")
        }
    }

    @Test func sizeContentTypeAndQuotaLimitsAreEnforced() async throws {
        try await TestServer.run(configure: {
            $0.maximumFileSize = 1000
            $0.fileContentTypes = ["image/*", "application/octet-stream"]
            $0.fileQuotaPerUser = 1500
        }) { http in
            let (user, _) = try await FilesTest.signIn(http)
            let tooBig = try await http.upload("big.bin", FilesTest.bytes(1001, seed: 1), headers: user)
            #expect(tooBig.status == .contentTooLarge)
            #expect(tooBig.errorMessage?.contains("FLINT_MAX_FILE_SIZE") == true)

            let text = try await http.upload("a.txt", Array("hi".utf8), contentType: "text/plain", headers: user)
            #expect(text.status == .forbidden)
            #expect(text.errorMessage?.contains("text/plain") == true)
            #expect(try await http.upload("a.png", [1], contentType: "image/png", headers: user).status == .created)
            #expect(try await http.upload("a.x", [1], contentType: "not a type", headers: user).status == .badRequest)

            #expect(try await http.upload("q1.bin", FilesTest.bytes(1000, seed: 2), headers: user).status == .created)
            let over = try await http.upload("q2.bin", FilesTest.bytes(1000, seed: 3), headers: user)
            #expect(over.errorCode == "resource-exhausted")
            #expect(over.errorMessage?.contains("quota") == true)
            // Replacing one's own file counts only the difference: 1 + 900 bytes, then 599 more fit exactly.
            #expect(try await http.upload("q1.bin", FilesTest.bytes(900, seed: 4), headers: user).status == .ok)
            #expect(try await http.upload("q2.bin", FilesTest.bytes(599, seed: 3), headers: user).status == .created)
            #expect(try await http.upload("q3.bin", [1], headers: user).errorCode == "resource-exhausted")
            // Another user has a quota of their own.
            let (other, _) = try await FilesTest.signIn(http)
            #expect(try await http.upload("o.bin", FilesTest.bytes(1000, seed: 5), headers: other).status == .created)
        }
    }

    @Test func aSimpleUploadNeedsContentLengthAndABodyCutShortLeavesNothing() async throws {
        let data = DataDirectory()
        try await TestServer.run(configure: { data.path = $0.dataDirectory }) { http in
            let (user, _) = try await FilesTest.signIn(http)
            let port = try #require(http.port)
            let authorization = try #require(user[.authorization])
            let chunked = try await RawConnection.status(
                port: port,
                "PUT /v1/files/c.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: \(authorization)\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
            #expect(chunked == 411)

            // Half the announced body, then the client goes away.
            try await onOwnThread {
                let connection = try RawConnection(port: port)
                connection.write(
                    "PUT /v1/files/cut.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: \(authorization)\r\nContent-Length: 200000\r\n\r\n")
                connection.write(FilesTest.bytes(100_000, seed: 9))
                connection.finishWriting()
                _ = connection.readHead()
            }
            try await eventually("the temporary files are gone", until: { FilesTest.entries(data.path, "tmp").isEmpty })
            #expect(FilesTest.entries(data.path, "blobs").isEmpty)
            #expect(try await http.send(.get, "/v1/files/cut.bin", headers: user).status == .notFound)
        }
    }

    @Test func concurrentUploadsToOnePathLeaveExactlyOneWholeBody() async throws {
        let data = DataDirectory()
        try await TestServer.run(configure: { data.path = $0.dataDirectory }) { http in
            let (user, _) = try await FilesTest.signIn(http)
            let port = try #require(http.port)
            let bodies = (0..<8).map { FilesTest.bytes(300_000 + $0 * 1000, seed: UInt64(100 + $0)) }
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for body in bodies {
                    group.addTask {
                        let client = TestClient(host: "127.0.0.1", port: port)
                        client.connect()
                        defer { Task { try? await client.shutdown() } }
                        return try await HTTPTestClient(client: client, port: port).upload("contended.bin", body, headers: user).status
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { $0 == .ok || $0 == .created })
            #expect(statuses.filter { $0 == .created }.count == 1)
            let final = try await http.send(.get, "/v1/files/contended.bin", headers: user)
            #expect(bodies.map(FilesTest.sha256).contains(FilesTest.sha256(final.body)))
            #expect(FilesTest.entries(data.path, "blobs").count == 1)

            // With If-None-Match: *, exactly one creates and the others fail their precondition.
            var headers = user
            headers[.ifNoneMatch] = "*"
            let createOnly = headers
            let created = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for body in bodies {
                    group.addTask {
                        let client = TestClient(host: "127.0.0.1", port: port)
                        client.connect()
                        defer { Task { try? await client.shutdown() } }
                        return try await HTTPTestClient(client: client, port: port).upload("once.bin", body, headers: createOnly).status
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(created.filter { $0 == .created }.count == 1)
            #expect(created.filter { $0 == .preconditionFailed }.count == bodies.count - 1)
        }
    }

    @Test func signedLinksDownloadWithoutATokenUntilTheyExpireOrTheFileChanges() async throws {
        try await TestServer.run(configure: { $0.signedLinkMaximumLifetimeSeconds = 3600 }) { http in
            let (user, _) = try await FilesTest.signIn(http)
            let data = FilesTest.bytes(5000, seed: 11)
            try await http.upload("shared/report.pdf", data, contentType: "application/pdf", headers: user)
            let signed = try await http.send(.post, "/v1/files/shared/report.pdf:sign", body: #"{"expiresIn": 600}"#, headers: user)
            #expect(signed.status == .ok)
            guard case .string(let url)? = try signed.json["url"] else { throw ServerProcessError("no url") }
            let link = try #require(URL(string: url))
            let target = link.path + "?" + (link.query ?? "")
            #expect(link.path == "/v1/files/shared/report.pdf")

            let download = try await http.send(.get, target)
            #expect(download.status == .ok)
            #expect(download.body == data)
            #expect(download.headers[.contentType] == "application/pdf")
            var ranged: HTTPFields = [:]
            ranged[.range] = "bytes=0-9"
            #expect(try await http.send(.get, target, headers: ranged).body == Array(data[0..<10]))

            // Tampering with any part breaks the signature.
            let longer = target.replacingOccurrences(of: "expires=", with: "expires=9")
            #expect(try await http.send(.get, longer).status == .forbidden)
            #expect(try await http.send(.get, target.replacingOccurrences(of: "report", with: "other")).status == .forbidden)
            #expect(try await http.send(.get, target + "x").status == .forbidden)

            // A link made already expired (an expiry in the past is allowed for this) is refused as expired.
            let expired = try await http.send(
                .post, "/v1/files/shared/report.pdf:sign", body: #"{"expireTime": "2020-01-01T00:00:00Z"}"#, headers: user)
            guard case .string(let expiredURL)? = try expired.json["url"], let expiredLink = URL(string: expiredURL) else {
                throw ServerProcessError("no url")
            }
            let refused = try await http.send(.get, expiredLink.path + "?" + (expiredLink.query ?? ""))
            #expect(refused.status == .forbidden)
            #expect(refused.errorMessage?.contains("expired") == true)

            #expect(try await http.send(.post, "/v1/files/shared/report.pdf:sign", body: #"{"expiresIn": 3601}"#, headers: user).status == .badRequest)
            #expect(try await http.send(.post, "/v1/files/shared/missing.pdf:sign", headers: user).status == .notFound)

            // Replacing the file kills the link; so does deleting it.
            try await http.upload("shared/report.pdf", data + [0], contentType: "application/pdf", headers: user)
            #expect(try await http.send(.get, target).status == .notFound)
            let fresh = try await http.send(.post, "/v1/files/shared/report.pdf:sign", headers: user)
            guard case .string(let freshURL)? = try fresh.json["url"], let freshLink = URL(string: freshURL) else { throw ServerProcessError("no url") }
            let freshTarget = freshLink.path + "?" + (freshLink.query ?? "")
            #expect(try await http.send(.get, freshTarget).status == .ok)
            try await http.send(.delete, "/v1/files/shared/report.pdf", headers: user)
            #expect(try await http.send(.get, freshTarget).status == .notFound)
        }
    }
}
