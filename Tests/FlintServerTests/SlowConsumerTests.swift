import FlintCore
@testable import FlintServer
import FlintTestSupport
import Foundation
import Hummingbird
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A client that stops reading is closed with 4001 once its outbound queue is full; the others keep receiving.
@Suite struct SlowConsumerTests {
    /// A WebSocket client on a bare TCP socket that can stop reading, so that the server's writes back up.
    final class StalledSocket: @unchecked Sendable {
        let connection: RawConnection
        var fd: Int32 { connection.fd }

        init(port: Int) throws {
            connection = try RawConnection(port: port, receiveBufferSize: 4096)
            connection.write("GET /v1/realtime HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        }

        /// Sends a masked text frame (the mask key is zero, so the payload goes as it is).
        func sendText(_ text: String) {
            let payload = Array(text.utf8)
            precondition(payload.count < 126)
            connection.write([0x81, 0x80 | UInt8(payload.count), 0, 0, 0, 0] + payload)
        }

        /// Reads until the server's close frame arrives (or the connection ends); returns the frame's close code.
        func readUntilClosed() -> UInt16? {
            var data: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n <= 0 { return Self.closeCode(in: data) }
                data += buffer[0..<n]
                if let code = Self.closeCode(in: data) { return code }
            }
        }

        /// The close code of the first close frame after the HTTP head, if it has arrived whole.
        static func closeCode(in data: [UInt8]) -> UInt16? {
            guard let headerEnd = data.indices.first(where: { data[$0...].starts(with: [13, 10, 13, 10]) }) else { return nil }
            var i = headerEnd + 4
            while i + 2 <= data.count {
                let opcode = data[i] & 0x0F
                var length = Int(data[i + 1] & 0x7F)
                var start = i + 2
                if length == 126 {
                    guard i + 4 <= data.count else { return nil }
                    length = Int(data[i + 2]) << 8 | Int(data[i + 3])
                    start = i + 4
                } else if length == 127 {
                    guard i + 10 <= data.count else { return nil }
                    length = (0..<8).reduce(0) { $0 << 8 | Int(data[i + 2 + $1]) }
                    start = i + 10
                }
                guard start <= data.count else { return nil }
                if opcode == 0x8, length >= 2, start + 2 <= data.count {
                    return UInt16(data[start]) << 8 | UInt16(data[start + 1])
                }
                i = start + length
            }
            return nil
        }
    }

    @Test func aReaderThatFallsBehindIsClosedAndOthersKeepReceiving() async throws {
        try await TestServer.run(configure: { $0.realtimeMaximumQueuedBytes = 64 * 1024 }) { http in
            let port = try #require(http.port)
            let stalled = try StalledSocket(port: port)
            stalled.sendText(#"{"type":"listen","targetId":1,"query":{"collection":"c"}}"#)
            let healthy = RealtimeTestClient(port: port)
            defer { healthy.close() }
            healthy.send(#"{"type": "listen", "targetId": 1, "query": {"collection": "c"}}"#)
            #expect(await healthy.next(ofType: "snapshot") != nil)

            // About 12 MB of changes: far more than the kernel buffers and the 64 KiB queue hold.
            let payload = String(repeating: "x", count: 20_000)
            let commits = 600
            for i in 0..<commits {
                try await http.send(.put, "/v1/documents/c/d\(i % 10)", body: #"{"i": \#(i), "p": "\#(payload)"}"#)
            }
            var received = 0
            while received < commits, await healthy.next(ofType: "changes") != nil { received += 1 }
            #expect(received == commits)
            // The read blocks until the server closes: on a thread of its own, so the server here can act.
            #expect(try await onOwnThread { stalled.readUntilClosed() } == 4001)
        }
    }
}
