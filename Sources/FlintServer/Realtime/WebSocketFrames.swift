import NIOCore

/// Server-to-client WebSocket frames (RFC 6455 section 5.2), written straight into one buffer: a server's frames are
/// never masked, so a message framed once can go, as the same bytes, to every connection that receives it.
enum WebSocketFrames {
    /// Outbound messages larger than this go out as several frames (a text message with continuations).
    static let fragmentSize = 64 * 1024

    enum Opcode: UInt8 {
        case continuation = 0x0
        case text = 0x1
        case binary = 0x2
        case close = 0x8
        case ping = 0x9
        case pong = 0xA
    }

    /// One text message: a single frame, or frames of `fragmentSize` bytes (text, then continuations).
    static func text(_ payload: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(payload.count + 10 * (payload.count / fragmentSize + 1))
        var start = 0
        var opcode = Opcode.text
        repeat {
            let end = min(start + fragmentSize, payload.count)
            writeHeader(opcode, fin: end == payload.count, length: end - start, into: &buffer)
            buffer.writeBytes(payload[start..<end])
            opcode = .continuation
            start = end
        } while start < payload.count
        return buffer
    }

    /// A control frame: ping, pong, or close (its payload at most 125 bytes, section 5.5).
    static func control(_ opcode: Opcode, payload: ByteBuffer) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(2 + payload.readableBytes)
        writeHeader(opcode, fin: true, length: payload.readableBytes, into: &buffer)
        buffer.writeImmutableBuffer(payload)
        return buffer
    }

    /// A close frame with its status code and a reason cut to fit a control frame (section 5.5.1).
    static func close(code: UInt16, reason: String) -> ByteBuffer {
        var payload = ByteBuffer()
        payload.writeInteger(code)
        // 123 bytes of reason at most, cut on a character boundary so that it stays valid UTF-8.
        var reasonBytes = 0
        for character in reason {
            let size = character.utf8.count
            if reasonBytes + size > 123 { break }
            reasonBytes += size
        }
        payload.writeBytes(reason.utf8.prefix(reasonBytes))
        return control(.close, payload: payload)
    }

    private static func writeHeader(_ opcode: Opcode, fin: Bool, length: Int, into buffer: inout ByteBuffer) {
        buffer.writeInteger((fin ? 0x80 : 0) | opcode.rawValue)
        switch length {
        case ..<126:
            buffer.writeInteger(UInt8(length))
        case ...Int(UInt16.max):
            buffer.writeInteger(UInt8(126))
            buffer.writeInteger(UInt16(length))
        default:
            buffer.writeInteger(UInt8(127))
            buffer.writeInteger(UInt64(length))
        }
    }
}
