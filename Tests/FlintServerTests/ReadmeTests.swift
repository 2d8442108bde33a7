import FlintTestSupport
import FlintCore
import Foundation
import Hummingbird
import Testing

/// The curl walk-through in README.md runs, in order, against a live server: the docs stay true.
@Suite struct ReadmeTests {
    struct Curl: Sendable {
        var method: HTTPRequest.Method
        var uri: String
        var body: String?
    }

    /// Every `curl` line inside README's code blocks.
    static func curlCommands() throws -> [Curl] {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        var commands: [Curl] = []
        for line in text.split(separator: "\n") where line.hasPrefix("curl ") {
            var method = HTTPRequest.Method.get
            var uri: String? = nil
            var body: String? = nil
            var rest = Substring(line.dropFirst(5))
            while !rest.isEmpty {
                rest = rest.drop(while: { $0 == " " })
                if rest.hasPrefix("-X ") {
                    rest = rest.dropFirst(3)
                    let word = rest.prefix(while: { $0 != " " })
                    method = HTTPRequest.Method(String(word))!
                    rest = rest.dropFirst(word.count)
                } else if rest.hasPrefix("-d '") {
                    rest = rest.dropFirst(4)
                    let payload = rest.prefix(while: { $0 != "'" })
                    body = String(payload)
                    rest = rest.dropFirst(payload.count + 1)
                } else {
                    let quoted = rest.hasPrefix("'")
                    if quoted { rest = rest.dropFirst() }
                    let word = rest.prefix(while: { quoted ? $0 != "'" : $0 != " " })
                    rest = rest.dropFirst(word.count + (quoted ? 1 : 0))
                    if word.hasPrefix("http://127.0.0.1:8080") { uri = String(word.dropFirst("http://127.0.0.1:8080".count)) }
                }
            }
            commands.append(Curl(method: method, uri: try #require(uri, "no URL in \(line)"), body: body))
        }
        return commands
    }

    @Test func theCurlWalkThroughWorks() async throws {
        let commands = try Self.curlCommands()
        #expect(commands.count >= 10)
        try await TestServer.run { http in
            for command in commands {
                let reply = try await http.send(command.method, command.uri, body: command.body)
                #expect((200..<300).contains(reply.status.code), "\(command.method) \(command.uri): \(reply.text)")
                if command.uri == "/v1/query" {
                    #expect(try reply.json["documents"]?.arrayCount == 2, "Alice wrote two messages")
                }
            }
            let room = try await http.send(.get, "/v1/documents/rooms/r1").json["data"]
            #expect(room?["members"] == .integer(4))
            #expect(room?["settings"] == .object(["muted": .bool(false)]))
            #expect(try await http.send(.get, "/v1/documents/rooms/r2").status == .notFound)
        }
    }
}
