import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A WebSocket client written frame by frame on a bare socket, for tests of the protocol itself: it can send what
/// a library client never would (fragments, oversized or broken frames, several frames in one write) and reads each
/// frame as the server sent it. Its reads block: call them on a thread of their own (`onOwnThread`).
public final class RawWebSocket: @unchecked Sendable {
    /// One frame from the server.
    public struct Frame: Sendable, Equatable {
        public var fin: Bool
        public var opcode: UInt8
        public var payload: [UInt8]

        public var text: String { String(decoding: payload, as: UTF8.self) }
        /// A close frame's status code.
        public var closeCode: UInt16? {
            opcode == 0x8 && payload.count >= 2 ? UInt16(payload[0]) << 8 | UInt16(payload[1]) : nil
        }
    }

    public let connection: RawConnection
    /// The status of the server's answer to the upgrade request (101 when upgraded).
    public let status: Int

    private init(connection: RawConnection, status: Int) {
        self.connection = connection
        self.status = status
    }

    /// Connects and upgrades `/v1/realtime`. The server's answer is awaited on a thread of its own: the server in the
    /// same process needs the cooperative threads to accept the upgrade.
    public static func connect(port: Int) async throws -> RawWebSocket {
        let connection = try RawConnection(port: port)
        connection.write(
            "GET /v1/realtime HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        let status = try await onOwnThread { connection.readHead().status }
        return RawWebSocket(connection: connection, status: status)
    }

    /// One client frame, masked as RFC 6455 requires (with a random key).
    public static func frame(opcode: UInt8, fin: Bool = true, _ payload: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = [(fin ? 0x80 : 0) | opcode]
        switch payload.count {
        case ..<126: bytes.append(0x80 | UInt8(payload.count))
        case ...0xFFFF: bytes += [0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        default: bytes += [0x80 | 127] + (0..<8).reversed().map { UInt8((payload.count >> ($0 * 8)) & 0xFF) }
        }
        let key = (0..<4).map { _ in UInt8.random(in: 0...255) }
        bytes += key
        bytes += payload.enumerated().map { $0.element ^ key[$0.offset % 4] }
        return bytes
    }

    /// Sends bytes made of `frame(...)`s, in one write.
    public func send(_ bytes: [UInt8]) { connection.write(bytes) }

    /// Sends a text message in one frame.
    public func sendText(_ text: String) { send(Self.frame(opcode: 0x1, Array(text.utf8))) }

    /// The next frame from the server; nil once the connection ends.
    public func readFrame() -> Frame? {
        guard let head = connection.read(exactly: 2) else { return nil }
        var length = Int(head[1] & 0x7F)
        if length == 126 {
            guard let extended = connection.read(exactly: 2) else { return nil }
            length = Int(extended[0]) << 8 | Int(extended[1])
        } else if length == 127 {
            guard let extended = connection.read(exactly: 8) else { return nil }
            length = extended.reduce(0) { $0 << 8 | Int($1) }
        }
        guard let payload = length == 0 ? [] : connection.read(exactly: length) else { return nil }
        return Frame(fin: head[0] & 0x80 != 0, opcode: head[0] & 0x0F, payload: payload)
    }

    /// The next data frame (text or continuation), answering or skipping control frames; nil at a close or the end.
    public func readDataFrame() -> Frame? {
        while let frame = readFrame() {
            switch frame.opcode {
            case 0x0, 0x1, 0x2: return frame
            case 0x8: return nil
            default: continue
            }
        }
        return nil
    }

    /// Reads until the server's close frame; its status code, or nil if the connection ended without one.
    public func readCloseCode() -> UInt16? {
        while let frame = readFrame() {
            if frame.opcode == 0x8 { return frame.closeCode }
        }
        return nil
    }
}
