import ArgumentParser
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// `flint-bench writes`: an HTTP/1.1 load generator for durable single-document writes.
///
/// Opens C keep-alive connections to a running flint-server; each connection sends one request at a time
/// (`PUT /v1/documents/bench/<run>-c<connection>-<n>` with a small JSON body), waits for the answer, and sends the next,
/// so at most C writes are in flight. Requests that complete inside the measuring window (after the warm-up) count.
struct WritesBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "writes",
        abstract: "HTTP load: durable single-document PUTs from C concurrent keep-alive connections.")

    @Option(help: "The server's base URL; loopback only.") var url = "http://127.0.0.1:8080"
    @Option(help: "Concurrent connections, each with one request in flight.") var clients = 64
    @Option(help: "Length of the measuring window in seconds.") var seconds = 10.0
    @Option(help: "Seconds of load before the measuring window opens (not counted).") var warmup = 1.0
    @Option(help: "Event-loop threads of the load generator.") var threads = 1
    @Option(help: "The collection written to.") var collection = "bench"
    @Option(help: "Document ids: `per-client` (<run>-c<connection>-<n>, 64 interleaved ascending runs) or `random` (20 random characters, like Firestore's automatic ids).")
    var ids: IDStyle = .perClient

    enum IDStyle: String, ExpressibleByArgument, Sendable {
        case perClient = "per-client"
        case random
    }

    func validate() throws {
        guard clients > 0, clients <= 10_000 else { throw ValidationError("--clients must be 1...10000") }
        guard seconds > 0, seconds <= 600, warmup >= 0, warmup <= 60 else { throw ValidationError("--seconds must be (0, 600], --warmup [0, 60]") }
        guard threads > 0 else { throw ValidationError("--threads must be positive") }
        _ = try target()
    }

    /// Host and port from `--url`; only loopback addresses are accepted.
    private func target() throws -> (host: String, port: Int) {
        guard let components = URLComponents(string: url), components.scheme == "http", let host = components.host else {
            throw ValidationError("--url must look like http://127.0.0.1:8080")
        }
        guard ["127.0.0.1", "localhost", "::1"].contains(host) else {
            throw ValidationError("the load generator only targets loopback (127.0.0.1), not \(host)")
        }
        return (host == "localhost" ? "127.0.0.1" : host, components.port ?? 80)
    }

    func run() async throws {
        let (host, port) = try target()
        let runID = String(UUID().uuidString.prefix(8)).lowercased()
        print("flint-bench writes: url=\(url) clients=\(clients) seconds=\(seconds) warmup=\(warmup) threads=\(threads) ids=\(ids.rawValue)")
        let shape = ids == .random ? "<20 random characters>" : "\(runID)-c<connection>-<n>"
        print("PUT /v1/documents/\(collection)/\(shape), body like \(String(decoding: WriteLoadHandler.body(connection: 0, sequence: 0), as: UTF8.self))")

        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let started = NIODeadline.now()
        let window = Window(
            start: started + .nanoseconds(Int64(warmup * 1e9)),
            end: started + .nanoseconds(Int64((warmup + seconds) * 1e9)))
        var futures: [EventLoopFuture<ConnectionStats>] = []
        var connectFailures = 0
        for connection in 0..<clients {
            let loop = group.next()
            let done = loop.makePromise(of: ConnectionStats.self)
            let path = "/v1/documents/\(collection)/\(runID)-c\(connection)-"
            let ids = self.ids
            let collection = self.collection
            let bootstrap = ClientBootstrap(group: loop)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connectTimeout(.seconds(5))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(
                            WriteLoadHandler(
                                connection: connection, pathPrefix: ids == .random ? "/v1/documents/\(collection)/" : path,
                                randomIDs: ids == .random, host: "\(host):\(port)", window: window, done: done))
                    }
                }
            do {
                _ = try await bootstrap.connect(host: host, port: port).get()
                futures.append(done.futureResult)
            } catch {
                connectFailures += 1
                done.succeed(ConnectionStats())
                if connectFailures == 1 { print("connect failed: \(error)") }
            }
        }
        var total = ConnectionStats()
        for future in futures { total.add(try await future.get()) }
        try await group.shutdownGracefully()

        let latencies = Samples(total.latencies)
        print("")
        print("window: \(fmt(seconds, 1)) s after \(fmt(warmup, 1)) s warm-up; connections: \(clients - connectFailures) of \(clients) connected, \(total.closedEarly) closed before the end")
        print("requests in window: \(total.latencies.count) (2xx \(total.ok), non-2xx \(total.non2xx)), transport errors \(total.errors)")
        if !total.statuses.isEmpty {
            print("statuses (whole run): " + total.statuses.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))
        }
        print("throughput: \(fmt(Double(total.ok) / seconds, 0)) 2xx requests/s (\(fmt(Double(total.latencies.count) / seconds, 0)) all requests/s)")
        print("latency (ms): p50 \(fmt(latencies.percentile(50) / 1000, 2)) p90 \(fmt(latencies.percentile(90) / 1000, 2)) p99 \(fmt(latencies.percentile(99) / 1000, 2)) max \(fmt(latencies.max / 1000, 2)) mean \(fmt(latencies.mean / 1000, 2))")
    }
}

/// When the counted requests must complete.
struct Window: Sendable {
    var start: NIODeadline
    var end: NIODeadline
}

/// What one connection saw.
struct ConnectionStats: Sendable {
    /// Latency in microseconds of each request completed inside the window.
    var latencies: [Double] = []
    var ok = 0
    var non2xx = 0
    var errors = 0
    var closedEarly = 0
    var statuses: [UInt: Int] = [:]

    mutating func add(_ other: ConnectionStats) {
        latencies.append(contentsOf: other.latencies)
        ok += other.ok
        non2xx += other.non2xx
        errors += other.errors
        closedEarly += other.closedEarly
        statuses.merge(other.statuses, uniquingKeysWith: +)
    }
}

/// One connection of the load: request, wait for the whole answer, record, repeat until the window ends.
final class WriteLoadHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    let connection: Int
    let pathPrefix: String
    let randomIDs: Bool
    let host: String
    let window: Window
    let done: EventLoopPromise<ConnectionStats>
    private var sequence = 0
    private var sentAt = NIODeadline.uptimeNanoseconds(0)
    private var status: HTTPResponseStatus? = nil
    private var stats = ConnectionStats()
    private var finished = false

    init(
        connection: Int, pathPrefix: String, randomIDs: Bool, host: String, window: Window, done: EventLoopPromise<ConnectionStats>
    ) {
        self.connection = connection
        self.pathPrefix = pathPrefix
        self.randomIDs = randomIDs
        self.host = host
        self.window = window
        self.done = done
    }

    static func body(connection: Int, sequence: Int) -> [UInt8] {
        Array(#"{"client":\#(connection),"n":\#(sequence),"text":"a small durable write","done":false}"#.utf8)
    }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)

    /// A 20-character id like Firestore's automatic ids.
    static func randomID() -> String {
        var bytes = [UInt8](repeating: 0, count: 20)
        for i in 0..<20 { bytes[i] = alphabet.randomElement()! }
        return String(decoding: bytes, as: UTF8.self)
    }

    func channelActive(context: ChannelHandlerContext) {
        // A bound on the whole run: a server that stops answering cannot hang the benchmark.
        let channel = context.channel
        context.eventLoop.scheduleTask(deadline: window.end + .seconds(10)) { channel.close(promise: nil) }
        send(context: context)
    }

    private func send(context: ChannelHandlerContext) {
        sequence += 1
        let body = Self.body(connection: connection, sequence: sequence)
        let id = randomIDs ? Self.randomID() : String(sequence)
        var head = HTTPRequestHead(version: .http1_1, method: .PUT, uri: pathPrefix + id)
        head.headers.add(name: "Host", value: host)
        head.headers.add(name: "Content-Type", value: "application/json")
        head.headers.add(name: "Content-Length", value: String(body.count))
        var buffer = context.channel.allocator.buffer(capacity: body.count)
        buffer.writeBytes(body)
        sentAt = .now()
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = head.status
        case .body:
            break
        case .end:
            let now = NIODeadline.now()
            let code = status?.code ?? 0
            stats.statuses[code, default: 0] += 1
            if now >= window.start && now <= window.end {
                stats.latencies.append(Double((now - sentAt).nanoseconds) / 1000)
                if (200..<300).contains(code) { stats.ok += 1 } else { stats.non2xx += 1 }
            }
            status = nil
            if now < window.end {
                send(context: context)
            } else {
                finished = true
                context.close(promise: nil)
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        stats.errors += 1
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !finished { stats.closedEarly += 1 }
        done.succeed(stats)
    }
}
