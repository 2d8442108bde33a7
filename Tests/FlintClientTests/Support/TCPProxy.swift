import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A TCP proxy on a loopback port in front of a server, for tests of going offline deterministically: `cut()` closes
/// every connection and refuses new ones until `restore()`; `holdReplies()` keeps the server's bytes from reaching
/// the client (a write applied whose answer never arrives). Blocking sockets, each on a thread of its own, never on
/// Swift concurrency's threads.
final class TCPProxy: Sendable {
    private struct State {
        var target: Int
        var isCut = false
        var holding = false
        var halfClosing = false
        /// Connections left half-closed (no pumps own them): closed by `restore()` and `close()`.
        var halfClosed: [Int32] = []
        var sockets: [Int32] = []
        var accepted = 0
        var refused = 0
        var closed = false
    }

    let port: Int
    private let listener: Int32
    private let state: Mutex<State>

    /// Starts listening on a free loopback port, forwarding to `targetPort`.
    init(targetPort: Int) throws {
        state = Mutex(State(target: targetPort))
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 64) == 0 else { throw ProxyError("cannot listen: errno \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        listener = fd
        let listener = fd
        Thread { [self] in self.acceptLoop(listener) }.start()
    }

    /// How many client connections the proxy has accepted (and forwarded) so far.
    var acceptedConnections: Int { state.withLock { $0.accepted } }
    /// How many connections the proxy turned away while cut.
    var refusedConnections: Int { state.withLock { $0.refused } }

    /// Points new connections at another port (a restarted server).
    func retarget(_ port: Int) { state.withLock { $0.target = port } }

    /// Closes every open connection and refuses new ones.
    func cut() {
        // Under the lock: a socket still listed has not been closed, so its number cannot have been reused.
        state.withLock { state in
            state.isCut = true
            for fd in state.sockets { shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }

    /// Accepts and forwards connections again.
    func restore() {
        state.withLock {
            $0.isCut = false
            $0.holding = false
            $0.halfClosing = false
            for fd in $0.halfClosed { Glibc.close(fd) }
            $0.halfClosed = []
        }
    }

    /// From now on, new connections are not forwarded: the proxy reads what the client sends first and closes its own
    /// sending side without answering (a server that goes away mid-handshake), until `restore()`.
    func halfCloseNewConnections() { state.withLock { $0.halfClosing = true } }

    /// From now on, the server's bytes are dropped instead of forwarded (until `cut()`).
    func holdReplies() { state.withLock { $0.holding = true } }

    func close() {
        state.withLock {
            $0.closed = true
            for fd in $0.halfClosed { Glibc.close(fd) }
            $0.halfClosed = []
        }
        cut()
        shutdown(listener, Int32(SHUT_RDWR))
        Glibc.close(listener)
    }

    private func acceptLoop(_ listener: Int32) {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if state.withLock({ $0.closed }) { return }
                if errno == EINTR { continue }
                return
            }
            let (isCut, halfClosing, target) = state.withLock { ($0.isCut, $0.halfClosing, $0.target) }
            if isCut {
                state.withLock { $0.refused += 1 }
                Glibc.close(client)
                continue
            }
            if halfClosing {
                // Read the request, then send FIN and keep the socket open: the client sees its input end, not a reset.
                var buffer = [UInt8](repeating: 0, count: 4096)
                _ = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
                shutdown(client, Int32(SHUT_WR))
                state.withLock {
                    $0.refused += 1
                    $0.halfClosed.append(client)
                }
                continue
            }
            let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(port: target)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            if connected != 0 {
                Glibc.close(client)
                Glibc.close(server)
                continue
            }
            state.withLock {
                $0.sockets += [client, server]
                $0.accepted += 1
            }
            let pair = Pair(client: client, server: server)
            Thread { [self] in self.pump(from: client, to: server, isReply: false, pair: pair) }.start()
            Thread { [self] in self.pump(from: server, to: client, isReply: true, pair: pair) }.start()
        }
    }

    private func pump(from source: Int32, to destination: Int32, isReply: Bool, pair: Pair) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        loop: while true {
            let n = buffer.withUnsafeMutableBytes { recv(source, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            if isReply, state.withLock({ $0.holding }) { continue }
            var sent = 0
            while sent < n {
                let m = buffer[sent..<n].withUnsafeBytes { send(destination, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if m <= 0 { break loop }
                sent += m
            }
        }
        shutdown(source, Int32(SHUT_RDWR))
        shutdown(destination, Int32(SHUT_RDWR))
        // Both sockets are closed by whichever direction ends last, so that neither writes to a number reused meanwhile.
        if pair.finishOne() {
            state.withLock { $0.sockets.removeAll { $0 == pair.client || $0 == pair.server } }
            Glibc.close(pair.client)
            Glibc.close(pair.server)
        }
    }

    /// The two sockets of one forwarded connection.
    private final class Pair: Sendable {
        let client: Int32
        let server: Int32
        private let finished = Mutex(0)

        init(client: Int32, server: Int32) {
            self.client = client
            self.server = server
        }

        /// Records that one direction ended; true for the second.
        func finishOne() -> Bool { finished.withLock { $0 += 1; return $0 == 2 } }
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}

struct ProxyError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
