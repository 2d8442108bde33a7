@testable import FlintClient
import FlintTestSupport
import Foundation
import Testing

extension ClientIntegrationTests {
    /// Queries online and over the cache: every operator, orderings, limits, cursors, collection groups; the cache's
    /// answer equals the server's.
    @Suite struct QueriesTests {
        /// Five documents in `items`: n = 1…5, with tags and a group.
        static func seed(_ harness: ClientHarness) async throws {
            let rows = [
                ("a", #"{"n": 1, "tags": ["x"], "group": "odd", "name": "alpha"}"#),
                ("b", #"{"n": 2, "tags": ["y"], "group": "even", "name": "beta"}"#),
                ("c", #"{"n": 3, "tags": ["x", "y"], "group": "odd", "name": "gamma"}"#),
                ("d", #"{"n": 4, "tags": [], "group": "even", "name": "delta"}"#),
                ("e", #"{"n": 5, "group": "odd", "name": "epsilon"}"#),
            ]
            for (id, body) in rows { try await harness.http.send(.put, "/v1/documents/items/\(id)", body: body) }
            try await harness.http.send(.put, "/v1/documents/rooms/r1/items/z", body: #"{"n": 9, "group": "odd", "name": "zeta"}"#)
        }

        struct Case: Sendable {
            var name: String
            var expected: [String]
            var build: @Sendable (CollectionReference) -> Query
        }

        static func c(_ name: String, _ expected: [String], _ build: @escaping @Sendable (CollectionReference) -> Query) -> Case {
            Case(name: name, expected: expected, build: build)
        }

        static let cases: [Case] = [
            c("==", ["b", "d"]) { $0.whereField("group", isEqualTo: "even") },
            c("!=", ["a", "c", "e"]) { $0.whereField("group", isNotEqualTo: "even") },
            c("<", ["a", "b"]) { $0.whereField("n", isLessThan: 3) },
            c("<=", ["a", "b", "c"]) { $0.whereField("n", isLessThanOrEqualTo: 3) },
            c(">", ["d", "e"]) { $0.whereField("n", isGreaterThan: 3) },
            c(">=", ["c", "d", "e"]) { $0.whereField("n", isGreaterThanOrEqualTo: 3) },
            c("in", ["b", "d"]) { $0.whereField("name", in: ["beta", "delta", "omega"]) },
            c("not-in", ["c", "d", "e"]) { $0.whereField("n", notIn: [1, 2]) },
            c("array-contains", ["a", "c"]) { $0.whereField("tags", arrayContains: "x") },
            c("array-contains-any", ["b", "c"]) { $0.whereField("tags", arrayContainsAny: ["y", "q"]) },
            c("or", ["a", "d"]) { $0.whereFilter(.orFilter([.whereField("n", isEqualTo: 1), .whereField("name", isEqualTo: "delta")])) },
            c("and", ["c", "e"]) { $0.whereField("group", isEqualTo: "odd").whereField("n", isGreaterThan: 1) },
            c("order desc", ["e", "d", "c", "b", "a"]) { $0.order(by: "n", descending: true) },
            c("limit", ["a", "b"]) { $0.order(by: "n").limit(to: 2) },
            c("limitToLast", ["d", "e"]) { $0.order(by: "n").limit(toLast: 2) },
            c("startAfter endAt", ["b", "c"]) { $0.order(by: "n").start(after: [1]).end(at: [3]) },
            c("startAt endBefore", ["b", "d"]) { $0.order(by: "name").start(at: ["beta"]).end(before: ["epsilon"]) },
            c("__name__", ["d", "e"]) { $0.whereField("__name__", isGreaterThan: "c") },
        ]

        /// Every case against one server (one server per case would load the machine for nothing).
        @Test func everyQueryGivesTheSameResultsOnTheServerAndOverTheCache() async throws {
            try await ClientHarness.run { harness in
                try await Self.seed(harness)
                try await withApp(try harness.makeApp()) { app in
                    // Fill the cache with the whole collection, so that the cache can answer every query.
                    _ = try await app.collection("items").getDocuments()
                    for testCase in Self.cases {
                        let query = testCase.build(app.collection("items"))
                        let server = try await query.getDocuments(source: .server)
                        #expect(server.documents.map(\.documentID) == testCase.expected, "\(testCase.name) on the server")
                        #expect(!server.metadata.isFromCache)
                        let cached = try await query.getDocuments(source: .cache)
                        #expect(cached.documents.map(\.documentID) == testCase.expected, "\(testCase.name) over the cache")
                        #expect(cached.metadata.isFromCache)
                    }
                }
            }
        }

        @Test func aCollectionGroupQueryFindsEveryCollectionOfThatName() async throws {
            try await ClientHarness.run { harness in
                try await Self.seed(harness)
                try await withApp(try harness.makeApp()) { app in
                    let results = try await app.collectionGroup("items").whereField("group", isEqualTo: "odd").order(by: "n").getDocuments()
                    #expect(results.documents.map(\.reference.path) == ["items/a", "items/c", "items/e", "rooms/r1/items/z"])
                }
            }
        }

        @Test func cursorsFromSnapshotsPageThroughResults() async throws {
            try await ClientHarness.run { harness in
                try await Self.seed(harness)
                try await withApp(try harness.makeApp()) { app in
                    let first = try await app.collection("items").order(by: "n").limit(to: 2).getDocuments()
                    let last = try #require(first.documents.last)
                    let next = try await app.collection("items").order(by: "n").start(afterDocument: last).limit(to: 2).getDocuments()
                    #expect(next.documents.map(\.documentID) == ["c", "d"])
                }
            }
        }

        @Test func aBadQueryIsReportedWithTheServersMessage() async throws {
            try await ClientHarness.run { harness in
                try await withApp(try harness.makeApp()) { app in
                    do {
                        _ = try await app.collection("items").whereField("n", isLessThan: nil).getDocuments()
                        Issue.record("a range filter on null was accepted")
                    } catch let error as FlintError {
                        #expect(error.code == .invalidArgument)
                        #expect(error.message.contains("null"))
                    }
                }
            }
        }
    }
}
