import FlintCore
@testable import FlintServer
import FlintTestSupport
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Prometheus
import Testing

/// The parts of file storage that decide things, tested directly: names, ranges, links, policies, housekeeping, and
/// the one authorization seam.
@Suite struct FilesUnitTests {
    @Test(arguments: ["a", "avatars/alice.png", "rooms/r1/photos/x.jpg", "a b/c:d/é", "..a/b..", String(repeating: "x", count: 1024)])
    func validObjectPaths(path: String) throws {
        #expect(try ObjectPath(path).string == path)
    }

    @Test(arguments: [
        ("", "empty"), ("/etc/passwd", "relative"), ("a/../b", ".."), ("..", ".."), ("a/./b", "."), ("a//b", "empty segments"),
        ("a/", "empty segments"), ("a\u{0}b", "control"), ("a\nb", "control"), ("a\u{7F}", "control"),
        (String(repeating: "x", count: 1025), "1024 bytes"), (String(repeating: "é", count: 513), "1024 bytes"),
    ])
    func invalidObjectPathsSayWhy(path: String, mentions: String) {
        do {
            _ = try ObjectPath(path)
            Issue.record("\(path.debugDescription) was accepted")
        } catch {
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains(mentions), "\(error.message)")
        }
    }

    @Test func prefixesMayBeEmptyOrEndWithASlash() throws {
        try ObjectPath.validatePrefix("")
        try ObjectPath.validatePrefix("rooms/")
        try ObjectPath.validatePrefix("rooms/r")
        #expect(throws: FlintError.self) { try ObjectPath.validatePrefix("/rooms") }
        #expect(throws: FlintError.self) { try ObjectPath.validatePrefix("../") }
        #expect(throws: FlintError.self) { try ObjectPath.validatePrefix("a//") }
    }

    @Test func byteRanges() {
        #expect(ByteRange(header: nil, size: 10) == .whole)
        #expect(ByteRange(header: "bytes=0-4", size: 10) == .part(0..<5))
        #expect(ByteRange(header: "bytes=5-", size: 10) == .part(5..<10))
        #expect(ByteRange(header: "bytes=-3", size: 10) == .part(7..<10))
        #expect(ByteRange(header: "bytes=8-100", size: 10) == .part(8..<10))
        #expect(ByteRange(header: "bytes=10-", size: 10) == .unsatisfiable)
        #expect(ByteRange(header: "bytes=-0", size: 10) == .unsatisfiable)
        #expect(ByteRange(header: "bytes=0-", size: 0) == .unsatisfiable)
        #expect(ByteRange(header: "bytes=3-2", size: 10) == .whole)
        #expect(ByteRange(header: "bytes=1-2,4-5", size: 10) == .whole)
        #expect(ByteRange(header: "bytes=a-b", size: 10) == .whole)
        #expect(ByteRange(header: "bytes=99999999999999999999-", size: 10) == .whole)
        #expect(ByteRange(header: "lines=1-2", size: 10) == .whole)
    }

    @Test func signedLinksExpireAndCoverPathGenerationAndExpiry() throws {
        let signer = LinkSigner(key: Array(repeating: 7, count: 32))
        let path = try ObjectPath("a/b.png")
        let link = signer.sign(path, generation: 5, expires: 1000)
        try signer.verify(link, for: path, now: 999)
        #expect(throws: FlintError.self) { try signer.verify(link, for: path, now: 1000) }
        #expect(throws: FlintError.self) { try signer.verify(link, for: try ObjectPath("a/c.png"), now: 0) }
        var other = link
        other.generation = 6
        #expect(throws: FlintError.self) { try signer.verify(other, for: path, now: 0) }
        other = link
        other.expires = 2000
        #expect(throws: FlintError.self) { try signer.verify(other, for: path, now: 0) }
        #expect(throws: FlintError.self) { try LinkSigner(key: Array(repeating: 8, count: 32)).verify(link, for: path, now: 0) }
        do {
            try signer.verify(link, for: path, now: 5000)
        } catch {
            #expect(error.message.contains("expired"))
        }
    }

    @Test func contentTypePolicies() throws {
        let images = try ContentTypePolicy.parse("image/*, application/pdf").get()
        #expect(try images.check("image/png") == "image/png")
        #expect(try images.check("Application/PDF; q=1") == "Application/PDF; q=1")
        #expect(throws: FlintError.self) { try images.check("text/html") }
        #expect(throws: FlintError.self) { try images.check(nil) }  // application/octet-stream
        #expect(try ContentTypePolicy.anything.check(nil) == "application/octet-stream")
        #expect(throws: FlintError.self) { try ContentTypePolicy.anything.check("text/html\r\nX-Evil: 1") }
        #expect(throws: FlintError.self) { try ContentTypePolicy.anything.check("nonsense") }
        #expect(throws: ConfigurationError.self) { try ContentTypePolicy.parse("image").get() }
        #expect(throws: ConfigurationError.self) { try ContentTypePolicy.parse("*/png").get() }
    }

    @Test func tusMetadataAndChecksums() throws {
        let parsed = try TusProtocol.metadata("path YS9iLnR4dA==,contentType dGV4dC9wbGFpbg==, flag")
        #expect(parsed == ["path": "a/b.txt", "contentType": "text/plain", "flag": ""])
        #expect(throws: FlintError.self) { try TusProtocol.metadata("path !!!") }
        #expect(throws: FlintError.self) { try TusProtocol.metadata("a YQ==,a Yg==") }
        #expect(try UploadChecksum(header: "sha1 2jmj7l5rSw0yVb/vlWAYkK/YBwk=").algorithm == .sha1)
        #expect(throws: FlintError.self) { try UploadChecksum(header: "sha1 AAAA") }
        #expect(throws: FlintError.self) { try UploadChecksum(header: "crc32 AAAA") }
    }

    @Test func configurationOfFiles() throws {
        var configuration = FlintServer.Configuration()
        try configuration.apply(environment: [
            "FLINT_MAX_FILE_SIZE": "2048", "FLINT_FILE_CONTENT_TYPES": "image/*,text/plain", "FLINT_FILE_QUOTA": "4096",
            "FLINT_UPLOAD_EXPIRY": "600", "FLINT_SIGNED_LINK_MAX_LIFETIME": "60",
        ])
        let limits = FileLimits(configuration)
        #expect(limits.maximumSize == 2048)
        #expect(limits.contentTypes.allowed == ["image/*", "text/plain"])
        #expect(limits.quotaPerUser == 4096)
        #expect(limits.uploadExpirySeconds == 600)
        #expect(limits.linkMaximumLifetimeSeconds == 60)
        #expect(FileLimits(FlintServer.Configuration()).quotaPerUser == nil)
        for bad in [["FLINT_FILE_CONTENT_TYPES": "images"], ["FLINT_MAX_FILE_SIZE": "0"], ["FLINT_UPLOAD_EXPIRY": "1"]] {
            var configuration = FlintServer.Configuration()
            #expect(throws: ConfigurationError.self) { try configuration.apply(environment: bad) }
        }
    }

    /// Every row of README's configuration table is a setting, and every setting has a row.
    @Test func readmeDocumentsEverySetting() throws {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../README.md")
        let rows = try String(contentsOf: readme, encoding: .utf8).split(separator: "\n").filter { $0.hasPrefix("| `--") }
        let documented = Set(rows.map { row in
            let cells = row.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            return cells[0] + " " + cells[1]
        })
        let settings = Set(FlintServer.Configuration.environmentVariables.map { "`\($0.flag)` `\($0.name)`" })
        #expect(documented == settings)
    }

    // MARK: Housekeeping

    static func body(_ bytes: [UInt8]) -> AsyncThrowingStream<ByteBuffer, any Error> {
        AsyncThrowingStream { continuation in
            continuation.yield(ByteBuffer(bytes: bytes))
            continuation.finish()
        }
    }

    @Test(arguments: StoreBackend.all)
    func theHousekeeperRemovesExpiredUploadsOrphansAndLeftoversButNothingInUse(_ backend: StoreBackend) async throws {
        try await backend.withStores { stores in try await housekeeping(try await stores.fileMetadata()) }
    }

    func housekeeping(_ metadata: any FileMetadataStorage) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let blobs = try FileSystemBlobStore(directory: directory.path + "/files")
        let storage = FileStorage(
            blobs: blobs, metadata: metadata, authorizer: FileAuthorizer { _ in }, limits: FileLimits(), logger: Logger(label: "test"))

        let kept = try await blobs.store(Self.body([1, 2, 3]), expectedSize: 3)
        let object = FileMetadataStore.NewObject(path: try ObjectPath("kept"), blob: kept, attributes: .init(contentType: "a/b"), uploader: nil)
        guard case .done = try await storage.metadata.put(object, expected: nil, precondition: nil, quota: nil) else {
            throw ServerProcessError("put failed")
        }
        let orphan = try await blobs.store(Self.body([4]), expectedSize: 1)
        let now = Timestamp.now()
        func upload(_ id: String, expires: Timestamp) async throws -> String {
            let blob = try await blobs.createPartial()
            try await storage.metadata.createUpload(
                PendingUpload(
                    id: id, path: try ObjectPath("u/\(id)"), blob: blob, length: 10, offset: 0, attributes: .init(contentType: "a/b"),
                    rawMetadata: "", uploader: nil, createTime: now, expireTime: expires))
            return blob
        }
        let expired = try await upload("expired", expires: Timestamp(microseconds: now.microseconds - 1))
        let live = try await upload("live", expires: Timestamp(microseconds: now.microseconds + 3_600_000_000))
        _ = FileManager.default.createFile(atPath: directory.path + "/files/tmp/leftover", contents: Data([1]))

        let housekeeper = FileHousekeeper(storage: storage, graceSeconds: 3600, logger: Logger(label: "test"))
        #expect(try await housekeeper.sweep(now: now) == .init(expiredUploads: 1, orphanBlobs: 0))
        #expect(Set(FilesTest.entries(directory.path, "blobs")) == [kept.id, orphan.id, live])
        #expect(!FilesTest.entries(directory.path, "blobs").contains(expired))
        #expect(FilesTest.entries(directory.path, "tmp") == ["leftover"])

        let later = Timestamp(microseconds: now.microseconds + 2 * 3_600_000_000)
        #expect(try await housekeeper.sweep(now: later) == .init(expiredUploads: 1, orphanBlobs: 1))
        #expect(FilesTest.entries(directory.path, "blobs") == [kept.id])
        #expect(FilesTest.entries(directory.path, "tmp").isEmpty)
        #expect(try await storage.metadata.upload(id: "live") == nil)
    }

    // MARK: The authorization seam

    actor Decisions {
        var seen: [String] = []
        func add(_ access: FileAccess) {
            let incoming = access.incoming.map { " +\($0.size) \($0.contentType) \($0.metadata.sorted { $0.key < $1.key })" } ?? ""
            seen.append("\(access.method.rawValue) \(access.path) had:\(access.existing?.size ?? -1) by:\(access.identity != nil)\(incoming)")
        }
    }

    @Test func everyOperationAsksTheAuthorizerOnce() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let decisions = Decisions()
        let authorizer = FileAuthorizer { access in
            await decisions.add(access)
            if access.path.hasPrefix("secret/") { throw FlintError(.permissionDenied, "no") }
        }
        let store = try SQLiteDocumentStore(path: directory.path + "/flint.sqlite", logger: Logger(label: "test"))
        var configuration = FlintServer.Configuration()
        configuration.passwordCost = 10
        let parts = try await ServerParts(
            configuration, store: store, pool: store.pool, hub: SubscriptionHub(), registry: PrometheusCollectorRegistry(), logger: Logger(label: "test"),
            fileAuthorizer: authorizer)
        let app = Application(router: buildRouter(configuration, parts), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let http = HTTPTestClient(client: client)
            let (user, _) = try await FilesTest.signIn(http)
            try await http.upload("a.txt", Array("hello".utf8), contentType: "text/plain", headers: user)
            var headers = user
            headers[HTTPField.Name("X-Flint-Meta-K")!] = "v"
            try await http.upload("a.txt", Array("hello!!".utf8), contentType: "text/plain", headers: headers)
            try await http.send(.get, "/v1/files/a.txt", headers: user)
            try await http.send(.head, "/v1/files/a.txt", headers: user)
            try await http.send(.get, "/v1/files/a.txt?metadata", headers: user)
            try await http.send(.patch, "/v1/files/a.txt", body: #"{"contentType": "text/csv"}"#, headers: user)
            let signed = try await http.send(.post, "/v1/files/a.txt:sign", headers: user).json
            guard case .string(let url)? = signed["url"], let link = URL(string: url) else { throw ServerProcessError("no link") }
            #expect(try await http.send(.get, link.path + "?" + (link.query ?? "")).status == .ok)
            try await http.send(.get, "/v1/files?prefix=x/", headers: user)
            try await http.send(.delete, "/v1/files/a.txt", headers: user)
            let upload = try await http.send(
                .post, "/v1/uploads",
                headers: FilesTusTests.tus(user, [("Upload-Length", "3"), ("Upload-Metadata", FilesTusTests.metadata([("path", "t.bin")]))]))
            var patch = FilesTusTests.tus(user, [("Upload-Offset", "0")])
            patch[.contentType] = "application/offset+octet-stream"
            try await http.send(.patch, try #require(upload.headers[.location]), bytes: [1, 2, 3], headers: patch)
            let denied = try await http.upload("secret/x", [1], headers: user)
            #expect(denied.status == .forbidden)
            #expect(try await http.send(.get, "/v1/files/secret/x", headers: user).status == .forbidden)
        }
        #expect(
            await decisions.seen == [
                "create a.txt had:-1 by:true +5 text/plain []",  // before the body
                "create a.txt had:-1 by:true +5 text/plain []",  // with the final size, before it becomes visible
                "update a.txt had:5 by:true +7 text/plain [(key: \"k\", value: \"v\")]",
                "update a.txt had:5 by:true +7 text/plain [(key: \"k\", value: \"v\")]",
                "get a.txt had:7 by:true",
                "get a.txt had:7 by:true",
                "get a.txt had:7 by:true",
                "update a.txt had:7 by:true +7 text/csv [(key: \"k\", value: \"v\")]",
                "get a.txt had:7 by:true",  // signing; the link's download asks no one
                "list x/ had:-1 by:true",
                "delete a.txt had:7 by:true",
                "create t.bin had:-1 by:true +3 application/octet-stream []",
                "create t.bin had:-1 by:true +3 application/octet-stream []",
                "create secret/x had:-1 by:true +1 application/octet-stream []",
                "get secret/x had:-1 by:true",
            ])
    }
}
