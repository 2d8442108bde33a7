import FlintTestSupport
import FlintCore
import Hummingbird
import HummingbirdTesting
import Testing

/// The REST API of documents, over a live server.
@Suite struct DocumentsAPITests {
    @Test(arguments: StoreKind.available)
    func putThenGetReturnsTheDocumentWithItsMetadata(store: StoreKind) async throws {
        try await TestServer.run(store: store) { http in
            let put = try await http.send(.put, "/v1/documents/rooms/r1", body: #"{"name": "Lobby", "n": 3, "x": 1.0}"#)
            #expect(put.status == .ok)
            let got = try await http.send(.get, "/v1/documents/rooms/r1")
            #expect(got.status == .ok)
            let doc = try got.json
            #expect(doc["path"] == .string("rooms/r1"))
            #expect(doc["id"] == .string("r1"))
            #expect(doc["data"] == .object(["name": .string("Lobby"), "n": .integer(3), "x": .double(1.0)]))
            #expect(doc["version"] == (try put.json)["version"])
            #expect(doc["createTime"] != nil && doc["updateTime"] != nil)
            #expect(got.headers[.eTag] == "\"\((try put.json)["version"].flatMap { if case .integer(let v) = $0 { v } else { nil } }!)\"")
        }
    }

    @Test(arguments: StoreKind.available)
    func everyValueTypeRoundTripsThroughTheAPI(store: StoreKind) async throws {
        try await TestServer.run(store: store) { http in
            let body = #"""
                {"null": null, "bool": true, "int": 9007199254740993, "double": 2.5, "whole": 3.0,
                 "text": "héllo", "ts": {"$timestamp": "2026-11-24T10:00:00.123456Z"}, "bytes": {"$bytes": "AAEC/w=="},
                 "ref": {"$ref": "users/alice"}, "geo": {"$geo": [59.9, 10.75]}, "nan": {"$double": "NaN"},
                 "list": [1, "a", [2]], "map": {"$$dollar": 1, "nested": {"deep": false}}}
                """#
            try await http.send(.put, "/v1/documents/types/t1", body: body)
            let data = try await http.send(.get, "/v1/documents/types/t1").json["data"]
            #expect(data == (try JSON(parsing: body)))
        }
    }

    @Test(arguments: StoreKind.available)
    func postOnACollectionCreatesADocumentWithAGeneratedID(store: StoreKind) async throws {
        try await TestServer.run(store: store) { http in
            let created = try await http.send(.post, "/v1/documents/rooms", body: #"{"name": "New"}"#)
            #expect(created.status == .created)
            guard case .string(let id)? = try created.json["id"] else {
                Issue.record("no id in \(created.text)")
                return
            }
            #expect(id.count == 20)
            #expect(id.allSatisfy { $0.isLetter || $0.isNumber })
            #expect(created.headers[.location] == "/v1/documents/rooms/\(id)")
            let fetched = try await http.send(.get, "/v1/documents/rooms/\(id)")
            #expect(try fetched.json["data"] == .object(["name": .string("New")]))
        }
    }

    @Test(arguments: StoreKind.available)
    func patchMergesAndAMaskedFieldAbsentFromTheBodyIsDeleted(store: StoreKind) async throws {
        try await TestServer.run(store: store) { http in
            try await http.send(.put, "/v1/documents/rooms/r1", body: #"{"a": {"b": 1, "c": 2}, "d": 3, "e": 4}"#)
            let merged = try await http.send(.patch, "/v1/documents/rooms/r1", body: #"{"a.b": 10, "f": 5}"#)
            #expect(try merged.json["data"] == (try JSON(parsing: #"{"a": {"b": 10, "c": 2}, "d": 3, "e": 4, "f": 5}"#)))
            let masked = try await http.send(.patch, "/v1/documents/rooms/r1?mask=a.c&mask=d&mask=g", body: #"{"g": 7, "e": 99}"#)
            #expect(masked.status == .ok)
            // a.c and d are masked and absent: deleted; g is masked and present: set; e is not masked: unchanged.
            #expect(try masked.json["data"] == (try JSON(parsing: #"{"a": {"b": 10}, "e": 4, "f": 5, "g": 7}"#)))
            // A key names a whole field: its map value replaces the field, as Firestore's update does.
            let replaced = try await http.send(.patch, "/v1/documents/rooms/r1", body: #"{"a": {"z": 1}}"#)
            #expect(try replaced.json["data"]?["a"] == .object(["z": .integer(1)]))
        }
    }

    @Test(arguments: StoreKind.available)
    func deleteRemovesTheDocument(store: StoreKind) async throws {
        try await TestServer.run(store: store) { http in
            try await http.send(.put, "/v1/documents/rooms/r1", body: #"{"a": 1}"#)
            #expect(try await http.send(.delete, "/v1/documents/rooms/r1").status == .noContent)
            let missing = try await http.send(.get, "/v1/documents/rooms/r1")
            #expect(missing.status == .notFound)
            #expect(missing.errorCode == "not-found")
        }
    }

    @Test(arguments: StoreKind.available)
    func ifNoneMatchAnswersNotModifiedWhileTheVersionIsCurrent(store: StoreKind) async throws {
        try await TestServer.run(store: store) { http in
            let put = try await http.send(.put, "/v1/documents/rooms/r1", body: #"{"a": 1}"#)
            let etag = try #require(put.headers[.eTag])
            #expect(try await http.send(.get, "/v1/documents/rooms/r1", headers: [.ifNoneMatch: etag]).status == .notModified)
            try await http.send(.put, "/v1/documents/rooms/r1", body: #"{"a": 2}"#)
            #expect(try await http.send(.get, "/v1/documents/rooms/r1", headers: [.ifNoneMatch: etag]).status == .ok)
        }
    }

    @Test(arguments: StoreKind.available)
    func ifMatchIsAPreconditionOnWrites(store: StoreKind) async throws {
        try await TestServer.run(store: store) { http in
            let put = try await http.send(.put, "/v1/documents/rooms/r1", body: #"{"a": 1}"#)
            let etag = try #require(put.headers[.eTag])
            let ok = try await http.send(.put, "/v1/documents/rooms/r1", body: #"{"a": 2}"#, headers: [.ifMatch: etag])
            #expect(ok.status == .ok)
            let stale = try await http.send(.patch, "/v1/documents/rooms/r1", body: #"{"a": 3}"#, headers: [.ifMatch: etag])
            #expect(stale.status == .preconditionFailed)
            #expect(stale.errorCode == "failed-precondition")
            let staleDelete = try await http.send(.delete, "/v1/documents/rooms/r1", headers: [.ifMatch: etag])
            #expect(staleDelete.status == .preconditionFailed)
            #expect(try await http.send(.get, "/v1/documents/rooms/r1").json["data"] == .object(["a": .integer(2)]))
            let mustExist = try await http.send(.put, "/v1/documents/rooms/nope", body: "{}", headers: [.ifMatch: "*"])
            #expect(mustExist.status == .notFound)
        }
    }

    @Test(arguments: StoreKind.available)
    func listingACollectionPagesThroughEveryDocumentInIDOrder(store: StoreKind) async throws {
        try await TestServer.run(store: store) { http in
            var writes: [String] = []
            for i in 0..<25 { writes.append(#"{"op": "set", "path": "items/i\#(String(format: "%02d", i))", "data": {"i": \#(i)}}"#) }
            // A document in a subcollection is not part of the listing.
            writes.append(#"{"op": "set", "path": "items/i00/sub/x", "data": {}}"#)
            try await http.send(.post, "/v1/commit", body: #"{"writes": [\#(writes.joined(separator: ","))]}"#)
            var ids: [String] = []
            var token: String? = nil
            var pages = 0
            repeat {
                let uri = "/v1/documents/items?pageSize=10" + (token.map { "&pageToken=\($0)" } ?? "")
                let page = try await http.send(.get, uri).json
                pages += 1
                for i in 0..<(page["documents"]?.arrayCount ?? 0) {
                    if case .string(let id)? = page["documents"]?[i]?["id"] { ids.append(id) }
                }
                if case .string(let next)? = page["nextPageToken"] { token = next } else { token = nil }
            } while token != nil && pages < 10
            #expect(pages == 3)
            #expect(ids == (0..<25).map { "i" + String(format: "%02d", $0) })
        }
    }

    @Test(arguments: StoreKind.available)
    func percentEncodedIDsAreDecoded(store: StoreKind) async throws {
        try await TestServer.run(store: store) { http in
            let put = try await http.send(.put, "/v1/documents/rooms/hello%20w%C3%B6rld", body: #"{"a": 1}"#)
            #expect(put.status == .ok)
            #expect(try put.json["id"] == .string("hello wörld"))
            let slash = try await http.send(.put, "/v1/documents/rooms/a%2Fb", body: #"{"a": 1}"#)
            #expect(slash.status == .badRequest)
        }
    }
}
