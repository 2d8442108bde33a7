import FlintCore
@testable import FlintServer
import FlintTestSupport
import Foundation
import Testing

/// The WebSocket layer of `/v1/realtime` itself (RFC 6455), seen from a client that writes frames by hand, and from a
/// third-party client (Python's `websockets`).
@Suite struct RealtimeWebSocketTests {
    @Test func messagesSentInOneWriteAreAnsweredAsSeparateMessages() async throws {
        try await TestServer.run { http in
            let socket = try await RawWebSocket.connect(port: try #require(http.port))
            #expect(socket.status == 101)
            // Three messages in one TCP write: the server answers each; its answers, written together, still arrive
            // as three messages of one frame each.
            socket.send((1...3).flatMap { RawWebSocket.frame(opcode: 0x1, Array(#"{"type":"ping","id":"p\#($0)"}"#.utf8)) })
            let frames = try await onOwnThread { (0..<4).compactMap { _ in socket.readDataFrame() } }
            #expect(frames.map(\.fin) == [true, true, true, true])
            #expect(frames.first.flatMap { try? JSON(parsing: $0.payload) }?.member("type") == .string("hello"))
            #expect(frames.dropFirst().map(\.text) == [#"{"id":"p1","type":"pong"}"#, #"{"id":"p2","type":"pong"}"#, #"{"id":"p3","type":"pong"}"#])
        }
    }

    @Test func aFragmentedMessageIsReassembledAndControlFramesBetweenItsFragmentsAreAnswered() async throws {
        try await TestServer.run { http in
            let socket = try await RawWebSocket.connect(port: try #require(http.port))
            let message = Array(#"{"type":"ping","id":"fragmented"}"#.utf8)
            socket.send(RawWebSocket.frame(opcode: 0x1, fin: false, Array(message[0..<10])))
            socket.send(RawWebSocket.frame(opcode: 0x9, Array("between".utf8)))
            socket.send(RawWebSocket.frame(opcode: 0x0, fin: false, Array(message[10..<20])))
            socket.send(RawWebSocket.frame(opcode: 0x0, fin: true, Array(message[20...])))
            let frames = try await onOwnThread { (0..<3).compactMap { _ in socket.readFrame() } }
            // hello, then the WebSocket pong (answered at once), then the reassembled message's answer.
            #expect(frames.map(\.opcode) == [0x1, 0xA, 0x1])
            #expect(frames.map(\.text).dropFirst() == ["between", #"{"id":"fragmented","type":"pong"}"#])
        }
    }

    @Test(arguments: [false, true])
    func aMessageOverTheSizeLimitClosesTheConnectionWith1009(fragmented: Bool) async throws {
        try await TestServer.run(configure: { $0.maximumBodySize = 4096 }) { http in
            let socket = try await RawWebSocket.connect(port: try #require(http.port))
            let message = Array(#"{"type":"ping","id":"\#(String(repeating: "x", count: 5000))"}"#.utf8)
            if fragmented {
                // Each frame is within the limit; together they are not.
                socket.send(RawWebSocket.frame(opcode: 0x1, fin: false, Array(message[..<3000])))
                socket.send(RawWebSocket.frame(opcode: 0x0, fin: true, Array(message[3000...])))
            } else {
                socket.send(RawWebSocket.frame(opcode: 0x1, message))
            }
            #expect(try await onOwnThread { socket.readCloseCode() } == 1009)
        }
    }

    @Test func aMessageAtTheSizeLimitIsTaken() async throws {
        try await TestServer.run(configure: { $0.maximumBodySize = 4096 }) { http in
            let socket = try await RawWebSocket.connect(port: try #require(http.port))
            let prefix = #"{"type":"ping","id":""#
            let message = prefix + String(repeating: "x", count: 4096 - prefix.utf8.count - 2) + #""}"#
            #expect(message.utf8.count == 4096)
            socket.sendText(message)
            let frames = try await onOwnThread { (0..<2).compactMap { _ in socket.readDataFrame() } }
            #expect(frames.last.flatMap { try? JSON(parsing: $0.payload) }?.member("type") == .string("pong"))
        }
    }

    @Test func aWebSocketPingIsAnsweredWithItsData() async throws {
        try await TestServer.run { http in
            let socket = try await RawWebSocket.connect(port: try #require(http.port))
            socket.send(RawWebSocket.frame(opcode: 0x9, Array("are you there".utf8)))
            let pong = try await onOwnThread { () -> RawWebSocket.Frame? in
                while let frame = socket.readFrame() { if frame.opcode == 0xA { return frame } }
                return nil
            }
            #expect(pong?.text == "are you there")
        }
    }

    @Test func theServerPingsAndClosesAClientThatStopsAnswering() async throws {
        try await TestServer.run(configure: { $0.realtimePingIntervalSeconds = 1 }) { http in
            let socket = try await RawWebSocket.connect(port: try #require(http.port))
            let outcome = try await onOwnThread { () -> (answered: Int, close: UInt16?) in
                var answered = 0
                while let frame = socket.readFrame() {
                    switch frame.opcode {
                    case 0x9 where answered < 2:
                        // The first two pings are answered: the connection stays open past them.
                        socket.send(RawWebSocket.frame(opcode: 0xA, frame.payload))
                        answered += 1
                    case 0x8:
                        return (answered, frame.closeCode)
                    default:
                        continue
                    }
                }
                return (answered, nil)
            }
            #expect(outcome.answered == 2)
            #expect(outcome.close == 1001)
        }
    }

    @Test func aClientCloseIsAnsweredAndTheConnectionEnds() async throws {
        try await TestServer.run { http in
            let socket = try await RawWebSocket.connect(port: try #require(http.port))
            socket.send(RawWebSocket.frame(opcode: 0x8, [0x03, 0xE8] + Array("bye".utf8)))
            let (close, after) = try await onOwnThread { (socket.readCloseCode(), socket.readFrame()) }
            #expect(close == 1000)
            #expect(after == nil)
        }
    }

    @Test func aFrameWithReservedBitsClosesTheConnectionWith1002() async throws {
        try await TestServer.run { http in
            let socket = try await RawWebSocket.connect(port: try #require(http.port))
            var frame = RawWebSocket.frame(opcode: 0x1, Array(#"{"type":"ping"}"#.utf8))
            frame[0] |= 0x40
            socket.send(frame)
            #expect(try await onOwnThread { socket.readCloseCode() } == 1002)
        }
    }

    @Test func pythonWebSocketsClientTalksToTheServer() async throws {
        try await TestServer.run { http in
            let port = try #require(http.port)
            // A document larger than one 64 KiB frame: its snapshot arrives as a fragmented message.
            let large = String(repeating: "y", count: 100_000)
            try await http.send(.put, "/v1/documents/c/big", body: #"{"text": "\#(large)"}"#)
            let output = try await runPython(Self.pythonClient, arguments: [String(port)])
            let result = try JSON(parsing: Array(output.utf8))
            #expect(result.member("hello") == .string("hello"))
            #expect(result.member("snapshotTextLength") == .integer(100_000))
            #expect(result.member("pong") == .string("fragmented"))
            #expect(result.member("pingAnswered") == .bool(true))
            #expect(result.member("closeCode") == .integer(1000))
        }
    }

    /// Connects with `websockets` (its sync client), listens to the large document, sends a fragmented `ping`
    /// message, a WebSocket ping, and closes; prints what it saw as JSON.
    static let pythonClient = #"""
        import json, sys
        from websockets.sync.client import connect
        port = sys.argv[1]
        result = {}
        with connect(f"ws://127.0.0.1:{port}/v1/realtime", max_size=None) as ws:
            result["hello"] = json.loads(ws.recv())["type"]
            ws.send(json.dumps({"type": "listen", "targetId": 1, "document": "c/big"}))
            snapshot = json.loads(ws.recv())
            result["snapshotTextLength"] = len(snapshot["documents"][0]["data"]["text"])
            ws.send(iter(['{"type": "ping",', ' "id": "fragmented"}']))
            result["pong"] = json.loads(ws.recv())["id"]
            result["pingAnswered"] = ws.ping().wait(10)
            ws.close()
            result["closeCode"] = ws.close_code
        print(json.dumps(result))
        """#
}
