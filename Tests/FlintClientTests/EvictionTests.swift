@testable import FlintClient
import FlintTestSupport
import Foundation
import Testing

extension ClientIntegrationTests {
    /// The cache stays within its configured size, evicting the least recently used documents, never one with pending
    /// writes or one a listener holds.
    @Suite struct EvictionTests {
        @Test func theLeastRecentlyUsedDocumentsGoFirstAndProtectedOnesStay() async throws {
            try await ClientHarness.run { harness in
                let padding = String(repeating: "x", count: 100)
                for i in 0..<40 {
                    try await harness.http.send(.put, "/v1/documents/bulk/\(String(format: "%02d", i))", body: #"{"i": \#(i), "pad": "\#(padding)"}"#)
                }
                try await harness.http.send(.put, "/v1/documents/keep/listened", body: #"{"pad": "\#(padding)"}"#)
                try await harness.http.send(.put, "/v1/documents/keep/pending", body: #"{"pad": "\#(padding)"}"#)
                var settings = testSettings
                settings.cacheSizeBytes = 2500
                try await withApp(try harness.makeApp(settings: settings)) { app in
                    let listened = Collector(app.document("keep/listened").snapshots())
                    try await listened.next("the listened document", where: { $0.exists && !$0.metadata.isFromCache })
                    _ = try await app.document("keep/pending").getDocument()
                    await app.disableNetwork()
                    try await app.batch().updateData(["mine": true], forDocument: app.document("keep/pending")).commit(waitForServer: false)

                    // Read the bulk in two halves: the first half is older, so it goes first.
                    _ = try await app.collection("bulk").whereField("i", isLessThan: 20).getDocuments()
                    _ = try await app.collection("bulk").whereField("i", isGreaterThanOrEqualTo: 20).getDocuments()

                    let store = app.engine.store
                    #expect(try store.size() <= 2500)
                    let paths = try (0..<40).map { try DocumentPath("bulk/\(String(format: "%02d", $0))") }
                    let cached = try store.documents(paths)
                    #expect(!cached.isEmpty)
                    #expect(cached.keys.allSatisfy { Int($0.id)! >= 20 }, "older documents stayed while newer ones went")
                    #expect(cached[paths[39]] != nil, "the most recently read document was evicted")
                    let kept = try store.documents([try DocumentPath("keep/listened"), try DocumentPath("keep/pending")])
                    #expect(kept.count == 2, "a listened or pending document was evicted")
                    let pending = try await app.document("keep/pending").getDocument(source: .cache)
                    #expect(pending["mine"] == true)
                    #expect(pending["pad"] == .string(padding))
                    listened.cancel()
                }
            }
        }
    }
}
