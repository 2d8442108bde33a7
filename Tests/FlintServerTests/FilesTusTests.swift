import FlintCore
import FlintTestSupport
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import Testing

/// Resumable uploads with tus 1.0: a stock client (tuspy) with an interruption, and the protocol's edges.
@Suite struct FilesTusTests {
    static func tus(_ headers: HTTPFields, _ more: [(String, String)] = []) -> HTTPFields {
        var headers = headers
        headers[HTTPField.Name("Tus-Resumable")!] = "1.0.0"
        for (name, value) in more { headers[HTTPField.Name(name)!] = value }
        return headers
    }

    static func metadata(_ pairs: [(String, String)]) -> String {
        pairs.map { "\($0.0) \(Base64.encode(Array($0.1.utf8)))" }.joined(separator: ",")
    }

    /// Creates an upload; returns its URL path.
    static func create(_ http: HTTPTestClient, _ user: HTTPFields, path: String, length: Int) async throws -> String {
        let reply = try await http.send(
            .post, "/v1/uploads",
            headers: tus(user, [("Upload-Length", "\(length)"), ("Upload-Metadata", metadata([("path", path), ("contentType", "text/plain")]))]))
        #expect(reply.status == .created, "\(reply.text)")
        return try #require(reply.headers[.location])
    }

    @Test func tuspyUploadsInChunksSurvivesAnInterruptionAndResumes() async throws {
        try await TestServer.run { http in
            let (user, _) = try await FilesTest.signIn(http)
            let port = try #require(http.port)
            let token = String(try #require(user[.authorization]).dropFirst("Bearer ".count))
            let chunk = 256 * 1024
            let output = try await runPython(
                """
                import sys, io, hashlib, random, socket, time, requests
                from urllib.parse import urlparse
                from tusclient import client
                endpoint, token, path, size, chunk = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
                data = random.Random(42).randbytes(size)
                headers = {"Authorization": "Bearer " + token}
                files = endpoint.replace("/v1/uploads", "/v1/files/") + path
                tus = client.TusClient(endpoint, headers=headers)
                first = tus.uploader(file_stream=io.BytesIO(data), chunk_size=chunk, upload_checksum=True,
                                     metadata={"path": path, "contentType": "application/x-test", "owner": "tuspy"})
                first.upload(stop_at=3 * chunk)
                print("stopped", first.offset)
                print("visible-before", requests.get(files, headers=headers).status_code)

                # The interruption: a PATCH whose client goes away halfway through its chunk.
                url = urlparse(first.url)
                sock = socket.create_connection((url.hostname, url.port))
                head = (f"PATCH {url.path} HTTP/1.1\\r\\nHost: {url.netloc}\\r\\nAuthorization: Bearer {token}\\r\\n"
                        f"Tus-Resumable: 1.0.0\\r\\nUpload-Offset: {first.offset}\\r\\n"
                        f"Content-Type: application/offset+octet-stream\\r\\nContent-Length: {chunk}\\r\\n\\r\\n")
                sock.sendall(head.encode() + data[first.offset:first.offset + chunk // 2])
                sock.close()
                # Wait for the server to record what reached it (the offset HEAD reports moves), at most 20 s.
                deadline = time.time() + 20
                while time.time() < deadline:
                    reply = requests.head(first.url, headers={**headers, "Tus-Resumable": "1.0.0"})
                    if int(reply.headers["Upload-Offset"]) != first.offset:
                        break
                    time.sleep(0.01)

                # A new uploader, as after a restart: it asks the server where to resume.
                second = tus.uploader(file_stream=io.BytesIO(data), chunk_size=chunk, url=first.url, upload_checksum=True,
                                      retries=3, retry_delay=0.1)
                print("resumed", second.offset)
                second.upload()
                print("finished", second.offset)
                print("sha256", hashlib.sha256(data).hexdigest())
                print("head-after", requests.head(first.url, headers={**headers, "Tus-Resumable": "1.0.0"}).status_code)
                """,
                arguments: ["http://127.0.0.1:\(port)/v1/uploads", token, "videos/clip.bin", "\(3 * 1024 * 1024 + 4321)", "\(chunk)"])
            let lines = Dictionary(
                output.split(separator: "\n").map { line in
                    let parts = line.split(separator: " ", maxSplits: 1)
                    return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
                }, uniquingKeysWith: { $1 })
            #expect(lines["stopped"] == "\(3 * chunk)")
            #expect(lines["visible-before"] == "404", "an unfinished upload is not an object")
            #expect(lines["resumed"] == "\(3 * chunk + chunk / 2)", "the bytes that arrived before the interruption were kept")
            #expect(lines["finished"] == "\(3 * 1024 * 1024 + 4321)")
            #expect(lines["head-after"] == "404")

            let download = try await http.send(.get, "/v1/files/videos/clip.bin", headers: user)
            #expect(download.status == .ok)
            #expect(FilesTest.sha256(download.body) == lines["sha256"])
            #expect(download.headers[.contentType] == "application/x-test")
            let metadata = try await http.send(.get, "/v1/files/videos/clip.bin?metadata", headers: user).json
            #expect(metadata["customMetadata"] == .object(["owner": .string("tuspy")]))
        }
    }

    @Test func theProtocolsEdges() async throws {
        try await TestServer.run(configure: { $0.maximumFileSize = 1 << 20 }) { http in
            let (user, _) = try await FilesTest.signIn(http)
            let options = try await http.send(.options, "/v1/uploads")
            #expect(options.status == .noContent)
            #expect(options.headers[HTTPField.Name("Tus-Version")!] == "1.0.0")
            #expect(options.headers[HTTPField.Name("Tus-Extension")!] == "creation,creation-with-upload,termination,checksum,expiration")
            #expect(options.headers[HTTPField.Name("Tus-Max-Size")!] == "1048576")
            #expect(options.headers[HTTPField.Name("Tus-Checksum-Algorithm")!]?.contains("sha1") == true)

            // Version, length, metadata and size are checked at creation.
            let noVersion = try await http.send(.post, "/v1/uploads", headers: user)
            #expect(noVersion.status == .preconditionFailed)
            #expect(noVersion.headers[HTTPField.Name("Tus-Version")!] == "1.0.0")
            #expect(try await http.send(.post, "/v1/uploads", headers: Self.tus(user)).status == .badRequest)
            let noPath = try await http.send(.post, "/v1/uploads", headers: Self.tus(user, [("Upload-Length", "10")]))
            #expect(noPath.status == .badRequest)
            #expect(noPath.errorMessage?.contains("path") == true)
            #expect(noPath.headers[HTTPField.Name("Tus-Resumable")!] == "1.0.0")
            let traversal = try await http.send(
                .post, "/v1/uploads", headers: Self.tus(user, [("Upload-Length", "10"), ("Upload-Metadata", Self.metadata([("path", "../x")]))]))
            #expect(traversal.status == .badRequest)
            let tooBig = try await http.send(
                .post, "/v1/uploads",
                headers: Self.tus(user, [("Upload-Length", "\((1 << 20) + 1)"), ("Upload-Metadata", Self.metadata([("path", "big")]))]))
            #expect(tooBig.status == .contentTooLarge)

            let upload = try await Self.create(http, user, path: "notes/n.txt", length: 10)
            let head = try await http.send(.head, upload, headers: Self.tus(user))
            #expect(head.headers[HTTPField.Name("Upload-Offset")!] == "0")
            #expect(head.headers[HTTPField.Name("Upload-Length")!] == "10")
            #expect(head.headers[.cacheControl] == "no-store")
            #expect(head.headers[HTTPField.Name("Upload-Expires")!]?.hasSuffix("GMT") == true)

            let bytes: HTTPFields = Self.tus(user, [("Content-Type", "application/offset+octet-stream")])
            var at5 = bytes
            at5[HTTPField.Name("Upload-Offset")!] = "5"
            #expect(try await http.send(.patch, upload, bytes: Array("hello".utf8), headers: at5).status == .conflict)
            var at0 = bytes
            at0[HTTPField.Name("Upload-Offset")!] = "0"
            var wrongType = at0
            wrongType[.contentType] = "text/plain"
            #expect(try await http.send(.patch, upload, bytes: Array("hello".utf8), headers: wrongType).status == .unsupportedMediaType)
            var badSum = at0
            badSum[HTTPField.Name("Upload-Checksum")!] = "sha1 " + Base64.encode(Array(repeating: 0, count: 20))
            let mismatch = try await http.send(.patch, upload, bytes: Array("hello".utf8), headers: badSum)
            #expect(mismatch.status.code == 460)
            #expect(mismatch.errorCode == "invalid-argument")
            var unknownSum = at0
            unknownSum[HTTPField.Name("Upload-Checksum")!] = "crc32 AAAA"
            #expect(try await http.send(.patch, upload, bytes: Array("hello".utf8), headers: unknownSum).status == .badRequest)
            #expect(try await http.send(.head, upload, headers: Self.tus(user)).headers[HTTPField.Name("Upload-Offset")!] == "0")
            #expect(try await http.send(.patch, upload, bytes: Array("hello world!".utf8), headers: at0).status == .contentTooLarge)

            var goodSum = at0
            goodSum[HTTPField.Name("Upload-Checksum")!] = "sha256 " + Base64.encode(Array(FilesTest.sha256Digest(Array("hello".utf8))))
            let first = try await http.send(.patch, upload, bytes: Array("hello".utf8), headers: goodSum)
            #expect(first.status == .noContent)
            #expect(first.headers[HTTPField.Name("Upload-Offset")!] == "5")
            #expect(try await http.send(.get, "/v1/files/notes/n.txt", headers: user).status == .notFound)

            // Another user cannot touch it.
            let (other, _) = try await FilesTest.signIn(http)
            #expect(try await http.send(.head, upload, headers: Self.tus(other)).status == .forbidden)

            // Through X-HTTP-Method-Override, the last bytes complete it: the object appears and the upload is gone.
            var override = at5
            override[HTTPField.Name("X-HTTP-Method-Override")!] = "PATCH"
            let last = try await http.send(.post, upload, bytes: Array("world".utf8), headers: override)
            #expect(last.status == .noContent)
            #expect(try await http.send(.get, "/v1/files/notes/n.txt", headers: user).text == "helloworld")
            #expect(try await http.send(.head, upload, headers: Self.tus(user)).status == .notFound)
        }
    }

    @Test func creationWithUploadTerminationAndEmptyUploads() async throws {
        try await TestServer.run { http in
            let (user, _) = try await FilesTest.signIn(http)
            let withBody = try await http.send(
                .post, "/v1/uploads", bytes: Array("abc".utf8),
                headers: Self.tus(
                    user,
                    [("Upload-Length", "6"), ("Upload-Metadata", Self.metadata([("path", "w.txt")])),
                     ("Content-Type", "application/offset+octet-stream")]))
            #expect(withBody.status == .created)
            #expect(withBody.headers[HTTPField.Name("Upload-Offset")!] == "3")
            let location = try #require(withBody.headers[.location])
            #expect(try await http.send(.delete, location, headers: Self.tus(user)).status == .noContent)
            #expect(try await http.send(.head, location, headers: Self.tus(user)).status == .notFound)

            let empty = try await http.send(
                .post, "/v1/uploads", headers: Self.tus(user, [("Upload-Length", "0"), ("Upload-Metadata", Self.metadata([("path", "empty.txt")]))]))
            #expect(empty.status == .created)
            let object = try await http.send(.get, "/v1/files/empty.txt", headers: user)
            #expect(object.status == .ok)
            #expect(object.body.isEmpty)
        }
    }

    @Test func anExpiredUploadIsGone() async throws {
        let data = DataDirectory()
        try await TestServer.run(configure: { data.path = $0.dataDirectory }) { http in
            let (user, _) = try await FilesTest.signIn(http)
            let upload = try await Self.create(http, user, path: "late.txt", length: 10)
            // Age it: its expiry is now in the past.
            let pool = try DatabasePool(path: data.path + "/flint.sqlite")
            try await pool.write { db in try db.execute(sql: "UPDATE file_uploads SET expire_time = 0") }
            #expect(try await http.send(.head, upload, headers: Self.tus(user)).status == .gone)
            var patch = Self.tus(user, [("Content-Type", "application/offset+octet-stream"), ("Upload-Offset", "0")])
            patch[.contentType] = "application/offset+octet-stream"
            #expect(try await http.send(.patch, upload, bytes: [1], headers: patch).status == .gone)
        }
    }
}

extension FilesTest {
    static func sha256Digest(_ bytes: [UInt8]) -> [UInt8] {
        let hex = Array(sha256(bytes).utf8)
        return stride(from: 0, to: hex.count, by: 2).map { UInt8(String(decoding: hex[$0..<($0 + 2)], as: UTF8.self), radix: 16)! }
    }
}
