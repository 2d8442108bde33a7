@testable import FlintClient
import FlintTestSupport
import Foundation
import Testing

extension ClientIntegrationTests {
    /// Transactions (optimistic, retried on conflict) and batches (atomic).
    @Suite struct TransactionTests {
        @Test func concurrentTransactionsFromTwoAppsLoseNoIncrement() async throws {
            try await ClientHarness.run { harness in
                try await harness.http.send(.put, "/v1/documents/counters/c", body: #"{"n": 0}"#)
                let apps = [try harness.makeApp(), try harness.makeApp()]
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for app in apps {
                        group.addTask {
                            for _ in 0..<5 {
                                // Two apps race for one document: allow more attempts than the default, so that the
                                // test checks that no increment is lost, not how lucky the scheduling was.
                                try await app.runTransaction(maxAttempts: 50) { transaction in
                                    let counter = app.document("counters/c")
                                    let snapshot = try await transaction.getDocument(counter)
                                    guard case .integer(let n)? = snapshot["n"] else { throw TestFailure("no counter") }
                                    transaction.updateData(["n": .value(.integer(n + 1))], forDocument: counter)
                                }
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                for app in apps { await app.close() }
                #expect(try await harness.serverData("counters/c") == .object(["n": .integer(10)]))
            }
        }

        @Test func aTransactionCreatesADocumentOnlyIfItIsStillMissing() async throws {
            try await ClientHarness.run { harness in
                try await withApp(try harness.makeApp()) { app in
                    let name = app.document("names/ada")
                    let claimed = try await app.runTransaction { transaction -> Bool in
                        guard try await !transaction.getDocument(name).exists else { return false }
                        transaction.setData(["owner": "u1"], forDocument: name)
                        return true
                    }
                    #expect(claimed)
                    let again = try await app.runTransaction { transaction -> Bool in
                        guard try await !transaction.getDocument(name).exists else { return false }
                        transaction.setData(["owner": "u2"], forDocument: name)
                        return true
                    }
                    #expect(!again)
                    #expect(try await harness.serverData("names/ada") == .object(["owner": .string("u1")]))
                }
            }
        }

        @Test func readsAfterWritesAreRefused() async throws {
            try await ClientHarness.run { harness in
                try await withApp(try harness.makeApp()) { app in
                    do {
                        try await app.runTransaction { transaction in
                            transaction.setData(["a": 1], forDocument: app.document("x/1"))
                            _ = try await transaction.getDocument(app.document("x/2"))
                        }
                        Issue.record("a read after a write was accepted")
                    } catch let error as FlintError {
                        #expect(error.code == .invalidArgument)
                    }
                }
            }
        }

        @Test func aBatchAppliesAllOrNothing() async throws {
            try await ClientHarness.run { harness in
                try await withApp(try harness.makeApp()) { app in
                    try await app.batch()
                        .setData(["name": "Lobby"], forDocument: app.document("rooms/r1"))
                        .setData(["rooms": 1], forDocument: app.document("stats/all"))
                        .commit()
                    #expect(try await harness.serverData("stats/all") == .object(["rooms": .integer(1)]))
                    do {
                        try await app.batch()
                            .updateData(["rooms": .increment(1)], forDocument: app.document("stats/all"))
                            .updateData(["name": "Den"], forDocument: app.document("rooms/missing"))
                            .commit()
                        Issue.record("a batch with a failing write was applied")
                    } catch let error as FlintError {
                        #expect(error.code == .notFound)
                    }
                    #expect(try await harness.serverData("stats/all") == .object(["rooms": .integer(1)]))
                    // The refused batch is gone from the cache's view too.
                    #expect(try await app.document("stats/all").getDocument(source: .cache)["rooms"] == 1)
                }
            }
        }
    }
}
