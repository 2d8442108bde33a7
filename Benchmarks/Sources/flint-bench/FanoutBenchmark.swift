import ArgumentParser
import FlintCore
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import HummingbirdWSClient

/// `flint-bench fanout`: realtime fan-out. S WebSocket subscribers each listen to a query over one collection; a
/// writer then PUTs W documents per second into it over HTTP, each body carrying the send time on the process's
/// monotonic clock. Every subscriber timestamps every `changes` message it gets, so the benchmark reports deliveries per
/// second, send-to-delivery latency (which includes the durable commit) and commit-to-delivery latency (from the
/// server's `commitTime`), and checks that each subscriber saw every commit exactly once, in order.
struct FanoutBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fanout",
        abstract: "Realtime fan-out: S WebSocket subscribers on one collection's query, W HTTP writes/s into it.")

    @Option(help: "The server's base URL; loopback only.") var url = "http://127.0.0.1:8080"
    @Option(help: "Where the writes go, when not to --url: another server on the same database (realtime across servers).")
    var writeURL: String?
    @Option(help: "WebSocket subscribers, each with one query listener.") var subscribers = 1000
    @Option(help: "Writes per second (open loop: each write is due at start + i/W).") var writesPerSecond = 200
    @Option(help: "Seconds of writing.") var seconds = 10.0
    @Option(help: "Keep-alive HTTP connections the writes are spread over (one request in flight on each).")
    var writers = 16
    @Option(help: "The collection the subscribers listen to and the writer writes.") var collection = "fanout"
    @Option(help: "0: every write creates a new document d<i> (each listener's result set grows); N: writes cycle over d0..d<N-1> (added, then modified).")
    var documents = 0
    @Option(help: "Documents written into the collection (p<i>, by POST /v1/commit) before the subscribers connect: each listener then holds that many documents.")
    var preload = 0
    @Option(help: "The server's process id, to report its CPU time and memory (optional).") var pid: Int32?
    @Option(help: "Event-loop threads for the subscribers' sockets.") var threads = 2
    @Option(help: "WebSocket connections being opened at once.") var connectConcurrency = 64
    @Option(help: "Seconds to wait, after the last write, for every delivery.") var drainTimeout = 30.0
    @Option(help: "Seconds to wait for all subscribers to be connected and hold their snapshot.") var connectTimeout = 120.0

    func validate() throws {
        _ = try loopbackTarget(url)
        guard (1...50_000).contains(subscribers) else { throw ValidationError("--subscribers must be 1...50000") }
        guard (1...100_000).contains(writesPerSecond) else { throw ValidationError("--writes-per-second must be 1...100000") }
        guard seconds > 0, seconds <= 300 else { throw ValidationError("--seconds must be in (0, 300]") }
        guard (1...1000).contains(writers) else { throw ValidationError("--writers must be 1...1000") }
        guard documents >= 0, preload >= 0, preload <= 1_000_000, threads > 0, connectConcurrency > 0 else { throw ValidationError("counts must be positive") }
        guard drainTimeout > 0, drainTimeout <= 600, connectTimeout > 0, connectTimeout <= 600 else {
            throw ValidationError("timeouts must be in (0, 600]")
        }
    }

    func run() async throws {
        lineBufferedOutput()
        let (host, port) = try loopbackTarget(url)
        let (writeHost, writePort) = try loopbackTarget(writeURL ?? url)
        let limit = raiseOpenFileLimit()
        let totalWrites = Int((Double(writesPerSecond) * seconds).rounded())
        print("flint-bench fanout: url=\(url)\(writeURL.map { " write-url=\($0)" } ?? "") subscribers=\(subscribers) writes-per-second=\(writesPerSecond) seconds=\(seconds) writers=\(writers) collection=\(collection) documents=\(documents == 0 ? "new per write" : String(documents)) preload=\(preload) threads=\(threads)")
        print("machine: \(machineDescription()); open-file limit \(limit.soft); load generator and server share the machine")
        let query = #"{"collection":"\#(collection)"}"#
        print("each subscriber: {\"type\":\"listen\",\"targetId\":1,\"query\":\(query)}; writer: PUT /v1/documents/\(collection)/d<i> {\"t\":<send ns>,\"i\":<i>}")

        // 0. Documents the listeners will hold from their snapshot on.
        if preload > 0 {
            var index = 0
            while index < preload {
                let count = min(500, preload - index)
                let writes = (index..<(index + count)).map { #"{"op":"set","path":"\#(collection)/p\#($0)","data":{"n":\#($0)}}"# }
                let status = try httpRequest(host: host, port: port, method: "POST", path: "/v1/commit", body: #"{"writes":[\#(writes.joined(separator: ","))]}"#)
                guard status == 200 else { throw ValidationError("preloading: POST /v1/commit answered \(status)") }
                index += count
            }
            print("preloaded \(preload) documents into \(collection)")
        }

        // 1. Subscribers.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let hub = SubscriberSet()
        let listen = #"{"type":"listen","targetId":1,"query":\#(query)}"#
        let connectStarted = monotonicNanoseconds()
        let launcher = Task {
            await hub.open(
                count: subscribers, concurrency: connectConcurrency, url: "ws://\(host):\(port)/v1/realtime", group: group
            ) { _ in listen }
        }
        let allReady = await hub.ready.wait(timeout: .seconds(connectTimeout)) { [subscribers] in $0 + hub.failed.current >= subscribers }
        await launcher.value
        let connectSeconds = Double(monotonicNanoseconds() - connectStarted) / 1e9
        print("")
        print("subscribers: \(hub.ready.current) of \(subscribers) hold their snapshot after \(fmt(connectSeconds, 2)) s (\(hub.failed.current) failed)")
        if let failure = hub.firstFailure { print("first failure: \(failure)") }
        guard allReady, hub.ready.current == subscribers else {
            await hub.closeAll(group: group, timeout: 10)
            throw ValidationError("not every subscriber got its snapshot; nothing was written")
        }
        let snapshotSequences = hub.subscribers.map(\.stats.snapshotSequence)
        let pidReading = pid.flatMap { ProcessReading.read(pid: $0) }
        if let pidReading {
            print("server before writing: RSS \(megabytes(pidReading.rss)), \(pidReading.openFiles) open files, \(pidReading.threads) threads")
        }

        // 2. Writes, paced; subscribers count as they go.
        let writerGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let startReading = (server: pid.flatMap { ProcessReading.read(pid: $0) }, bench: ProcessReading.cpuSeconds(pid: getpid()), machine: MachineCPU.read(), at: monotonicNanoseconds())
        let plan = WritePlan(
            start: NIODeadline.now() + .milliseconds(50), intervalNanoseconds: Int64(1e9 / Double(writesPerSecond)),
            total: totalWrites, writers: writers, host: "\(writeHost):\(writePort)", collection: collection, documents: documents)
        hub.windowStart.withLock { $0 = plan.start.uptimeNanoseconds }
        let writeResults = try await runWriter(plan: plan, host: writeHost, port: writePort, group: writerGroup)
        let writesDone = monotonicNanoseconds()
        let committed = writeResults.flatMap(\.versions).sorted()
        let expected = committed.count * subscribers
        let drained = await hub.deliveries.wait(timeout: .seconds(drainTimeout), every: .milliseconds(5)) { $0 >= expected }
        let drainDone = monotonicNanoseconds()
        let endReading = (server: pid.flatMap { ProcessReading.read(pid: $0) }, bench: ProcessReading.cpuSeconds(pid: getpid()), machine: MachineCPU.read(), at: drainDone)
        try await writerGroup.shutdownGracefully()

        // 3. Close and collect.
        await hub.closeAll(group: group, timeout: 15)
        try? await group.shutdownGracefully()

        report(
            plan: plan, writes: writeResults, committed: committed, snapshotSequences: snapshotSequences, hub: hub,
            writesDone: writesDone, drainDone: drainDone, drained: drained,
            cpu: CPUUse.between(startReading, endReading), server: (pidReading, endReading.server))
    }

    // MARK: Writer

    private func runWriter(plan: WritePlan, host: String, port: Int, group: MultiThreadedEventLoopGroup) async throws -> [WriterResult] {
        var futures: [EventLoopFuture<WriterResult>] = []
        for writer in 0..<plan.writers {
            let loop = group.next()
            let done = loop.makePromise(of: WriterResult.self)
            let bootstrap = ClientBootstrap(group: loop)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connectTimeout(.seconds(5))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(PacedWriteHandler(writer: writer, plan: plan, done: done))
                    }
                }
            _ = try await bootstrap.connect(host: host, port: port).get()
            futures.append(done.futureResult)
        }
        var results: [WriterResult] = []
        for future in futures { results.append(try await future.get()) }
        return results
    }

    // MARK: Report

    private func report(
        plan: WritePlan, writes: [WriterResult], committed: [Int64], snapshotSequences: [Int64], hub: SubscriberSet,
        writesDone: UInt64, drainDone: UInt64, drained: Bool, cpu: CPUUse, server: (before: ProcessReading?, after: ProcessReading?)
    ) {
        let start = plan.start.uptimeNanoseconds
        let writeSeconds = Double(writesDone - start) / 1e9
        var writeLatency = Samples()
        var lateness = Samples()
        var statuses: [UInt: Int] = [:]
        var errors = 0, skipped = 0, unanswered = 0
        for result in writes {
            skipped += result.skipped
            unanswered += result.unanswered
            writeLatency.append(contentsOf: result.latencies)
            lateness.append(contentsOf: result.lateness)
            statuses.merge(result.statuses, uniquingKeysWith: +)
            errors += result.errors
        }
        print("")
        print("writes: \(committed.count) committed of \(plan.total) planned in \(fmt(writeSeconds, 2)) s = \(fmt(Double(committed.count) / writeSeconds, 0)) writes/s (target \(writesPerSecond)); statuses " + statuses.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "; transport errors \(errors)"
            + (skipped > 0 ? "; \(skipped) writes not sent (the writer stops 1 s after the planned end; the server was behind)" : "")
            + (unanswered > 0 ? "; \(unanswered) sent but unanswered" : ""))
        print("write latency (ms): p50 \(fmt(writeLatency.percentile(50) / 1000, 2)) p99 \(fmt(writeLatency.percentile(99) / 1000, 2)) max \(fmt(writeLatency.max / 1000, 2)); sends behind schedule: p50 \(fmt(lateness.percentile(50) / 1000, 2)) ms, max \(fmt(lateness.max / 1000, 2)) ms")

        // Per subscriber: every committed sequence after its snapshot, exactly once, in order.
        var sendLatency: [UInt32] = []
        var commitLatency: [UInt32] = []
        var perSecondLatency: [Int: [UInt32]] = [:]
        var deliveries = 0
        var inWindow = 0
        var lastDelivery: UInt64 = 0
        var perSecondDeliveries: [Int: Int] = [:]
        var missing = 0, duplicated = 0, outOfOrder = 0, unexpected = 0, errorsSeen = 0
        var subscribersWithProblems = 0
        var closeCodes: [String: Int] = [:]
        for (index, subscriber) in hub.subscribers.enumerated() {
            let stats = subscriber.stats
            deliveries += stats.deliveries
            inWindow += stats.deliveriesBefore(writesDone)
            lastDelivery = max(lastDelivery, stats.lastDeliveryAt)
            commitLatency.append(contentsOf: stats.commitLatencies)
            for (sample, second) in zip(stats.sendLatencies, stats.sendSeconds) {
                sendLatency.append(sample)
                perSecondLatency[Int(second), default: []].append(sample)
            }
            for (second, count) in stats.perSecond.enumerated() where count > 0 { perSecondDeliveries[second, default: 0] += count }
            errorsSeen += stats.errorMessages
            if let code = stats.closeCode { closeCodes[code, default: 0] += 1 }
            let check = Self.check(received: stats.sequences, committed: committed, after: snapshotSequences[index])
            missing += check.missing
            duplicated += check.duplicated
            outOfOrder += stats.outOfOrder
            unexpected += check.unexpected
            if check.missing + check.duplicated + stats.outOfOrder > 0 || check.unexpected > unanswered { subscribersWithProblems += 1 }
        }
        sendLatency.sort()
        commitLatency.sort()
        let expected = committed.count * subscribers
        let allSeconds = Double(max(lastDelivery, start) - start) / 1e9
        print("")
        print("deliveries: \(deliveries) of \(expected) expected (\(subscribers) subscribers x \(committed.count) commits)\(drained ? "" : " — NOT all delivered within \(fmt(drainTimeout, 0)) s after the last write")")
        print("deliveries/s while writing: \(fmt(Double(inWindow) / writeSeconds, 0)) (\(inWindow) in \(fmt(writeSeconds, 2)) s); overall: \(fmt(Double(deliveries) / allSeconds, 0)) (first write to last delivery \(fmt(allSeconds, 2)) s; the last delivery came \(fmt(abs(Double(Int64(lastDelivery) - Int64(writesDone))) / 1e6, 1)) ms \(lastDelivery >= writesDone ? "after" : "before") the last write's answer)")
        print("send-to-delivery latency (ms; the client's PUT, the durable commit, fan-out, the socket, the subscriber's task): p50 \(p(sendLatency, 50)) p90 \(p(sendLatency, 90)) p99 \(p(sendLatency, 99)) p99.9 \(p(sendLatency, 99.9)) max \(p(sendLatency, 100))")
        print("commit-to-delivery latency (ms; server commitTime to receipt, wall clocks of one machine): p50 \(p(commitLatency, 50)) p90 \(p(commitLatency, 90)) p99 \(p(commitLatency, 99)) p99.9 \(p(commitLatency, 99.9)) max \(p(commitLatency, 100))")
        print("ordering: \(missing) missed, \(duplicated) duplicated, \(outOfOrder) out of order, \(unexpected) unexpected sequences (commits whose HTTP answer did not arrive: \(unanswered) per subscriber at most); \(subscribersWithProblems) of \(subscribers) subscribers with a problem; \(errorsSeen) error messages" + (closeCodes.isEmpty ? "" : "; closed by the server: " + closeCodes.map { "\($0.key) x\($0.value)" }.joined(separator: ", ")))
        print(cpu.summary)
        if let before = server.before, let after = server.after {
            print("server memory: RSS \(megabytes(before.rss)) before writing, \(megabytes(after.rss)) after (RssAnon \(megabytes(before.rssAnon)) -> \(megabytes(after.rssAnon)))")
        }
        print("")
        print("per second of the run (by when the write was sent): deliveries received in that second; send-to-delivery p50/p99 ms of the writes sent in it")
        let lastSecond = max(perSecondDeliveries.keys.max() ?? 0, perSecondLatency.keys.max() ?? 0)
        for second in 0...lastSecond {
            var samples = perSecondLatency[second] ?? []
            samples.sort()
            print("  s\(second): \(perSecondDeliveries[second] ?? 0) deliveries; latency p50 \(p(samples, 50)) p99 \(p(samples, 99)) (\(samples.count) samples)")
        }
        print("")
        let targetRate = 200_000.0
        print("target 200k deliveries/s at 1,000 subscribers: \(Double(inWindow) / writeSeconds >= targetRate ? "met" : "not met") (\(fmt(Double(inWindow) / writeSeconds, 0))/s while writing, \(subscribers) subscribers)")
        let p99 = Double(sendLatency.isEmpty ? 0 : sendLatency[min(sendLatency.count - 1, Int((0.99 * Double(sendLatency.count)).rounded(.up)) - 1)]) / 1000
        let p99Commit = Double(commitLatency.isEmpty ? 0 : commitLatency[min(commitLatency.count - 1, Int((0.99 * Double(commitLatency.count)).rounded(.up)) - 1)]) / 1000
        print("target p99 commit-to-delivery < 50 ms: \(p99Commit < 50 && drained ? "met" : "not met") (commit-to-delivery p99 \(fmt(p99Commit, 2)) ms; send-to-delivery p99 \(fmt(p99, 2)) ms)")
    }

    /// Nearest-rank percentile of sorted microsecond samples, in milliseconds.
    private func p(_ sorted: [UInt32], _ percentile: Double) -> String {
        guard !sorted.isEmpty else { return "-" }
        let rank = Int((percentile / 100 * Double(sorted.count)).rounded(.up))
        return fmt(Double(sorted[min(max(rank, 1), sorted.count) - 1]) / 1000, 2)
    }

    /// Compares what a subscriber received with what was committed after its snapshot.
    static func check(received: [Int64], committed: [Int64], after snapshot: Int64) -> (missing: Int, duplicated: Int, unexpected: Int) {
        let due = committed.filter { $0 > snapshot }
        let got = received.sorted()
        var missing = 0, duplicated = 0, unexpected = 0
        var i = 0, j = 0
        while i < due.count || j < got.count {
            if j < got.count, j > 0, got[j] == got[j - 1] { duplicated += 1; j += 1; continue }
            if i < due.count, j < got.count, due[i] == got[j] { i += 1; j += 1 }
            else if j >= got.count || (i < due.count && due[i] < got[j]) { missing += 1; i += 1 }
            else { unexpected += 1; j += 1 }
        }
        return (missing, duplicated, unexpected)
    }
}

// MARK: Subscribers

/// What one subscriber saw. Written only by its own reader task; read once that task has finished.
final class SubscriberStats: @unchecked Sendable {
    var snapshotSequence: Int64 = -1
    var lastSequence: Int64 = -1
    var sequences: [Int64] = []
    var outOfOrder = 0
    /// Send-to-delivery, microseconds, with the second of the run the write was sent in.
    var sendLatencies: [UInt32] = []
    var sendSeconds: [UInt16] = []
    /// Server commitTime to delivery, microseconds.
    var commitLatencies: [UInt32] = []
    var deliveries = 0
    /// Deliveries per second of the run (by receipt).
    var perSecond: [Int] = []
    var deliveryTimes: [UInt64] = []
    var lastDeliveryAt: UInt64 = 0
    var errorMessages = 0
    var firstError: String? = nil
    var closeCode: String? = nil

    func deliveriesBefore(_ instant: UInt64) -> Int {
        // deliveryTimes is in receipt order, hence sorted.
        var low = 0, high = deliveryTimes.count
        while low < high {
            let mid = (low + high) / 2
            if deliveryTimes[mid] <= instant { low = mid + 1 } else { high = mid }
        }
        return low
    }
}

/// One WebSocket subscriber: its statistics and, while connected, its outbound side (to close it).
final class Subscriber: Sendable {
    let index: Int
    let stats = SubscriberStats()
    let outbound = Mutex<WebSocketOutboundWriter?>(nil)
    init(index: Int) { self.index = index }
}

/// The subscribers of a run, opened with bounded concurrency, and the counters the orchestration watches.
final class SubscriberSet: Sendable {
    private let list = Mutex<[Subscriber]>([])
    private let tasks = Mutex<[Task<Void, Never>]>([])
    let ready = Counter()
    let failed = Counter()
    let finished = Counter()
    let deliveries = Counter()
    private let failure = Mutex<String?>(nil)
    /// When the writes start (monotonic ns); deliveries are bucketed by second from it.
    let windowStart = Mutex<UInt64>(0)

    var subscribers: [Subscriber] { list.withLock { $0 } }
    var firstFailure: String? { failure.withLock { $0 } }

    /// Opens `count` connections, at most `concurrency` being set up at once; each sends `listen(index)` and reads
    /// until the server or `closeAll` ends the connection.
    func open(
        count: Int, concurrency: Int, url: String, group: MultiThreadedEventLoopGroup, listen: @escaping @Sendable (Int) -> String?
    ) async {
        var logger = Logger(label: "flint-bench-ws")
        logger.logLevel = .critical
        let configuration = WebSocketClientConfiguration(maxFrameSize: 16 << 20, closeTimeout: .seconds(5))
        for index in 0..<count {
            // Bounded set-up: wait while too many connections are still between connect and snapshot.
            while index - ready.current - failed.current >= concurrency {
                try? await Task.sleep(for: .milliseconds(1))
            }
            let subscriber = Subscriber(index: index)
            list.withLock { $0.append(subscriber) }
            let task = Task {
                do {
                    let close = try await WebSocketClient.connect(
                        url: url, configuration: configuration, eventLoopGroup: group, logger: logger
                    ) { inbound, outbound, _ in
                        subscriber.outbound.withLock { $0 = outbound }
                        if let text = listen(index) { try await outbound.write(.text(text)) }
                        try await self.read(inbound, into: subscriber.stats, listening: listen(index) != nil)
                    }
                    if let close { subscriber.stats.closeCode = "\(close.closeCode)" }
                } catch {
                    if subscriber.stats.snapshotSequence < 0 {
                        self.failed.add()
                        self.failure.withLock { if $0 == nil { $0 = "subscriber \(index): \(error)" } }
                    } else {
                        subscriber.stats.closeCode = "error: \(error)"
                    }
                }
                subscriber.outbound.withLock { $0 = nil }
                self.finished.add()
            }
            tasks.withLock { $0.append(task) }
        }
    }

    /// Reads one connection's messages until it ends.
    private func read(_ inbound: WebSocketInboundStream, into stats: SubscriberStats, listening: Bool) async throws {
        var assembler = FrameAssembler()
        var iterator = inbound.makeAsyncIterator()
        let start = windowStart.withLock { $0 }
        var windowStart = start
        while let frame = try await iterator.next() {
            guard let message = assembler.add(frame) else { continue }
            let now = monotonicNanoseconds()
            if windowStart == 0 { windowStart = self.windowStart.withLock { $0 } }
            message.withUnsafeReadableBytes { bytes in
                handle(bytes, at: now, windowStart: windowStart, stats: stats, listening: listening)
            }
        }
    }

    private func handle(_ bytes: UnsafeRawBufferPointer, at now: UInt64, windowStart: UInt64, stats: SubscriberStats, listening: Bool) {
        guard let typeAt = Scan.find(Scan.type, in: bytes) else { return }
        let typeStart = typeAt + Scan.type.count
        let first = typeStart < bytes.count ? bytes[typeStart] : 0
        switch first {
        case UInt8(ascii: "c") where bytes.count > typeStart + 2 && bytes[typeStart + 2] == UInt8(ascii: "a"):  // "changes"
            guard let (sequence, afterSequence) = Scan.integer(after: Scan.sequence, in: bytes, from: typeStart) else { return }
            if sequence <= stats.lastSequence { stats.outOfOrder += 1 }
            stats.lastSequence = max(stats.lastSequence, sequence)
            stats.sequences.append(sequence)
            if let time = Scan.string(after: Scan.commitTime, in: bytes, from: afterSequence),
                let commitTime = Timestamp(rfc3339: time)
            {
                stats.commitLatencies.append(UInt32(clamping: wallMicroseconds() - commitTime.microseconds))
            }
            // Each change entry starts with {"type":" after "targets":[ ; each document carries the send time.
            var changes = 0
            var position = Scan.find(Scan.targets, in: bytes, from: afterSequence) ?? afterSequence
            while let at = Scan.find(Scan.changeStart, in: bytes, from: position) {
                changes += 1
                position = at + Scan.changeStart.count
            }
            position = afterSequence
            while let (sent, end) = Scan.integer(after: Scan.sentField, in: bytes, from: position) {
                let latency = now >= UInt64(sent) ? (now - UInt64(sent)) / 1000 : 0
                stats.sendLatencies.append(UInt32(clamping: latency))
                stats.sendSeconds.append(UInt16(clamping: windowStart > 0 && UInt64(sent) > windowStart ? (UInt64(sent) - windowStart) / 1_000_000_000 : 0))
                position = end
            }
            stats.deliveries += changes
            stats.deliveryTimes.append(now)
            stats.lastDeliveryAt = now
            if windowStart > 0, now > windowStart {
                let second = Int((now - windowStart) / 1_000_000_000)
                if stats.perSecond.count <= second { stats.perSecond += Array(repeating: 0, count: second + 1 - stats.perSecond.count) }
                stats.perSecond[second] += changes
            }
            deliveries.add(changes)
        case UInt8(ascii: "s"):  // "snapshot"
            guard stats.snapshotSequence < 0 else { return }
            stats.snapshotSequence = Scan.integer(after: Scan.sequence, in: bytes, from: typeStart)?.value ?? 0
            stats.lastSequence = stats.snapshotSequence
            ready.add()
        case UInt8(ascii: "h"):  // "hello"
            if !listening, stats.snapshotSequence < 0 {
                stats.snapshotSequence = Scan.integer(after: Scan.sequence, in: bytes)?.value ?? 0
                ready.add()
            }
        case UInt8(ascii: "e"):  // "error"
            stats.errorMessages += 1
            if stats.firstError == nil {
                stats.firstError = String(decoding: bytes.prefix(300), as: UTF8.self)
                failure.withLock { if $0 == nil { $0 = "server error message: \(stats.firstError!)" } }
            }
        default:
            break
        }
    }

    /// Closes every connection (a normal close from the client), then waits for their tasks, at most `timeout` s.
    func closeAll(group: MultiThreadedEventLoopGroup, timeout: Double) async {
        let all = subscribers
        await withTaskGroup(of: Void.self) { tasks in
            for chunk in stride(from: 0, to: all.count, by: 256) {
                tasks.addTask {
                    for subscriber in all[chunk..<min(chunk + 256, all.count)] {
                        guard let outbound = subscriber.outbound.withLock({ $0 }) else { continue }
                        try? await outbound.close(.normalClosure, reason: nil)
                    }
                }
            }
        }
        let launched = tasks.withLock { $0.count }
        if !(await finished.wait(timeout: .seconds(timeout), every: .milliseconds(20)) { $0 >= launched }) {
            print("warning: \(launched - finished.current) connections had not ended \(fmt(timeout, 0)) s after the close; cancelling them")
            for task in tasks.withLock({ $0 }) { task.cancel() }
        }
    }
}

// MARK: Paced HTTP writer

struct WritePlan: Sendable {
    /// When write 0 is due; write i is due at start + i * interval.
    var start: NIODeadline
    var intervalNanoseconds: Int64
    var total: Int
    var writers: Int
    var host: String
    var collection: String
    var documents: Int

    func due(_ i: Int) -> NIODeadline { start + .nanoseconds(Int64(i) * intervalNanoseconds) }
    /// No write is sent after this: a server that falls behind gets fewer writes, not a longer run.
    var lastSend: NIODeadline { due(total) + .seconds(1) }
    func path(_ i: Int) -> String { "/v1/documents/\(collection)/d\(documents > 0 ? i % documents : i)" }
}

struct WriterResult: Sendable {
    /// The version (commit sequence) of each 2xx answer, from its ETag.
    var versions: [Int64] = []
    /// Microseconds from send to the whole answer.
    var latencies: [Double] = []
    /// Microseconds each send was behind its schedule (the connection was still busy).
    var lateness: [Double] = []
    var statuses: [UInt: Int] = [:]
    var errors = 0
    /// Writes never sent: their connection was still busy when the run's last send time passed.
    var skipped = 0
    /// Writes sent whose answer never came (the connection failed or the run's bound closed it).
    var unanswered = 0
}

/// One keep-alive connection of the writer: writes i = writer, writer + K, writer + 2K, ..., each sent when due
/// (or as soon as the previous answer is in, if that is later), one in flight.
final class PacedWriteHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    let plan: WritePlan
    let done: EventLoopPromise<WriterResult>
    private var next: Int
    private var sentAt: UInt64 = 0
    private var status: HTTPResponseStatus? = nil
    private var version: Int64? = nil
    private var result = WriterResult()
    private var completed = false
    private var inFlight = false

    init(writer: Int, plan: WritePlan, done: EventLoopPromise<WriterResult>) {
        self.plan = plan
        self.done = done
        self.next = writer
    }

    func channelActive(context: ChannelHandlerContext) {
        // A bound on the whole run: a server that stops answering cannot hang the benchmark.
        let channel = context.channel
        context.eventLoop.scheduleTask(deadline: plan.lastSend + .seconds(30)) { channel.close(promise: nil) }
        schedule(context: context)
    }

    private func schedule(context: ChannelHandlerContext) {
        guard next < plan.total else {
            completed = true
            context.close(promise: nil)
            return
        }
        let due = plan.due(next)
        let now = NIODeadline.now()
        if now > plan.lastSend {
            result.skipped = (plan.total - next + plan.writers - 1) / plan.writers
            completed = true
            context.close(promise: nil)
            return
        }
        if due <= now {
            send(context: context, due: due)
        } else {
            let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(deadline: due) { bound.value.handler.send(context: bound.value.context, due: due) }
        }
    }

    private func send(context: ChannelHandlerContext, due: NIODeadline) {
        let i = next
        inFlight = true
        sentAt = monotonicNanoseconds()
        result.lateness.append(Double(Int64(sentAt) - Int64(due.uptimeNanoseconds)) / 1000)
        let body = Array(#"{"t":\#(sentAt),"i":\#(i)}"#.utf8)
        var head = HTTPRequestHead(version: .http1_1, method: .PUT, uri: plan.path(i))
        head.headers.add(name: "Host", value: plan.host)
        head.headers.add(name: "Content-Type", value: "application/json")
        head.headers.add(name: "Content-Length", value: String(body.count))
        var buffer = context.channel.allocator.buffer(capacity: body.count)
        buffer.writeBytes(body)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = head.status
            version = head.headers.first(name: "ETag").flatMap { Int64($0.filter(\.isNumber)) }
        case .body:
            break
        case .end:
            inFlight = false
            let code = status?.code ?? 0
            result.statuses[code, default: 0] += 1
            result.latencies.append(Double(monotonicNanoseconds() - sentAt) / 1000)
            if (200..<300).contains(code), let version { result.versions.append(version) }
            status = nil
            version = nil
            next += plan.writers
            schedule(context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        result.errors += 1
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !completed { result.errors += 1 }
        if inFlight { result.unanswered += 1 }
        done.succeed(result)
    }
}
