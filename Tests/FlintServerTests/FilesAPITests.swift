import FlintCore
import FlintTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import Testing

/// Simple uploads, downloads, metadata, listing and deletes over real HTTP.
@Suite struct FilesAPITests {
    @Test(arguments: [0, 1, 1000, 3 * 1024 * 1024 + 17])
    func binaryDataRoundTripsByteForByte(size: Int) async throws {
        try await TestServer.run { http in
            let (user, uid) = try await FilesTest.signIn(http)
            let data = FilesTest.bytes(size, seed: UInt64(size))
            let put = try await http.upload("rooms/r1/photos/x.jpg", data, contentType: "image/jpeg", headers: user)
            #expect(put.status == .created)
            let metadata = try put.json
            #expect(metadata["path"] == .string("rooms/r1/photos/x.jpg"))
            #expect(metadata["name"] == .string("x.jpg"))
            #expect(metadata["size"] == .integer(Int64(size)))
            #expect(metadata["sha256"] == .string(FilesTest.sha256(data)))
            #expect(metadata["contentType"] == .string("image/jpeg"))
            #expect(metadata["uploader"] == .string(uid))
            #expect(put.headers[.location] == "/v1/files/rooms/r1/photos/x.jpg")

            let get = try await http.send(.get, "/v1/files/rooms/r1/photos/x.jpg", headers: user)
            #expect(get.status == .ok)
            #expect(get.body.count == size)
            #expect(FilesTest.sha256(get.body) == FilesTest.sha256(data))
            #expect(get.headers[.contentType] == "image/jpeg")
            #expect(get.headers[.xContentTypeOptions] == "nosniff")
            #expect(get.headers[.eTag] == put.headers[.eTag])
            #expect(get.headers[.contentDisposition]?.hasPrefix("inline; filename=\"x.jpg\"") == true)
            #expect(get.headers[.acceptRanges] == "bytes")

            let head = try await http.send(.head, "/v1/files/rooms/r1/photos/x.jpg", headers: user)
            #expect(head.status == .ok)
            #expect(head.body.isEmpty)
            #expect(head.headers[.contentLength] == String(size))
            #expect(head.headers[.eTag] == put.headers[.eTag])
        }
    }

    @Test func replacingAFileGivesANewGenerationAndRemovesTheOldBytes() async throws {
        let data = DataDirectory()
        try await TestServer.run(configure: { data.path = $0.dataDirectory }) { http in
            let (user, _) = try await FilesTest.signIn(http)
            let first = try await http.upload("a/b.bin", FilesTest.bytes(100, seed: 1), headers: user)
            let second = try await http.upload("a/b.bin", FilesTest.bytes(200, seed: 2), headers: user)
            #expect(first.status == .created)
            #expect(second.status == .ok)
            #expect(first.headers[.eTag] != second.headers[.eTag])
            let get = try await http.send(.get, "/v1/files/a/b.bin", headers: user)
            #expect(get.body == FilesTest.bytes(200, seed: 2))
            #expect(FilesTest.entries(data.path, "blobs").count == 1)
            #expect(FilesTest.entries(data.path, "tmp").isEmpty)
        }
    }

    @Test func conditionalRequestsAnswer304And412() async throws {
        try await TestServer.run { http in
            let (user, _) = try await FilesTest.signIn(http)
            let put = try await http.upload("c.txt", Array("hello".utf8), contentType: "text/plain; charset=utf-8", headers: user)
            let etag = try #require(put.headers[.eTag])
            var headers = user

            headers[.ifNoneMatch] = etag
            #expect(try await http.send(.get, "/v1/files/c.txt", headers: headers).status == .notModified)
            headers[.ifNoneMatch] = "W/\(etag)"
            #expect(try await http.send(.get, "/v1/files/c.txt", headers: headers).status == .notModified)
            headers[.ifNoneMatch] = "\"999999\""
            #expect(try await http.send(.get, "/v1/files/c.txt", headers: headers).status == .ok)
            headers[.ifNoneMatch] = nil

            headers[.ifMatch] = "\"999999\""
            #expect(try await http.send(.get, "/v1/files/c.txt", headers: headers).status == .preconditionFailed)
            let stale = try await http.upload("c.txt", Array("again".utf8), headers: headers)
            #expect(stale.status == .preconditionFailed)
            #expect(stale.errorCode == "failed-precondition")
            #expect(try await http.send(.delete, "/v1/files/c.txt", headers: headers).status == .preconditionFailed)
            #expect(try await http.send(.patch, "/v1/files/c.txt", body: #"{"customMetadata": {"a": "b"}}"#, headers: headers).status == .preconditionFailed)
            headers[.ifMatch] = etag
            #expect(try await http.upload("c.txt", Array("again".utf8), headers: headers).status == .ok)
            headers[.ifMatch] = nil

            headers[.ifNoneMatch] = "*"
            #expect(try await http.upload("c.txt", Array("create only".utf8), headers: headers).status == .preconditionFailed)
            #expect(try await http.upload("d.txt", Array("create only".utf8), headers: headers).status == .created)
            headers[.ifNoneMatch] = nil
            headers[.ifMatch] = "*"
            #expect(try await http.upload("e.txt", Array("must exist".utf8), headers: headers).status == .preconditionFailed)
            #expect(try await http.send(.get, "/v1/files/c.txt", headers: user).text == "again")
        }
    }

    @Test(arguments: [
        ("bytes=0-0", 206, "bytes 0-0/1000", 0..<1),
        ("bytes=999-999", 206, "bytes 999-999/1000", 999..<1000),
        ("bytes=999-", 206, "bytes 999-999/1000", 999..<1000),
        ("bytes=-1", 206, "bytes 999-999/1000", 999..<1000),
        ("bytes=-1000", 206, "bytes 0-999/1000", 0..<1000),
        ("bytes=-5000", 206, "bytes 0-999/1000", 0..<1000),
        ("bytes=10-99999", 206, "bytes 10-999/1000", 10..<1000),
        ("bytes=100-199", 206, "bytes 100-199/1000", 100..<200),
        ("bytes=1000-", 416, "bytes */1000", 0..<0),
        ("bytes=1000-1001", 416, "bytes */1000", 0..<0),
        ("bytes=-0", 416, "bytes */1000", 0..<0),
        ("bytes=5-2", 200, nil, 0..<1000),
        ("bytes=0-1,5-6", 200, nil, 0..<1000),
        ("items=0-1", 200, nil, 0..<1000),
    ] as [(String, Int, String?, Range<Int>)])
    func rangesAtTheEdges(range: String, status: Int, contentRange: String?, bytes: Range<Int>) async throws {
        try await TestServer.run { http in
            let (user, _) = try await FilesTest.signIn(http)
            let data = FilesTest.bytes(1000, seed: 7)
            try await http.upload("r.bin", data, headers: user)
            var headers = user
            headers[.range] = range
            let reply = try await http.send(.get, "/v1/files/r.bin", headers: headers)
            #expect(reply.status.code == status)
            #expect(reply.headers[.contentRange] == contentRange)
            if status == 416 {
                #expect(reply.errorCode == "out-of-range")
            } else {
                #expect(reply.body == Array(data[bytes]))
                #expect(reply.headers[.contentLength] == String(bytes.count))
            }
        }
    }

    @Test func ifRangeWithAnOldETagSendsTheWholeFileAndEmptyFilesHaveNoRanges() async throws {
        try await TestServer.run { http in
            let (user, _) = try await FilesTest.signIn(http)
            let old = try await http.upload("r.bin", FilesTest.bytes(100, seed: 1), headers: user)
            try await http.upload("r.bin", FilesTest.bytes(100, seed: 2), headers: user)
            var headers = user
            headers[.range] = "bytes=0-9"
            headers[.ifRange] = old.headers[.eTag]
            let reply = try await http.send(.get, "/v1/files/r.bin", headers: headers)
            #expect(reply.status == .ok)
            #expect(reply.body == FilesTest.bytes(100, seed: 2))

            try await http.upload("empty", [], headers: user)
            headers[.ifRange] = nil
            headers[.range] = "bytes=0-"
            #expect(try await http.send(.get, "/v1/files/empty", headers: headers).status == .rangeNotSatisfiable)
            headers[.range] = "bytes=-1"
            #expect(try await http.send(.get, "/v1/files/empty", headers: headers).status == .rangeNotSatisfiable)
            #expect(try await http.send(.get, "/v1/files/empty", headers: user).body.isEmpty)
        }
    }

    @Test func metadataIsReadAndItsCustomPartUpdated() async throws {
        try await TestServer.run { http in
            let (user, _) = try await FilesTest.signIn(http)
            var headers = user
            headers[HTTPField.Name("X-Flint-Meta-Owner")!] = "alice"
            headers[HTTPField.Name("X-Flint-Meta-Album")!] = "summer"
            headers[.cacheControl] = "public, max-age=60"
            let put = try await http.upload("p/q.png", FilesTest.bytes(10, seed: 3), contentType: "image/png", headers: headers)
            #expect(try put.json["customMetadata"] == .object(["owner": .string("alice"), "album": .string("summer")]))

            let read = try await http.send(.get, "/v1/files/p/q.png?metadata", headers: user)
            #expect(read.status == .ok)
            #expect(read.headers[.contentType]?.hasPrefix("application/json") == true)
            #expect(try read.json == put.json)

            let patched = try await http.send(
                .patch, "/v1/files/p/q.png",
                body: #"{"customMetadata": {"album": null, "rating": "5"}, "contentType": "image/webp", "contentDisposition": "attachment"}"#,
                headers: user)
            #expect(patched.status == .ok)
            let updated = try patched.json
            #expect(updated["customMetadata"] == .object(["owner": .string("alice"), "rating": .string("5")]))
            #expect(updated["metageneration"] == .integer(2))
            #expect(try updated["generation"] == put.json["generation"])
            #expect(try updated["sha256"] == put.json["sha256"])

            let get = try await http.send(.get, "/v1/files/p/q.png", headers: user)
            #expect(get.headers[.contentType] == "image/webp")
            #expect(get.headers[.contentDisposition] == "attachment")
            #expect(get.headers[.cacheControl] == "public, max-age=60")

            let bad = try await http.send(.patch, "/v1/files/p/q.png", body: #"{"size": 3}"#, headers: user)
            #expect(bad.status == .badRequest)
            #expect(bad.errorMessage?.contains("unknown field size") == true)
            #expect(try await http.send(.patch, "/v1/files/nope", body: #"{"customMetadata": {}}"#, headers: user).status == .notFound)
        }
    }

    @Test func deleteRemovesTheObjectAndItsMetadata() async throws {
        try await TestServer.run { http in
            let (user, _) = try await FilesTest.signIn(http)
            try await http.upload("gone.bin", FilesTest.bytes(10, seed: 4), headers: user)
            #expect(try await http.send(.delete, "/v1/files/gone.bin", headers: user).status == .noContent)
            #expect(try await http.send(.get, "/v1/files/gone.bin", headers: user).status == .notFound)
            #expect(try await http.send(.get, "/v1/files/gone.bin?metadata", headers: user).status == .notFound)
            #expect(try await http.send(.delete, "/v1/files/gone.bin", headers: user).status == .notFound)
        }
    }

    @Test func listingRollsUpFoldersAndPagesThroughEverything() async throws {
        try await TestServer.run { http in
            let (user, _) = try await FilesTest.signIn(http)
            let paths = ["a/1", "a/2", "a/b/3", "a/b/4", "a/c/d/5", "a0", "b/6", "é/7"]
            for path in paths { try await http.upload(path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed)!, [1], headers: user) }

            func page(_ query: String) async throws -> JSON { try await http.send(.get, "/v1/files?" + query, headers: user).json }
            func names(_ page: JSON) -> [String] {
                (0..<(page["items"]?.arrayCount ?? 0)).compactMap { if case .string(let s)? = page["items"]?[$0]?["path"] { s } else { nil } }
            }
            let folders = try await page("prefix=a/&delimiter=/")
            #expect(names(folders) == ["a/1", "a/2"])
            #expect(folders["prefixes"] == .array([.string("a/b/"), .string("a/c/")]))
            #expect(names(try await page("prefix=a/")) == ["a/1", "a/2", "a/b/3", "a/b/4", "a/c/d/5"])
            let top = try await page("delimiter=/")
            #expect(names(top) == ["a0"])
            #expect(top["prefixes"] == .array([.string("a/"), .string("b/"), .string("é/")]))

            // One entry per page, items and prefixes alike, in order, then no token.
            var seen: [String] = []
            var token: String? = nil
            repeat {
                let reply = try await page("delimiter=/&pageSize=1" + (token.map { "&pageToken=\($0)" } ?? ""))
                seen += names(reply)
                if case .array(let prefixes)? = reply["prefixes"] { seen += prefixes.compactMap { if case .string(let s) = $0 { s } else { nil } } }
                token = if case .string(let next)? = reply["nextPageToken"] { next } else { nil }
            } while token != nil
            #expect(seen == ["a/", "a0", "b/", "é/"])

            #expect(try await http.send(.get, "/v1/files?pageToken=!!", headers: user).status == .badRequest)
            let firstOfA = try await page("prefix=a/&pageSize=1")
            guard case .string(let tokenOfA)? = firstOfA["nextPageToken"] else { throw ServerProcessError("no token") }
            #expect(try await http.send(.get, "/v1/files?prefix=b/&pageToken=\(tokenOfA)", headers: user).status == .badRequest)
            #expect(try await http.send(.get, "/v1/files?prefix=/etc", headers: user).status == .badRequest)
            #expect(try await http.send(.get, "/v1/files?pageSize=0", headers: user).status == .badRequest)
        }
    }
}
