import FlintCore
import FlintTestSupport
import Foundation
import Testing

/// `flint files ls|cp|rm|sign`.
@Suite struct CLIFilesTests {
    @Test func filesAreUploadedListedDownloadedSignedAndRemoved() async throws {
        try await CLIServer.run { context in
            let cli = context.cli
            try await context.login()
            // More than one upload chunk, with every byte value.
            let bytes = (0..<700_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 / 256) }
            let local = cli.workingDirectory + "/photo.png"
            try Data(bytes).write(to: URL(fileURLWithPath: local))

            let upload = try await cli.run(["files", "cp", "photo.png", "flint:albums/summer/", "--meta", "owner=ann", "--json"])
            expectSuccess(upload)
            let object = try upload.json
            #expect(object["path"] == .string("albums/summer/photo.png"))
            #expect(object["size"] == .integer(Int64(bytes.count)))
            #expect(object["contentType"] == .string("image/png"))
            #expect(object["customMetadata"] == .object(["owner": .string("ann")]))
            try cli.write("notes/a b:c.txt", "hello")
            expectSuccess(try await cli.run(["files", "cp", "notes/a b:c.txt", "flint:docs/a b:c.txt"]))

            let folders = try await cli.run(["files", "ls", "--json"])
            expectSuccess(folders)
            #expect(try folders.json["prefixes"] == .array([.string("albums/"), .string("docs/")]))
            let all = try await cli.run(["files", "ls", "--recursive", "--json"])
            #expect((try all.json["items"]?.arrayValue ?? []).map { $0["path"] } == [JSON.string("albums/summer/photo.png"), .string("docs/a b:c.txt")])
            let table = try await cli.run(["files", "ls", "flint:albums/summer/"])
            expectSuccess(table)
            #expect(table.stdout.hasPrefix("SIZE"))
            #expect(table.stdout.contains("albums/summer/photo.png") && table.stdout.contains("image/png"))

            try FileManager.default.createDirectory(atPath: cli.workingDirectory + "/down", withIntermediateDirectories: true)
            let download = try await cli.run(["files", "cp", "flint:albums/summer/photo.png", "down"])
            expectSuccess(download)
            #expect(try Data(contentsOf: URL(fileURLWithPath: cli.workingDirectory + "/down/photo.png")) == Data(bytes))
            #expect(!FileManager.default.fileExists(atPath: cli.workingDirectory + "/down/photo.png.partial"))
            let toStdout = try await cli.run(["files", "cp", "flint:docs/a b:c.txt", "-"])
            expectSuccess(toStdout)
            #expect(toStdout.stdout == "hello")

            let signed = try await cli.run(["files", "sign", "albums/summer/photo.png", "--expires-in", "600", "--json"])
            expectSuccess(signed)
            guard case .string(let url)? = try signed.json["url"], let components = URLComponents(string: url) else {
                Issue.record("no url in \(signed)")
                return
            }
            #expect(url.hasPrefix(context.url + "/v1/files/albums/summer/photo.png?"))
            let fetched = try await context.http.send(.get, components.percentEncodedPath + "?" + (components.percentEncodedQuery ?? ""))
            #expect(fetched.status == .ok)
            #expect(fetched.body == bytes)
            let plain = try await cli.run(["files", "sign", "flint:docs/a b:c.txt"])
            expectSuccess(plain)
            #expect(plain.stdout.hasPrefix(context.url + "/v1/files/docs/"))

            let removed = try await cli.run(["files", "rm", "flint:albums/summer/photo.png", "docs/a b:c.txt", "--json"])
            expectSuccess(removed)
            #expect(try removed.json == .object(["removed": .array([.string("albums/summer/photo.png"), .string("docs/a b:c.txt")])]))
            let empty = try await cli.run(["files", "ls", "--json"])
            #expect(try empty.json == .object(["items": .array([]), "prefixes": .array([])]))
            expectFailure(try await cli.run(["files", "rm", "docs/a b:c.txt"]), containing: "docs/a b:c.txt")
            expectFailure(try await cli.run(["files", "cp", "flint:nothing/here.txt", "x.txt"]), containing: "nothing/here.txt")
            #expect(!FileManager.default.fileExists(atPath: cli.workingDirectory + "/x.txt.partial"))
            expectFailure(try await cli.run(["files", "cp", "absent.bin", "flint:x/"]), containing: "cannot open absent.bin")
        }
    }
}
