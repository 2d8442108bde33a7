import FlintCore
import FlintTestSupport
import Foundation
import Testing

/// `flint data export` and `flint data import`.
@Suite struct CLIDataTests {
    static let documents: [(String, String)] = [
        ("rooms/r1", #"{"name": "Lobby", "opened": {"$timestamp": "2026-11-24T10:00:00.123456Z"}, "n": 3, "x": 1.5, "big": 9007199254740993}"#),
        ("rooms/r1/messages/m1", #"{"text": "hi ☃", "by": {"$ref": "users/alice"}, "at": {"$geo": [59.9, 10.7]}}"#),
        ("rooms/r2", #"{"blob": {"$bytes": "AAEC"}, "nested": {"$$dollar": [1, null, true, {"$double": "-Infinity"}]}}"#),
        ("users/alice", #"{"name": "Alice", "tags": [], "empty": {}}"#),
    ]

    /// Paths and data of an NDJSON export, in order.
    static func pathsAndData(_ ndjson: String) throws -> [JSON] {
        try ndjson.split(separator: "\n").map { line in
            let json = try JSON(parsing: String(line))
            return .object(["path": json["path"] ?? .null, "data": json["data"] ?? .null])
        }
    }

    @Test func exportThenImportIntoAFreshServerGivesIdenticalDocuments() async throws {
        let dump = try TemporaryDirectory()
        defer { dump.remove() }
        let file = dump.path + "/dump.ndjson"
        // Enough documents for several export pages and import commits.
        let many = (0..<1100).map { ("items/i\(String(format: "%04d", $0))", #"{"i": \#($0)}"#) }
        let exported = try await CLIServer.run { context in
            for (path, data) in Self.documents {
                #expect(try await context.http.send(.put, "/v1/documents/\(path)", body: data, headers: context.admin.headers).status == .ok)
            }
            for chunk in stride(from: 0, to: many.count, by: 500) {
                let writes = many[chunk..<min(chunk + 500, many.count)].map { #"{"op": "set", "path": "\#($0.0)", "data": \#($0.1)}"# }
                let commit = #"{"writes": [\#(writes.joined(separator: ","))]}"#
                #expect(try await context.http.send(.post, "/v1/commit", body: commit, headers: context.admin.headers).status == .ok)
            }
            try await context.login()
            let export = try await context.cli.run(["data", "export"])
            expectSuccess(export)
            #expect(export.stdout.split(separator: "\n").count == Self.documents.count + many.count)
            // A progress line only on a terminal: nothing on a pipe.
            #expect(export.stderr.isEmpty)
            let onTerminal = try await context.cli.runOnTerminal(["data", "export", "-o", dump.path + "/terminal.ndjson"])
            #expect(onTerminal.status == 0, "\(onTerminal)")
            #expect(onTerminal.stdout.contains("Exporting: ") && onTerminal.stdout.contains("\(Self.documents.count + many.count) documents"))
            let toFile = try await context.cli.run(["data", "export", "-o", file, "--json"])
            expectSuccess(toFile)
            #expect(try toFile.json["documents"] == .integer(Int64(Self.documents.count + many.count)))
            #expect(try String(contentsOfFile: file, encoding: .utf8) == export.stdout)
            #expect(!FileManager.default.fileExists(atPath: file + ".partial"))

            let rooms = try await context.cli.run(["data", "export", "--collection", "rooms", "--all-descendants"])
            expectSuccess(rooms)
            #expect(try Self.pathsAndData(rooms.stdout).map { $0["path"] } == ["rooms/r1", "rooms/r1/messages/m1", "rooms/r2"].map { JSON.string($0) })
            let top = try await context.cli.run(["data", "export", "--collection", "rooms"])
            #expect(try Self.pathsAndData(top.stdout).count == 2)
            return export.stdout
        }

        try await CLIServer.run(rules: [:]) { context in
            try await context.login()
            let imported = try await context.cli.run(["data", "import", file, "--json"])
            expectSuccess(imported)
            let total = Int64(Self.documents.count + many.count)
            #expect(try imported.json == .object(["imported": .integer(total), "commits": .integer(3), "lines": .integer(total)]))
            let again = try await context.cli.run(["data", "import", file])
            expectSuccess(again)
            #expect(again.stdout == "Imported \(total) documents in 3 commits from \(file)\n")

            let reexport = try await context.cli.run(["data", "export"])
            expectSuccess(reexport)
            #expect(try Self.pathsAndData(reexport.stdout) == (try Self.pathsAndData(exported)))
            // And through the documents API, value by value.
            for (path, data) in Self.documents {
                let stored = try await context.http.send(.get, "/v1/documents/\(path)", headers: context.admin.headers).json
                #expect(stored["data"] == (try JSON(parsing: data)), "\(path)")
            }
        }
    }

    @Test func importFromStandardInputAndABadLineNamesItsNumber() async throws {
        try await CLIServer.run { context in
            try await context.login()
            let lines = [#"{"path": "a/1", "data": {"n": 1}}"#, #"{"path": "a/2", "data": {"n": 2}}"#, #"{"path": "a/3", "data": nope}"#, #"{"path": "a/4", "data": {}}"#]
            let bad = try context.cli.write("bad.ndjson", lines.joined(separator: "\n") + "\n")
            let result = try await context.cli.run(["data", "import", bad])
            expectFailure(result, containing: "bad.ndjson: line 3: ")
            #expect(result.stderr.contains("the 2 documents before it were imported"))
            #expect(try await context.http.send(.get, "/v1/documents/a/2", headers: context.admin.headers).status == .ok)
            #expect(try await context.http.send(.get, "/v1/documents/a/4", headers: context.admin.headers).status == .notFound)

            let piped = try await context.cli.run(["data", "import", "-", "--json"], stdin: lines[0] + "\n" + lines[3] + "\n")
            expectSuccess(piped)
            #expect(try piped.json["imported"] == .integer(2))
            expectFailure(try await context.cli.run(["data", "import", "missing.ndjson"]), containing: "cannot open missing.ndjson")
            let usage = try await context.cli.run(["data", "export", "--json"])
            #expect(usage.status == 64)
        }
    }
}
