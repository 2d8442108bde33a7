@testable import FlintClient
import FlintTestSupport
import Foundation
import Testing

extension ClientIntegrationTests {
    /// Files: resumable (tus) uploads with progress, downloads to memory and to a file.
    @Suite struct FilesTests {
        @Test func anUploadReportsProgressAndTheFileDownloadsIntact() async throws {
            try await ClientHarness.run { harness in
                try await withApp(try harness.makeApp()) { app in
                    let bytes = Data((0..<(FileStorage.chunkSize * 2 + 1234)).map { UInt8(truncatingIfNeeded: $0 &* 31) })
                    var progress: [UploadProgress] = []
                    for try await step in app.storage.upload(data: bytes, to: "videos/clip.bin", contentType: "application/octet-stream", customMetadata: ["owner": "ada"]) {
                        progress.append(step)
                    }
                    #expect(progress.map(\.bytesSent) == [0, Int64(FileStorage.chunkSize), Int64(FileStorage.chunkSize * 2), Int64(bytes.count), Int64(bytes.count)])
                    let metadata = try #require(progress.last?.metadata)
                    #expect(metadata.size == Int64(bytes.count))
                    #expect(metadata.customMetadata == ["owner": "ada"])

                    #expect(try await app.storage.data("videos/clip.bin") == bytes)
                    let file = harness.directory.path + "/download.bin"
                    try await app.storage.download("videos/clip.bin", to: URL(fileURLWithPath: file))
                    #expect(FileManager.default.contents(atPath: file) == bytes)
                    try await app.storage.delete("videos/clip.bin")
                    do {
                        _ = try await app.storage.metadata("videos/clip.bin")
                        Issue.record("a deleted file still has metadata")
                    } catch let error as FlintError {
                        #expect(error.code == .notFound)
                    }
                }
            }
        }

        @Test func anUploadCutOffInTheMiddleResumesWhereTheServerStopped() async throws {
            try await ClientHarness.run { harness in
                try await withApp(try harness.makeApp()) { app in
                    let bytes = Data((0..<(FileStorage.chunkSize * 3)).map { UInt8(truncatingIfNeeded: $0 &* 7) })
                    var sent: [Int64] = []
                    for try await step in app.storage.upload(data: bytes, to: "big/file.bin") {
                        sent.append(step.bytesSent)
                        if step.bytesSent == Int64(FileStorage.chunkSize) {
                            // Cut off after the first chunk: the next request is refused; then the network comes back.
                            harness.proxy.cut()
                            let refused = harness.proxy.refusedConnections
                            try await eventually("the upload tried again", until: { harness.proxy.refusedConnections > refused })
                            harness.proxy.restore()
                        }
                    }
                    #expect(sent.last == Int64(bytes.count))
                    #expect(try await app.storage.data("big/file.bin") == bytes)
                }
            }
        }

        @Test func anUploadFromAFileWorks() async throws {
            try await ClientHarness.run { harness in
                try await withApp(try harness.makeApp()) { app in
                    let source = harness.directory.path + "/source.txt"
                    try Data("hello, files".utf8).write(to: URL(fileURLWithPath: source))
                    var last: UploadProgress?
                    for try await step in app.storage.upload(fileAt: URL(fileURLWithPath: source), to: "notes/a b.txt", contentType: "text/plain") {
                        last = step
                    }
                    #expect(last?.metadata?.contentType == "text/plain")
                    #expect(String(decoding: try await app.storage.data("notes/a b.txt"), as: UTF8.self) == "hello, files")
                }
            }
        }
    }
}
