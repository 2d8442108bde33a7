import ArgumentParser
import Crypto
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `flint-bench files`: one large file up with a simple `PUT`, then down with a `GET`, over plain blocking sockets;
/// reports MiB/s each way, the server's memory (VmRSS, and VmHWM, its peak) and CPU, and checks every byte.
struct FilesBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "files",
        abstract: "Upload then download one large file (simple PUT and GET): MiB/s each way and the server's peak memory.")

    @Option(help: "The server (loopback only).") var url = "http://127.0.0.1:8080"
    @Option(help: "The server's process id, for its memory (VmRSS, VmHWM) and CPU from /proc.") var pid: Int32?
    @Option(help: "The file's size in MiB (start the server with --max-file-size at least this).") var size = 256
    @Option(help: "How many upload/download rounds (each a new file, removed afterwards).") var runs = 1

    func validate() throws {
        guard (1...4096).contains(size) else { throw ValidationError("--size must be 1...4096 MiB") }
        guard (1...100).contains(runs) else { throw ValidationError("--runs must be 1...100") }
    }

    func run() async throws {
        lineBufferedOutput()
        let (host, port) = try loopbackTarget(url)
        let bytes = size << 20
        print("flint-bench files: url=\(url) size=\(size) MiB runs=\(runs) machine: \(machineDescription())")
        let session = try Self.request(host: host, port: port, head: "POST /v1/auth/anonymous HTTP/1.1\r\nContent-Length: 0\r\n")
        guard session.status == 201 || session.status == 200,
            let token = Self.jsonString(session.body, key: "access_token")
        else { throw ValidationError("anonymous sign-in failed: \(session.status)") }
        print("expected sha256: \(Self.hex(Self.expectedDigest(size: size)))")
        report("server before", nil)

        for round in 1...runs {
            let path = "bench/files/\(UUID().uuidString).bin"
            let authorization = "Authorization: Bearer \(token)\r\n"

            let beforeUpload = readings()
            let uploadStart = ContinuousClock.now
            let upload = try Self.upload(
                host: host, port: port,
                head: "PUT /v1/files/\(path) HTTP/1.1\r\n\(authorization)Content-Type: application/octet-stream\r\nContent-Length: \(bytes)\r\n",
                blocks: size)
            let uploadSeconds = (ContinuousClock.now - uploadStart).seconds
            guard upload.status == 201 else { throw ValidationError("upload answered \(upload.status): \(String(decoding: upload.body, as: UTF8.self))") }
            let stored = Self.jsonString(upload.body, key: "sha256") ?? "?"
            print("round \(round): upload \(size) MiB in \(fmt(uploadSeconds, 2)) s = \(fmt(Double(size) / uploadSeconds, 1)) MiB/s; server's sha256 \(stored == Self.hex(Self.expectedDigest(size: size)) ? "matches" : "DIFFERS: \(stored)")")
            report("  during upload", beforeUpload)

            let beforeDownload = readings()
            let downloadStart = ContinuousClock.now
            let downloaded = try Self.download(host: host, port: port, head: "GET /v1/files/\(path) HTTP/1.1\r\n\(authorization)", blocks: size)
            let downloadSeconds = (ContinuousClock.now - downloadStart).seconds
            guard downloaded.status == 200, downloaded.bytes == bytes else {
                throw ValidationError("download answered \(downloaded.status) with \(downloaded.bytes) bytes")
            }
            print("round \(round): download \(size) MiB in \(fmt(downloadSeconds, 2)) s = \(fmt(Double(size) / downloadSeconds, 1)) MiB/s; every byte \(downloaded.intact ? "as uploaded" : "NOT as uploaded")")
            report("  during download", beforeDownload)
            _ = try Self.request(host: host, port: port, head: "DELETE /v1/files/\(path) HTTP/1.1\r\n\(authorization)Content-Length: 0\r\n")
        }
    }

    // MARK: Readings

    private func readings() -> (server: ProcessReading?, bench: Double, machine: MachineCPU, at: UInt64) {
        (pid.flatMap(ProcessReading.read), ProcessReading.cpuSeconds(pid: getpid()), MachineCPU.read(), monotonicNanoseconds())
    }

    private func report(_ label: String, _ start: (server: ProcessReading?, bench: Double, machine: MachineCPU, at: UInt64)?) {
        guard let pid else { return }
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        func field(_ key: String) -> String {
            let kilobytes = status.split(separator: "\n").first { $0.hasPrefix(key + ":") }?
                .dropFirst(key.count + 1).split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) } ?? 0
            return megabytes(kilobytes * 1024)
        }
        var line = "\(label): server VmRSS \(field("VmRSS")), VmHWM (peak so far) \(field("VmHWM"))"
        if let start { line += "; " + CPUUse.between(start, readings()).summary }
        print(line)
    }

    // MARK: The data: 1 MiB blocks of a fixed pattern, each stamped with its index

    static func block(_ index: Int, into buffer: inout [UInt8]) {
        if buffer.count != 1 << 20 {
            buffer = [UInt8](repeating: 0, count: 1 << 20)
            var state: UInt64 = 0x2545_F491_4F6C_DD1D
            for i in buffer.indices {
                state ^= state << 13
                state ^= state >> 7
                state ^= state << 17
                buffer[i] = UInt8(truncatingIfNeeded: state)
            }
        }
        withUnsafeBytes(of: UInt64(index).littleEndian) { stamp in
            for i in 0..<8 { buffer[i] = stamp[i] }
        }
    }

    static func expectedDigest(size: Int) -> [UInt8] {
        var hasher = SHA256()
        var buffer: [UInt8] = []
        for index in 0..<size {
            block(index, into: &buffer)
            hasher.update(data: buffer)
        }
        return Array(hasher.finalize())
    }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    static func jsonString(_ body: [UInt8], key: String) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else { return nil }
        return object[key] as? String
    }

    // MARK: HTTP over a blocking socket

    struct Answer {
        var status: Int
        var body: [UInt8]
    }

    static func connectSocket(host: String, port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ValidationError("socket() failed") }
        var timeout = timeval(tv_sec: 300, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        // A server that answers early (413, 401) and stops reading must not leave the upload blocked for ever.
        var sendTimeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &sendTimeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr(host)
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else {
            close(fd)
            throw ValidationError("cannot connect to \(host):\(port)")
        }
        return fd
    }

    static func sendAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws {
        var sent = 0
        while sent < bytes.count {
            let n = send(fd, bytes.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL))
            guard n > 0 else { throw ValidationError("send() failed: \(String(cString: strerror(errno)))") }
            sent += n
        }
    }

    /// Reads the status line and headers; returns the status, Content-Length and any body bytes read past them.
    static func readHead(_ fd: Int32) throws -> (status: Int, length: Int, rest: [UInt8]) {
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            if let end = data.indices.dropLast(3).first(where: { data[$0] == 13 && data[$0 + 1] == 10 && data[$0 + 2] == 13 && data[$0 + 3] == 10 }) {
                let head = String(decoding: data[..<end], as: UTF8.self)
                let status = head.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
                let length = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
                return (status, length, Array(data[(end + 4)...]))
            }
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw ValidationError("the server closed the connection before answering") }
            data += chunk[0..<n]
        }
    }

    static func readBody(_ fd: Int32, length: Int, rest: [UInt8]) throws -> [UInt8] {
        var body = rest
        var chunk = [UInt8](repeating: 0, count: 16384)
        while body.count < length {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, min($0.count, length - body.count), 0) }
            guard n > 0 else { throw ValidationError("the answer ended early") }
            body += chunk[0..<n]
        }
        return body
    }

    static func request(host: String, port: Int, head: String) throws -> Answer {
        let fd = try connectSocket(host: host, port: port)
        defer { close(fd) }
        try Array((head + "Host: \(host)\r\nConnection: close\r\n\r\n").utf8).withUnsafeBytes { try sendAll(fd, $0) }
        let (status, length, rest) = try readHead(fd)
        return Answer(status: status, body: try readBody(fd, length: length, rest: rest))
    }

    static func upload(host: String, port: Int, head: String, blocks: Int) throws -> Answer {
        let fd = try connectSocket(host: host, port: port)
        defer { close(fd) }
        try Array((head + "Host: \(host)\r\nConnection: close\r\n\r\n").utf8).withUnsafeBytes { try sendAll(fd, $0) }
        var buffer: [UInt8] = []
        do {
            for index in 0..<blocks {
                block(index, into: &buffer)
                try buffer.withUnsafeBytes { try sendAll(fd, $0) }
            }
        } catch {
            // The server stopped reading: its early answer says why.
            let (status, length, rest) = try readHead(fd)
            let body = try readBody(fd, length: length, rest: rest)
            throw ValidationError("the server stopped reading the upload and answered \(status): \(String(decoding: body, as: UTF8.self))")
        }
        let (status, length, rest) = try readHead(fd)
        return Answer(status: status, body: try readBody(fd, length: length, rest: rest))
    }

    /// Downloads into one reusable 1 MiB buffer, comparing each block with the one uploaded.
    static func download(host: String, port: Int, head: String, blocks: Int) throws -> (status: Int, bytes: Int, intact: Bool) {
        let fd = try connectSocket(host: host, port: port)
        defer { close(fd) }
        try Array((head + "Host: \(host)\r\nConnection: close\r\n\r\n").utf8).withUnsafeBytes { try sendAll(fd, $0) }
        let (status, length, rest) = try readHead(fd)
        var received = [UInt8](repeating: 0, count: 1 << 20)
        var expected: [UInt8] = []
        var filled = min(rest.count, received.count)
        received.replaceSubrange(0..<filled, with: rest[0..<filled])
        var total = filled
        var intact = true
        var index = 0
        while total < length || filled > 0 {
            if filled == received.count || total == length {
                block(index, into: &expected)
                let same = received.withUnsafeBytes { r in expected.withUnsafeBytes { e in memcmp(r.baseAddress!, e.baseAddress!, filled) == 0 } }
                if !same { intact = false }
                index += 1
                filled = 0
                if total == length { break }
            }
            let n = received.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + filled, min($0.count - filled, length - total), 0) }
            guard n > 0 else { throw ValidationError("the download ended after \(total) of \(length) bytes") }
            filled += n
            total += n
        }
        return (status, total, intact && index == blocks)
    }
}
