@testable import FlintClient
import FlintTestSupport
import Foundation
import Testing

extension ClientIntegrationTests {
    /// The guide's code cannot drift: every ```swift block in sdk-docs/*.md is one of the compiled samples of
    /// DocSamples.swift, verbatim; the getting-started sample runs against a server.
    @Suite struct DocSamplesTests {
        static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized

        /// The samples of DocSamples.swift by name, with the indentation they share removed.
        static func samples() throws -> [String: String] {
            let source = try String(contentsOf: root.appendingPathComponent("Tests/FlintClientTests/DocSamples.swift"), encoding: .utf8)
            var samples: [String: String] = [:]
            var name: String? = nil
            var lines: [Substring] = []
            for line in source.split(separator: "\n", omittingEmptySubsequences: false) {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if trimmed.hasPrefix("// sample: ") {
                    name = String(trimmed.dropFirst("// sample: ".count))
                    lines = []
                } else if trimmed == "// end sample", let current = name {
                    samples[current] = dedent(lines)
                    name = nil
                } else if name != nil {
                    lines.append(line)
                }
            }
            return samples
        }

        static func dedent(_ lines: [Substring]) -> String {
            let indent = lines.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }.map { $0.prefix(while: { $0 == " " }).count }.min() ?? 0
            var text = lines.map { $0.count >= indent ? String($0.dropFirst(indent)) : "" }
            while text.last == "" { text.removeLast() }
            return text.joined(separator: "\n")
        }

        /// The ```swift blocks of a Markdown file.
        static func swiftBlocks(_ markdown: String) -> [String] {
            var blocks: [String] = []
            var current: [Substring]? = nil
            for line in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
                if current == nil, line == "```swift" {
                    current = []
                } else if current != nil, line == "```" {
                    blocks.append(current!.joined(separator: "\n"))
                    current = nil
                } else {
                    current?.append(line)
                }
            }
            return blocks
        }

        @Test func everySwiftBlockOfTheDocsIsACompiledSample() throws {
            let samples = Set(try Self.samples().values)
            let folder = Self.root.appendingPathComponent("sdk-docs")
            var checked = 0
            for file in try FileManager.default.contentsOfDirectory(atPath: folder.path) where file.hasSuffix(".md") {
                let markdown = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
                for block in Self.swiftBlocks(markdown) {
                    checked += 1
                    #expect(samples.contains(block), "a Swift block of sdk-docs/\(file) is not in DocSamples.swift:\n\(block)")
                }
            }
            #expect(checked >= 15)
        }

        @Test func theGettingStartedSampleRuns() async throws {
            try await ClientHarness.run { harness in
                let name = try await DocSamples.gettingStarted(url: harness.url, directory: harness.directory.path + "/sample")
                #expect(name == "\"Lobby\"" || name == "Lobby" || name?.contains("Lobby") == true)
                #expect(try await harness.serverData("rooms/r1")?["name"] == .string("Lobby"))
            }
        }
    }
}
