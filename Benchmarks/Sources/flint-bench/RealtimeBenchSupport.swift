import ArgumentParser
import Foundation
import NIOCore
import Synchronization
import HummingbirdWSClient

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// Shared pieces of the realtime benchmarks (`fanout`, `idle`): URLs, /proc readings, byte scanning of the server's
// messages, and the small synchronisation helpers both use.

/// Host and port of a loopback `http://` URL; anything else is refused (the benchmarks only load loopback).
func loopbackTarget(_ url: String) throws -> (host: String, port: Int) {
    guard let components = URLComponents(string: url), components.scheme == "http", let host = components.host else {
        throw ValidationError("--url must look like http://127.0.0.1:8080")
    }
    guard ["127.0.0.1", "localhost"].contains(host) else {
        throw ValidationError("the realtime benchmarks only target loopback (127.0.0.1), not \(host)")
    }
    return ("127.0.0.1", components.port ?? 80)
}

/// The process's monotonic clock in nanoseconds (CLOCK_MONOTONIC, the clock `NIODeadline` reads); writer and
/// subscribers share it, so `received - sent` needs no clock agreement.
@inline(__always) func monotonicNanoseconds() -> UInt64 { NIODeadline.now().uptimeNanoseconds }

/// Wall-clock microseconds since 1970 (CLOCK_REALTIME, the clock the server stamps `commitTime` with).
@inline(__always) func wallMicroseconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
}

/// Prints line by line even into a file or a pipe, so progress shows while a benchmark runs.
func lineBufferedOutput() {
    // fdopen(1) gives a second FILE for the same descriptor; make stdout itself line-buffered instead, through
    // the C symbol (Swift 6 refuses to touch the global `stdout` variable directly).
    guard let handle = dlsym(dlopen(nil, RTLD_NOW), "stdout") else { return }
    let output = handle.assumingMemoryBound(to: UnsafeMutablePointer<FILE>?.self).pointee
    setvbuf(output, nil, _IOLBF, 0)
}

/// Raises this process's open-file limit to its hard limit; returns (soft, hard) after.
@discardableResult func raiseOpenFileLimit() -> (soft: UInt64, hard: UInt64) {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return (0, 0) }
    if limit.rlim_cur < limit.rlim_max {
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        _ = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
    return (UInt64(limit.rlim_cur), UInt64(limit.rlim_max))
}

// MARK: /proc

/// What /proc says about one process (Linux only).
struct ProcessReading {
    /// VmRSS, bytes.
    var rss: Int
    /// RssAnon, bytes (heap and stacks; excludes the mapped executable and libraries).
    var rssAnon: Int
    /// user + system CPU time, seconds.
    var cpuSeconds: Double
    var threads: Int
    /// Open file descriptors (sockets included).
    var openFiles: Int

    static func read(pid: Int32) -> ProcessReading? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        func kilobytes(_ key: String) -> Int {
            for line in status.split(separator: "\n") where line.hasPrefix(key + ":") {
                let number = line.dropFirst(key.count + 1).split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) } ?? 0
                return number * 1024
            }
            return 0
        }
        var threads = 0
        for line in status.split(separator: "\n") where line.hasPrefix("Threads:") {
            threads = Int(line.dropFirst(8).trimmingCharacters(in: .whitespaces)) ?? 0
        }
        let files = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
        return ProcessReading(
            rss: kilobytes("VmRSS"), rssAnon: kilobytes("RssAnon"), cpuSeconds: cpuSeconds(pid: pid), threads: threads,
            openFiles: files)
    }

    /// utime + stime of a process from /proc/<pid>/stat, in seconds.
    static func cpuSeconds(pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return 0 }
        // Fields after "(comm)": state is field 3; utime and stime are fields 14 and 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return (user + system) / ticks
    }
}

/// The whole machine's CPU time from /proc/stat: busy and total, in seconds (all cores).
struct MachineCPU {
    var busy: Double
    var total: Double

    static func read() -> MachineCPU {
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let line = stat.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") })
        else { return MachineCPU(busy: 0, total: 0) }
        let values = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard values.count >= 5 else { return MachineCPU(busy: 0, total: 0) }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let total = values.prefix(8).reduce(0, +)
        let idle = values[3] + values[4]  // idle + iowait
        return MachineCPU(busy: (total - idle) / ticks, total: total / ticks)
    }
}

/// CPU used between two readings, by the server, by this process and by everything else on the machine.
struct CPUUse {
    var server: Double?
    var bench: Double
    var others: Double
    var wall: Double

    static func between(
        _ start: (server: ProcessReading?, bench: Double, machine: MachineCPU, at: UInt64),
        _ end: (server: ProcessReading?, bench: Double, machine: MachineCPU, at: UInt64)
    ) -> CPUUse {
        let server = start.server.flatMap { s in end.server.map { $0.cpuSeconds - s.cpuSeconds } }
        let bench = end.bench - start.bench
        let machine = end.machine.busy - start.machine.busy
        return CPUUse(
            server: server, bench: bench, others: max(0, machine - bench - (server ?? 0)),
            wall: Double(end.at - start.at) / 1e9)
    }

    var summary: String {
        let cores = Double(ProcessInfo.processInfo.activeProcessorCount)
        func pct(_ seconds: Double) -> String { "\(fmt(seconds, 2)) s (\(fmt(100 * seconds / wall, 0))% of one core)" }
        var parts: [String] = []
        if let server { parts.append("server \(pct(server))") }
        parts.append("flint-bench \(pct(bench))")
        parts.append("other processes \(pct(others))")
        return "CPU over \(fmt(wall, 1)) s wall (\(Int(cores)) cores = \(fmt(cores * 100, 0))%): " + parts.joined(separator: ", ")
    }
}

/// The machine, for the results: cores and CPU model.
func machineDescription() -> String {
    let cores = ProcessInfo.processInfo.activeProcessorCount
    var model = "unknown CPU"
    if let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
        let line = info.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
        let colon = line.firstIndex(of: ":")
    {
        model = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    return "\(cores) cores, \(model)"
}

/// One HTTP/1.1 request on a fresh connection (Connection: close); the status code of the answer.
func httpRequest(host: String, port: Int, method: String, path: String, body: String) throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw ValidationError("socket() failed") }
    defer { close(fd) }
    var timeout = timeval(tv_sec: 60, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr(host)
    address.sin_port = UInt16(port).bigEndian
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
    guard connected else { throw ValidationError("cannot connect to \(host):\(port)") }
    let bodyBytes = Array(body.utf8)
    let request = Array("\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nContent-Type: application/json\r\nContent-Length: \(bodyBytes.count)\r\nConnection: close\r\n\r\n".utf8) + bodyBytes
    var sent = 0
    while sent < request.count {
        let n = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { throw ValidationError("send() failed") }
        sent += n
    }
    var response: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { break }
        response.append(contentsOf: chunk[0..<n])
    }
    let line = String(decoding: response.prefix(12), as: UTF8.self)
    guard line.hasPrefix("HTTP/1."), let status = Int(line.dropFirst(9).prefix(3)) else { throw ValidationError("no HTTP answer") }
    return status
}

func megabytes(_ bytes: Int) -> String { fmt(Double(bytes) / 1_048_576, 1) + " MiB" }

// MARK: Scanning the server's messages

/// Finds byte patterns in a message without parsing it: the server writes compact JSON (`"key":value`), and a
/// benchmark that parsed every message fully would measure its own JSON parser.
enum Scan {
    /// The offset of `needle` in `haystack` at or after `from`.
    @inline(__always)
    static func find(_ needle: [UInt8], in haystack: UnsafeRawBufferPointer, from: Int = 0) -> Int? {
        guard from >= 0, from < haystack.count, let base = haystack.baseAddress, let first = needle.first else { return nil }
        let count = haystack.count
        return needle.withUnsafeBytes { n -> Int? in
            var i = from
            while i + n.count <= count {
                guard let hit = memchr(base + i, Int32(first), count - i - n.count + 1) else { return nil }
                let at = base.distance(to: UnsafeRawPointer(hit))
                if memcmp(base + at, n.baseAddress!, n.count) == 0 { return at }
                i = at + 1
            }
            return nil
        }
    }

    /// The non-negative integer starting at `at`, and where it ends.
    @inline(__always)
    static func integer(in bytes: UnsafeRawBufferPointer, at: Int) -> (value: Int64, end: Int)? {
        var i = at
        var value: Int64 = 0
        while i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 {
            value = value &* 10 &+ Int64(bytes[i] - 48)
            i += 1
        }
        return i > at ? (value, i) : nil
    }

    /// The integer value of the first `"key":` at or after `from`.
    @inline(__always)
    static func integer(after key: [UInt8], in bytes: UnsafeRawBufferPointer, from: Int = 0) -> (value: Int64, end: Int)? {
        guard let at = find(key, in: bytes, from: from) else { return nil }
        return integer(in: bytes, at: at + key.count)
    }

    /// The text of the first `"key":"..."` (no escapes expected) at or after `from`.
    static func string(after key: [UInt8], in bytes: UnsafeRawBufferPointer, from: Int = 0) -> String? {
        guard let at = find(key, in: bytes, from: from) else { return nil }
        let start = at + key.count
        var end = start
        while end < bytes.count, bytes[end] != UInt8(ascii: "\"") { end += 1 }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
    }

    static let type = Array(#""type":""#.utf8)
    static let sequence = Array(#""sequence":"#.utf8)
    static let commitTime = Array(#""commitTime":""#.utf8)
    static let targets = Array(#""targets":["#.utf8)
    static let changeStart = Array(#"{"type":""#.utf8)
    /// The field the writer puts its send time in.
    static let sentField = Array(#""t":"#.utf8)
    static let message = Array(#""message":""#.utf8)
    static let code = Array(#""code":""#.utf8)
}

/// Reassembles a WebSocket message from its frames (the server splits messages over 64 KiB into continuations).
struct FrameAssembler {
    private var partial: ByteBuffer? = nil

    /// The whole message once its last frame arrived; nil while more frames are due, or for non-text frames.
    mutating func add(_ frame: WebSocketDataFrame) -> ByteBuffer? {
        switch frame.opcode {
        case .text, .binary:
            if frame.fin { partial = nil; return frame.data }
            partial = frame.data
            return nil
        case .continuation:
            guard var buffer = partial else { return nil }
            var data = frame.data
            buffer.writeBuffer(&data)
            if frame.fin { partial = nil; return buffer }
            partial = buffer
            return nil
        }
    }
}

// MARK: Synchronisation

/// Counts events; waiters poll it (the benchmarks' orchestration is coarse, a few checks a second).
final class Counter: Sendable {
    private let value = Atomic<Int>(0)
    init() {}
    @inline(__always) func add(_ n: Int = 1) { value.add(n, ordering: .relaxed) }
    var current: Int { value.load(ordering: .relaxed) }

    /// Waits until `condition(current)` holds or `timeout` passes; true if it held.
    func wait(timeout: Duration, every: Duration = .milliseconds(20), until condition: (Int) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !condition(current) {
            if ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: every)
        }
        return true
    }
}

/// A value written by one task and read by another after it has finished (or under the lock).
final class Locked<Value: Sendable>: Sendable {
    private let state: Mutex<Value>
    init(_ value: Value) { state = Mutex(value) }
    func withLock<R: Sendable>(_ body: (inout Value) -> R) -> R { state.withLock { body(&$0) } }
    var value: Value { state.withLock { $0 } }
}
