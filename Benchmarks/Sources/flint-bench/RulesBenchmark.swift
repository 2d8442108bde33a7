import ArgumentParser
import FlintCore
import FlintRules
import Foundation

/// `flint-bench rules`: compiles the chat ruleset (`rules/chat/firestore.rules`), then evaluates a typical mix of
/// requests in a loop against an in-memory document source, on one task and on several at once.
struct RulesBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Compile the chat ruleset, then time rules evaluations of a typical request mix on 1 and on N concurrent tasks.")

    @Option(help: "The Firestore rules file to compile; default rules/chat/firestore.rules of this repository.") var rules: String?
    @Option(help: "Timed seconds per run.") var seconds = 5.0
    @Option(help: "Untimed seconds before each run.") var warmup = 1.0
    @Option(help: "Concurrent tasks of the second run (the first run has one).") var tasks = 2
    @Option(help: "Uids in the room's members list; the member who posts is the last one.") var members = 20

    func validate() throws {
        guard seconds > 0, warmup >= 0 else { throw ValidationError("--seconds must be positive and --warmup not negative") }
        guard tasks >= 1, members >= 2 else { throw ValidationError("--tasks must be at least 1 and --members at least 2") }
    }

    /// One request of the mix, with the decision the chat rules must give.
    struct Kind: Sendable {
        var name: String
        var request: RulesRequest
        var allowed: Bool
    }

    func run() async throws {
        // Benchmarks/Sources/flint-bench/RulesBenchmark.swift → the repository's root.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let file = rules ?? root.appendingPathComponent("rules/chat/firestore.rules").path
        let source = try String(contentsOfFile: file, encoding: .utf8)

        print("flint-bench rules: rules=\(file) seconds=\(seconds) warmup=\(warmup) tasks=1 and \(tasks) members=\(members)")
        print("machine: \(machineDescription())")

        var ruleset: Ruleset?
        var compileTimes: [UInt64] = []
        for _ in 0..<20 {
            let t0 = monotonicNanoseconds()
            do {
                ruleset = try Ruleset.compile(source)
            } catch {
                throw ValidationError("\(file) does not compile:\n\(error)")
            }
            compileTimes.append(monotonicNanoseconds() - t0)
        }
        guard let ruleset, ruleset.service == .firestore else { throw ValidationError("\(file) is not a Firestore ruleset") }
        compileTimes.sort()
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false).count
        print("compile: \(lines) lines, \(source.utf8.count) bytes; median of 20 compiles \(fmt(Double(compileTimes[10]) / 1000)) µs")

        let (kinds, documents) = try mix()
        print("")
        print("mix, round-robin, every decision checked (documents: rooms/r1 with \(members) members, rooms/r1/messages/m1):")
        for (i, kind) in kinds.enumerated() {
            let decision = await ruleset.evaluate(kind.request, documents: documents, budget: RulesReadBudget(limit: RulesReadBudget.singleDocumentLimit))
            guard decision.allowed == kind.allowed else {
                throw ValidationError("\(kind.name): expected \(kind.allowed ? "allow" : "deny"), got \(decision.explanation)")
            }
            print("  \(i + 1). \(kind.name) → \(kind.allowed ? "allow" : "deny") (\(decision.explanation))")
        }

        for taskCount in tasks == 1 ? [1] : [1, tasks] {
            _ = await Self.measure(ruleset, kinds, documents, tasks: taskCount, seconds: warmup)
            let cpuBefore = (server: ProcessReading?.none, bench: ProcessReading.cpuSeconds(pid: getpid()), machine: MachineCPU.read(), at: monotonicNanoseconds())
            let run = await Self.measure(ruleset, kinds, documents, tasks: taskCount, seconds: seconds)
            let cpuAfter = (server: ProcessReading?.none, bench: ProcessReading.cpuSeconds(pid: getpid()), machine: MachineCPU.read(), at: monotonicNanoseconds())
            guard run.wrongDecisions == 0 else { throw ValidationError("\(run.wrongDecisions) decisions differed from the expected ones") }

            let all = run.latencies.flatMap { $0 }.sorted()
            print("")
            print("\(taskCount) task\(taskCount == 1 ? "" : "s"): \(all.count) evaluations in \(fmt(run.wall, 2)) s = \(fmt(Double(all.count) / run.wall, 0)) evaluations/s")
            print("  latency per evaluation (µs): p50 \(Self.percentile(all, 50)) p90 \(Self.percentile(all, 90)) p99 \(Self.percentile(all, 99)) max \(fmt(Double(all.last ?? 0) / 1000)) mean \(fmt(Double(all.reduce(0, +)) / Double(max(all.count, 1)) / 1000, 2))")
            for (i, kind) in kinds.enumerated() {
                let samples = run.latencies[i].sorted()
                print("    \(kind.name): p50 \(Self.percentile(samples, 50)) p99 \(Self.percentile(samples, 99))")
            }
            print("  \(CPUUse.between(cpuBefore, cpuAfter).summary)")
        }
    }

    /// The four requests of the mix and the documents they read.
    private func mix() throws -> ([Kind], InMemoryDocumentSource) {
        let time = Timestamp(rfc3339: "2026-11-26T10:00:00Z")!
        let uids = ["alice"] + (1..<(members - 1)).map { "user-\($0)" } + ["bob"]
        let roomPath = try DocumentPath("rooms/r1")
        let messagePath = try DocumentPath("rooms/r1/messages/m1")
        let newMessagePath = try DocumentPath("rooms/r1/messages/m2")
        let room: [String: Value] = ["owner": "alice", "members": .array(uids.map { .string($0) }), "name": "General"]
        let message: [String: Value] = [
            "author": "bob", "text": "hi", "sentAt": .timestamp(Timestamp(rfc3339: "2026-11-26T09:00:00Z")!),
        ]
        let documents = InMemoryDocumentSource(before: [roomPath: room, messagePath: message])
        let bob = RulesAuth(uid: "bob", token: ["email": "bob@example.com"])
        let alice = RulesAuth(uid: "alice", token: ["email": "alice@example.com"])
        func post(_ text: String) -> RulesRequest {
            RulesRequest(
                method: .create, path: newMessagePath.segments, auth: bob, time: time,
                requestResource: .document(path: newMessagePath, data: ["author": "bob", "text": .string(text), "sentAt": .timestamp(time)]))
        }
        let kinds = [
            Kind(name: "message create, valid (get() of the room)", request: post("hello, room"), allowed: true),
            Kind(name: "message create, 1001-character text", request: post(String(repeating: "x", count: 1001)), allowed: false),
            Kind(
                name: "room get by a member (resource.data.members)",
                request: RulesRequest(method: .get, path: roomPath.segments, auth: bob, time: time, resource: .document(path: roomPath, data: room)),
                allowed: true),
            Kind(
                name: "message delete by the room owner (get() of the room)",
                request: RulesRequest(method: .delete, path: messagePath.segments, auth: alice, time: time, resource: .document(path: messagePath, data: message)),
                allowed: true),
        ]
        return (kinds, documents)
    }

    /// What one timed run saw: latencies in nanoseconds per kind, wall time, decisions that were not the expected ones.
    struct Run {
        var latencies: [[UInt64]]
        var wall: Double
        var wrongDecisions: Int
    }

    /// Evaluates the kinds round-robin on `tasks` concurrent tasks until `seconds` have passed, a fresh read budget
    /// per evaluation (as the server makes one per request).
    static func measure(_ ruleset: Ruleset, _ kinds: [Kind], _ documents: InMemoryDocumentSource, tasks: Int, seconds: Double) async -> Run {
        let start = monotonicNanoseconds()
        let deadline = start + UInt64(seconds * 1e9)
        let results = await withTaskGroup(of: ([[UInt64]], Int).self) { group in
            for task in 0..<tasks {
                group.addTask {
                    var latencies = [[UInt64]](repeating: [], count: kinds.count)
                    for i in latencies.indices { latencies[i].reserveCapacity(1 << 20) }
                    var wrong = 0
                    var i = task  // the tasks start at different kinds
                    while true {
                        let k = i % kinds.count
                        let t0 = monotonicNanoseconds()
                        let decision = await ruleset.evaluate(
                            kinds[k].request, documents: documents, budget: RulesReadBudget(limit: RulesReadBudget.singleDocumentLimit))
                        let t1 = monotonicNanoseconds()
                        latencies[k].append(t1 - t0)
                        if decision.allowed != kinds[k].allowed { wrong += 1 }
                        i += 1
                        if t1 >= deadline { break }
                    }
                    return (latencies, wrong)
                }
            }
            var all: [([[UInt64]], Int)] = []
            for await result in group { all.append(result) }
            return all
        }
        let wall = Double(monotonicNanoseconds() - start) / 1e9
        var latencies = [[UInt64]](repeating: [], count: kinds.count)
        for (taskLatencies, _) in results {
            for k in kinds.indices { latencies[k] += taskLatencies[k] }
        }
        return Run(latencies: latencies, wall: wall, wrongDecisions: results.reduce(0) { $0 + $1.1 })
    }

    /// The nearest-rank percentile of sorted nanosecond samples, in µs with two decimals.
    static func percentile(_ sorted: [UInt64], _ p: Double) -> String {
        guard !sorted.isEmpty else { return "-" }
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return fmt(Double(sorted[min(max(rank, 1), sorted.count) - 1]) / 1000, 2)
    }
}
