import FlintCore
import Testing

@testable import FlintRules

@Suite struct ReadBudgetTests {
    /// A rule that reads documents d0 ... d(n-1) (each must exist) and grants when all exist.
    func rules(reading count: Int, repeatEach: Int = 1) throws -> Ruleset {
        let reads = (0..<count).flatMap { i in
            Array(repeating: "exists(/databases/$(database)/documents/docs/d\(i))", count: repeatEach)
        }
        return try compile(firestore("match /things/{id} { allow get: if \(reads.joined(separator: " && ")); }"))
    }

    var existing: [String: [String: Value]] {
        Dictionary(uniqueKeysWithValues: (0..<12).map { ("docs/d\($0)", ["n": Value.integer(Int64($0))]) })
    }

    @Test func tenDistinctReadsAreAllowed() async throws {
        let budget = RulesReadBudget(limit: 10)
        #expect(try await rules(reading: 10).decide(.get, "things/t", existing: existing, budget: budget).allowed)
        #expect(budget.readCount == 10)
    }

    @Test func elevenDistinctReadsDeny() async throws {
        let decision = try await rules(reading: 11).decide(.get, "things/t", existing: existing)
        #expect(!decision.allowed)
        #expect(decision.explanation.contains("more than 10 documents"))
    }

    @Test func theSamePathReadAgainCountsOnce() async throws {
        let budget = RulesReadBudget(limit: 10)
        #expect(try await rules(reading: 10, repeatEach: 2).decide(.get, "things/t", existing: existing, budget: budget).allowed)
        #expect(budget.readCount == 10)
    }

    @Test func getAndGetAfterOfOnePathCountOnce() async throws {
        let rules = try compile(firestore("""
            match /things/{id} {
              allow update: if get(/databases/$(database)/documents/docs/d0).data.n == 0
                && getAfter(/databases/$(database)/documents/docs/d0).data.n == 0
                && existsAfter(/databases/$(database)/documents/things/$(id));
            }
            """))
        let budget = RulesReadBudget(limit: 2)
        #expect(await rules.decide(.update, "things/t", existing: existing, writing: ["x": 1], budget: budget).allowed)
        #expect(budget.readCount == 2)
    }

    @Test func aBudgetIsSharedByTheWritesOfABatch() async throws {
        let rules = try rules(reading: 10)
        let budget = RulesReadBudget(limit: RulesReadBudget.batchLimit)
        #expect(await rules.decide(.get, "things/a", existing: existing, budget: budget).allowed)
        #expect(await rules.decide(.get, "things/b", existing: existing, budget: budget).allowed)
        #expect(budget.readCount == 10)
        let more = try compile(firestore("match /things/{id} { allow get: if " + (0..<12).map { "exists(/databases/$(database)/documents/more/m\($0)) == false" }.joined(separator: " && ") + "; }"))
        let decision = await more.decide(.get, "things/c", existing: existing, budget: budget)
        #expect(!decision.allowed)
        #expect(budget.readCount == 20)
    }

    @Test func aFailingSourceDeniesWithoutCrashing() async throws {
        let rules = try rules(reading: 1)
        let request = RulesRequest(method: .get, path: ["things", "t"])
        let decision = await rules.evaluate(request, documents: FailingDocuments(), budget: RulesReadBudget(limit: 10))
        #expect(!decision.allowed)
        #expect(decision.explanation.contains("reading /databases/(default)/documents/docs/d0 failed"))
    }
}
