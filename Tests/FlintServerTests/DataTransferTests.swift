import FlintCore
import FlintTestSupport
import Foundation
import Testing

/// `GET /v1/admin/export` and `POST /v1/admin/import`: NDJSON out and in, for admins.
@Suite struct DataTransferTests {
    static let adminID = "admin"
    static let adminSecret = "a-long-admin-secret"

    func withServer<T: Sendable>(_ body: @Sendable (HTTPTestClient, HTTPTestClient.Session) async throws -> T) async throws -> T {
        try await TestServer.run(configure: {
            $0.adminClientID = Self.adminID
            $0.adminClientSecret = Self.adminSecret
        }) { http in
            try await body(http, try await http.serviceToken(clientID: Self.adminID, secret: Self.adminSecret))
        }
    }

    static let documents: [(String, String)] = [
        ("rooms/r1", #"{"name": "Lobby", "opened": {"$timestamp": "2026-11-24T10:00:00.123456Z"}, "n": 3, "x": 1.5}"#),
        ("rooms/r1/messages/m1", #"{"text": "hi", "by": {"$ref": "users/alice"}, "at": {"$geo": [59.9, 10.7]}}"#),
        ("rooms/r2", #"{"blob": {"$bytes": "AAEC"}, "nested": {"$$dollar": [1, null, true, {"$double": "NaN"}]}}"#),
        ("users/alice", #"{"name": "Alice"}"#),
    ]

    func seed(_ http: HTTPTestClient, _ admin: HTTPTestClient.Session) async throws {
        for (path, data) in Self.documents {
            #expect(try await http.send(.put, "/v1/documents/\(path)", body: data, headers: admin.headers).status == .ok)
        }
    }

    func lines(_ reply: HTTPTestClient.Reply) throws -> [JSON] {
        try reply.text.split(separator: "\n").map { try JSON(parsing: String($0)) }
    }

    @Test func exportStreamsEveryDocumentInNameOrderAsNDJSON() async throws {
        try await withServer { http, admin in
            try await seed(http, admin)
            let reply = try await http.send(.get, "/v1/admin/export", headers: admin.headers)
            #expect(reply.status == .ok)
            #expect(reply.headers[.contentType] == "application/x-ndjson")
            #expect(reply.text.hasSuffix("\n"))
            let lines = try lines(reply)
            #expect(lines.map { $0["path"] ?? .null } == Self.documents.map { JSON.string($0.0) })
            for (line, (path, data)) in zip(lines, Self.documents) {
                let stored = try await http.send(.get, "/v1/documents/\(path)", headers: admin.headers).json
                #expect(line["data"] == stored["data"])
                #expect(line["data"] == (try JSON(parsing: data)), "\(path) keeps its values in the tagged form")
                #expect(line["createTime"] == stored["createTime"] && line["updateTime"] == stored["updateTime"])
                guard case .object(let members) = line else { continue }
                #expect(Set(members.keys) == ["path", "data", "createTime", "updateTime"])
            }
        }
    }

    @Test func exportOfACollectionAloneOrWithItsDescendants() async throws {
        try await withServer { http, admin in
            try await seed(http, admin)
            let direct = try lines(try await http.send(.get, "/v1/admin/export?collection=rooms", headers: admin.headers))
            #expect(direct.map { $0["path"] ?? .null } == [JSON.string("rooms/r1"), .string("rooms/r2")])
            let all = try lines(try await http.send(.get, "/v1/admin/export?collection=rooms&allDescendants=true", headers: admin.headers))
            #expect(all.map { $0["path"] ?? .null } == [JSON.string("rooms/r1"), .string("rooms/r1/messages/m1"), .string("rooms/r2")])
            let empty = try await http.send(.get, "/v1/admin/export?collection=nothing", headers: admin.headers)
            #expect(empty.status == .ok && empty.body.isEmpty)
            let document = try await http.send(.get, "/v1/admin/export?collection=rooms/r1", headers: admin.headers)
            #expect(document.status == .badRequest && document.errorMessage?.contains("not a collection") == true)
            let alone = try await http.send(.get, "/v1/admin/export?allDescendants=true", headers: admin.headers)
            #expect(alone.status == .badRequest && alone.errorMessage == "allDescendants needs a collection")
        }
    }

    @Test func importIntoAFreshServerGivesIdenticalDocumentsAndImportingAgainChangesNothing() async throws {
        let export = try await withServer { http, admin in
            try await seed(http, admin)
            return try await http.send(.get, "/v1/admin/export", headers: admin.headers).text
        }
        try await withServer { http, admin in
            let reply = try await http.send(.post, "/v1/admin/import", body: export, headers: admin.headers)
            #expect(reply.status == .ok)
            #expect(try reply.json == .object(["imported": .integer(4), "commits": .integer(1), "lines": .integer(4)]))
            let again = try await http.send(.post, "/v1/admin/import", body: export, headers: admin.headers)
            #expect(again.status == .ok)
            let reexport = try await http.send(.get, "/v1/admin/export", headers: admin.headers)
            let pathsAndData = { (text: String) throws -> [JSON] in
                try text.split(separator: "\n").map { line in
                    let json = try JSON(parsing: String(line))
                    return .object(["path": json["path"] ?? .null, "data": json["data"] ?? .null])
                }
            }
            #expect(try pathsAndData(reexport.text) == (try pathsAndData(export)))
        }
    }

    @Test func importCommitsInBatchesOfAtMost500() async throws {
        try await withServer { http, admin in
            // Blank lines and a last line without a line break are fine.
            let body = (0..<1203).map { #"{"path": "items/i\#($0)", "data": {"i": \#($0)}}"# }.joined(separator: "\n") + "\n\n  \n"
                + #"{"path": "items/last", "data": {}}"#
            let reply = try await http.send(.post, "/v1/admin/import", body: body, headers: admin.headers)
            #expect(try reply.json == .object(["imported": .integer(1204), "commits": .integer(3), "lines": .integer(1206)]))
            let stored = try await http.send(.get, "/v1/documents/items/i1202", headers: admin.headers).json
            #expect(stored["data"] == .object(["i": .integer(1202)]))
        }
    }

    @Test(arguments: [
        (#"{"path": "a/b", "data": {"x": 1}"#, "invalid JSON at byte 32"),
        (#"{"path": "a", "data": {}}"#, "names a collection"),
        (#"{"path": "a/b"}"#, "no \"data\""),
        (#"{"path": "a/b", "data": [1]}"#, "must be a JSON object"),
        (#"{"path": "a/b", "data": {}, "extra": 1}"#, "unknown field \"extra\""),
        (#"["a/b"]"#, "must be a JSON object"),
    ])
    func aBadLineIs400NamingItAndTheLinesBeforeItAreImported(line: String, message: String) async throws {
        try await withServer { http, admin in
            let good = (0..<3).map { #"{"path": "good/g\#($0)", "data": {"i": \#($0)}}"# }
            let body = (good + [line, #"{"path": "after/a", "data": {}}"#]).joined(separator: "\n")
            let reply = try await http.send(.post, "/v1/admin/import", body: body, headers: admin.headers)
            #expect(reply.status == .badRequest)
            #expect(reply.errorCode == "invalid-argument")
            #expect(reply.errorMessage?.hasPrefix("line 4: ") == true, "\(reply.text)")
            #expect(reply.errorMessage?.contains(message) == true, "\(reply.text)")
            #expect(reply.errorMessage?.hasSuffix("the 3 documents before it were imported") == true)
            #expect(try reply.json["error"]?["details"] == .object(["line": .integer(4), "imported": .integer(3)]))
            #expect(try await http.send(.get, "/v1/documents/good/g2", headers: admin.headers).status == .ok)
            #expect(try await http.send(.get, "/v1/documents/after/a", headers: admin.headers).status == .notFound)
        }
    }

    @Test func onlyAdminsExportAndImport() async throws {
        try await withServer { http, _ in
            let user = try await http.signUp("ann@example.com")
            #expect(try await http.send(.get, "/v1/admin/export").status == .unauthorized)
            #expect(try await http.send(.get, "/v1/admin/export", headers: user.headers).status == .forbidden)
            let line = #"{"path": "a/b", "data": {}}"#
            #expect(try await http.send(.post, "/v1/admin/import", body: line).status == .unauthorized)
            #expect(try await http.send(.post, "/v1/admin/import", body: line, headers: user.headers).status == .forbidden)
        }
    }
}
