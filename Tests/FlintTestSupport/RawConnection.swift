import Foundation

/// A blocking TCP connection to 127.0.0.1 for requests no HTTP client would send (a body cut short, chunked bodies,
/// paths with `..`, a WebSocket that stops reading). Use it on a thread of its own (`onOwnThread`).
public final class RawConnection: @unchecked Sendable {
    public let fd: Int32

    /// Connects; reads give up after 30 s. A small `receiveBufferSize` makes a reader that can fall behind.
    public init(port: Int, receiveBufferSize: Int32? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        if var size = receiveBufferSize {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw ServerProcessError("connect to \(port) failed") }
    }

    deinit { close(fd) }

    public func write(_ bytes: [UInt8]) {
        var done = 0
        while done < bytes.count {
            let sent = bytes[done...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return }
            done += sent
        }
    }

    public func write(_ text: String) { write(Array(text.utf8)) }

    /// Stops sending: the server sees the end of the stream.
    public func finishWriting() { shutdown(fd, Int32(SHUT_WR)) }

    /// Reads one response's status line and headers (and no body).
    public func readHead() -> (status: Int, head: String) {
        var data: [UInt8] = []
        var byte: UInt8 = 0
        while !data.suffix(4).elementsEqual([13, 10, 13, 10]) {
            guard recv(fd, &byte, 1, 0) == 1 else { break }
            data.append(byte)
        }
        let head = String(decoding: data, as: UTF8.self)
        let status = head.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        return (status, head)
    }
}

extension RawConnection {
    /// Reads exactly `count` bytes; nil if the connection ends (or a read times out) first.
    public func read(exactly count: Int) -> [UInt8]? {
        var data = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = data[done...].withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return nil }
            done += n
        }
        return data
    }
}
