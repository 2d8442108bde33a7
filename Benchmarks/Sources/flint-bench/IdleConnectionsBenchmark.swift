import ArgumentParser
import Foundation
import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `flint-bench idle`: the server's memory per idle WebSocket. Reads the server's RSS (/proc/<pid>/status), opens N
/// connections to /v1/realtime that each listen to one document and then sit idle, waits for them to settle, reads the
/// RSS again and reports (after - before) / N; then closes them and reads it once more.
struct IdleConnectionsBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "idle",
        abstract: "Server memory per idle realtime WebSocket (each with one document listener), from its RSS.")

    @Option(help: "The server's base URL; loopback only.") var url = "http://127.0.0.1:8080"
    @Option(help: "The server's process id (its /proc/<pid>/status is read).") var pid: Int32
    @Option(help: "Idle connections to open.") var connections = 5000
    @Option(help: "What each connection listens to: `document` (idle/c<i>, a document that does not exist), `query` (a query on idle/c<i>/items), or `none` (a bare connection, hello only).")
    var listen: ListenKind = .document
    @Option(help: "Seconds to wait after the last snapshot before reading the RSS.") var settle = 5.0
    @Option(help: "Rounds of open, measure, close (round 2+ shows memory the allocator kept from round 1).") var rounds = 1
    @Option(help: "Event-loop threads for the client sockets.") var threads = 2
    @Option(help: "WebSocket connections being opened at once.") var connectConcurrency = 64
    @Option(help: "Seconds to wait for all connections to hold their snapshot.") var connectTimeout = 180.0

    enum ListenKind: String, ExpressibleByArgument, Sendable {
        case document, query, none
    }

    func validate() throws {
        _ = try loopbackTarget(url)
        guard (1...100_000).contains(connections) else { throw ValidationError("--connections must be 1...100000") }
        guard (1...10).contains(rounds), threads > 0, connectConcurrency > 0 else { throw ValidationError("counts must be positive; --rounds 1...10") }
        guard settle >= 0, settle <= 120, connectTimeout > 0, connectTimeout <= 600 else { throw ValidationError("--settle 0...120, --connect-timeout (0, 600]") }
        guard ProcessReading.read(pid: pid) != nil else { throw ValidationError("cannot read /proc/\(pid)/status") }
    }

    func run() async throws {
        lineBufferedOutput()
        let (host, port) = try loopbackTarget(url)
        let limit = raiseOpenFileLimit()
        print("flint-bench idle: url=\(url) pid=\(pid) connections=\(connections) listen=\(listen.rawValue) settle=\(settle) s rounds=\(rounds)")
        print("machine: \(machineDescription()); this process's open-file limit \(limit.soft)")
        if limit.soft < UInt64(connections + 100) {
            print("warning: the open-file limit (\(limit.soft)) is below the connections asked for; run `ulimit -n 65536` (or the hard limit) first")
        }
        if let serverLimits = try? String(contentsOfFile: "/proc/\(pid)/limits", encoding: .utf8),
            let line = serverLimits.split(separator: "\n").first(where: { $0.hasPrefix("Max open files") })
        {
            print("server: \(line.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " "))")
        }
        let kind = listen
        for round in 1...rounds {
            try? await Task.sleep(for: .seconds(settle))
            guard let before = ProcessReading.read(pid: pid) else { throw ValidationError("the server (pid \(pid)) is gone") }
            print("")
            print("round \(round): before: RSS \(megabytes(before.rss)) (RssAnon \(megabytes(before.rssAnon))), \(before.openFiles) open files, \(before.threads) threads")

            let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
            let set = SubscriberSet()
            let started = ContinuousClock.now
            let launcher = Task {
                await set.open(
                    count: connections, concurrency: connectConcurrency, url: "ws://\(host):\(port)/v1/realtime", group: group
                ) { index in
                    switch kind {
                    case .document: #"{"type":"listen","targetId":1,"document":"idle/c\#(index)"}"#
                    case .query: #"{"type":"listen","targetId":1,"query":{"collection":"idle/c\#(index)/items"}}"#
                    case .none: nil
                    }
                }
            }
            let allReady = await set.ready.wait(timeout: .seconds(connectTimeout), every: .milliseconds(50)) { [connections] in
                $0 + set.failed.current >= connections
            }
            await launcher.value
            let opened = (ContinuousClock.now - started).seconds
            print("round \(round): \(set.ready.current) of \(connections) connections ready (\(kind == .none ? "hello" : "snapshot") received) in \(fmt(opened, 2)) s, \(set.failed.current) failed\(allReady ? "" : " (timed out)")")
            if let failure = set.firstFailure { print("first failure: \(failure)") }

            try? await Task.sleep(for: .seconds(settle))
            guard let after = ProcessReading.read(pid: pid) else { throw ValidationError("the server (pid \(pid)) is gone") }
            let open = set.ready.current
            let perConnection = open > 0 ? Double(after.rss - before.rss) / Double(open) : 0
            let perConnectionAnon = open > 0 ? Double(after.rssAnon - before.rssAnon) / Double(open) : 0
            print("round \(round): with \(open) idle connections: RSS \(megabytes(after.rss)) (RssAnon \(megabytes(after.rssAnon))), \(after.openFiles) open files, \(after.threads) threads")
            print("round \(round): memory per idle connection: \(fmt(perConnection, 0)) bytes = \(fmt(perConnection / 1024, 2)) KiB by VmRSS (\(fmt(perConnectionAnon / 1024, 2)) KiB by RssAnon)")
            if round == 1 {
                print("target <= 10 KB per idle WebSocket: \(perConnection <= 10_240 ? "met" : "not met") (\(fmt(perConnection / 1024, 2)) KiB)")
            }

            await set.closeAll(group: group, timeout: 30)
            try? await group.shutdownGracefully()
            try? await Task.sleep(for: .seconds(settle))
            if let closed = ProcessReading.read(pid: pid) {
                print("round \(round): after closing them: RSS \(megabytes(closed.rss)) (RssAnon \(megabytes(closed.rssAnon))), \(closed.openFiles) open files; \(megabytes(closed.rss - before.rss)) above the round's start")
            }
        }
    }
}
