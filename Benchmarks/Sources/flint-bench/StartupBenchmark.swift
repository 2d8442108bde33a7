import ArgumentParser
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `flint-bench startup`: starts the flint-server binary with a fresh data folder, again and again, and measures the
/// time from spawning the process until `GET /ready` answers 200 (polled tightly over plain sockets).
struct StartupBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "startup",
        abstract: "Time from launching flint-server (fresh data folder) until GET /ready answers 200.")

    @Option(help: "The flint-server executable (a release build); default .build/release/flint-server, else ../.build-release/release/flint-server.")
    var server: String = StartupBenchmark.defaultServer

    static var defaultServer: String {
        let candidates = [".build/release/flint-server", "../.build-release/release/flint-server"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
    }
    @Option(help: "How many start-ups to time.") var runs = 10
    @Option(help: "Give up on one start-up after this many seconds.") var timeout = 30.0

    func validate() throws {
        guard (1...1000).contains(runs) else { throw ValidationError("--runs must be 1...1000") }
        guard FileManager.default.isExecutableFile(atPath: server) else {
            throw ValidationError("no executable at \(server); build it with `swift build -c release --product flint-server`")
        }
    }

    func run() async throws {
        print("flint-bench startup: server=\(server) runs=\(runs)")
        var ready = Samples()
        var listening = Samples()
        var stopped = Samples()
        for run in 1...runs {
            let result = try startOnce()
            ready.append(result.ready)
            if let line = result.listening { listening.append(line) }
            stopped.append(result.stopped)
            print("run \(run): /ready 200 after \(fmt(result.ready / 1000, 1)) ms; \"listening\" line after \(result.listening.map { fmt($0 / 1000, 1) } ?? "-") ms; SIGTERM to exit \(fmt(result.stopped / 1000, 1)) ms")
        }
        print("")
        print("start-up to /ready 200 (ms): median \(fmt(ready.percentile(50) / 1000, 1)) min \(fmt(ready.min / 1000, 1)) max \(fmt(ready.max / 1000, 1)) over \(runs) runs")
        print("start-up to \"listening\" line (ms): median \(fmt(listening.percentile(50) / 1000, 1))")
        print("SIGTERM to exit (ms): median \(fmt(stopped.percentile(50) / 1000, 1))")
    }

    private struct Result {
        var ready: Double
        var listening: Double?
        var stopped: Double
    }

    private func startOnce() throws -> Result {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("flint-bench-startup-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let port = try freePort()

        let process = Process()
        process.executableURL = URL(fileURLWithPath: server)
        process.arguments = ["--port", String(port), "--data-dir", folder.path, "--log-level", "warning"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        let firstOutput = Mutex<ContinuousClock.Instant?>(nil)
        output.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty { handle.readabilityHandler = nil; return }
            let now = ContinuousClock.now
            firstOutput.withLock { if $0 == nil { $0 = now } }
        }

        let clock = ContinuousClock()
        let started = clock.now
        try process.run()
        defer { if process.isRunning { process.terminate(); process.waitUntilExit() } }
        var readyAt: ContinuousClock.Instant? = nil
        while clock.now - started < .seconds(timeout) {
            guard process.isRunning else { throw ValidationError("flint-server exited with status \(process.terminationStatus) before it was ready") }
            if readyStatus(port: port) == 200 {
                readyAt = clock.now
                break
            }
            usleep(200)  // 0.2 ms between attempts: tight, without starving the server of the CPU
        }
        guard let readyAt else { throw ValidationError("flint-server was not ready within \(timeout) s") }

        let stopping = clock.now
        process.terminate()
        process.waitUntilExit()
        let stopped = clock.now
        output.fileHandleForReading.readabilityHandler = nil
        let listening = firstOutput.withLock { $0 }
        return Result(
            ready: (readyAt - started).microseconds,
            listening: listening.map { ($0 - started).microseconds },
            stopped: (stopped - stopping).microseconds)
    }

    /// A port that is free right now (bound to 0, read back, closed).
    private func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ValidationError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw ValidationError("bind() failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// The status code of `GET /ready`, or nil when the connection is refused or fails.
    private func readyStatus(port: Int) -> Int? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard connected else { return nil }
        let request = Array("GET /ready HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else { return nil }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 512)
        while response.count < 12 {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { return nil }
            response.append(contentsOf: chunk[0..<n])
        }
        // "HTTP/1.1 200 ..."
        let line = String(decoding: response.prefix(12), as: UTF8.self)
        guard line.hasPrefix("HTTP/1.") else { return nil }
        return Int(line.dropFirst(9).prefix(3))
    }
}
