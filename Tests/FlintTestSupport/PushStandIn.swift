import AsyncHTTPClient
import FlintCore
import Foundation
import NIOCore
import NIOHTTP1

/// The Python push stand-ins (Tests/PushStandIn/standin.py): APNs over HTTP/2 with TLS, FCM and its token endpoint,
/// a Web Push service and a webhook receiver, each checking what the real one checks. One process per test.
public final class PushStandIn: Sendable {
    let process: Process
    let input: Pipe
    let directory: TemporaryDirectory
    /// What the stand-in made: ports, key files, the Web Push subscription's keys.
    public let setup: JSON

    public var plainURL: String { "http://127.0.0.1:\(string("plainPort"))" }
    public var tlsURL: String { "https://127.0.0.1:\(string("tlsPort"))" }

    /// A value the stand-in reported at start-up, as text (the stand-in always reports these keys).
    public func string(_ key: String) -> String {
        switch setup[key] {
        case .string(let text)?: text
        case .integer(let number)?: String(number)
        default: preconditionFailure("the push stand-in reported no \(key)")
        }
    }

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../PushStandIn/standin.py").path

    private init(process: Process, input: Pipe, directory: TemporaryDirectory, setup: JSON) {
        self.process = process
        self.input = input
        self.directory = directory
        self.setup = setup
    }

    public static func start() async throws -> PushStandIn {
        let directory = try TemporaryDirectory()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, directory.path]
        let output = Pipe()
        process.standardOutput = output
        // The stand-in exits when this pipe closes, so it never outlives the test process.
        let input = Pipe()
        process.standardInput = input
        try process.run()
        let line = try await onOwnThread { () throws -> String in
            var buffer = Data()
            while true {
                let chunk = output.fileHandleForReading.availableData
                if chunk.isEmpty { throw TestSupportError("the push stand-in exited before it was ready") }
                buffer.append(chunk)
                if let line = String(decoding: buffer, as: UTF8.self).split(separator: "\n").first(where: { $0.hasPrefix("READY ") }) {
                    return String(line.dropFirst("READY ".count))
                }
            }
        }
        return PushStandIn(process: process, input: input, directory: directory, setup: try JSON(parsing: line))
    }

    /// Kills the stand-in (SIGKILL: the test process ignores SIGTERM, and its children inherit that) and waits for it
    /// on a thread of its own.
    public func stop() async {
        kill(process.processIdentifier, SIGKILL)
        _ = try? await onOwnThread { [process] in process.waitUntilExit() }
        directory.remove()
    }

    /// `FLINT_PUSH_CONFIG` for a server that sends every provider's traffic here.
    public var configJSON: String {
        JSON.object([
            "caCertificatePath": .string(string("caPath")),
            "apns": .object([
                "keyPath": .string(string("apnsKeyPath")), "keyId": .string(string("apnsKeyId")), "teamId": .string(string("apnsTeamId")),
                "topic": .string("com.example.flint"), "baseURL": .string(tlsURL),
            ]),
            "fcm": .object(["serviceAccountPath": .string(string("serviceAccountPath")), "baseURL": .string(plainURL)]),
            "webpush": .object(["subject": .string(string("vapidSubject")), "endpointPrefixes": .array([.string("\(plainURL)/push/")])]),
            "webhook": .object(["url": .string("\(plainURL)/webhook"), "secret": .string(string("webhookSecret"))]),
        ]).text
    }

    /// Every request the stand-ins received, in order.
    public func requests(kind: String? = nil) async throws -> [JSON] {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: "\(plainURL)/_control/requests"), timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 16 << 20)
        guard case .array(let all) = try JSON(parsing: Array(body.readableBytesView)) else { return [] }
        return all.filter { kind == nil || $0["kind"] == .string(kind ?? "") }
    }

    /// The next requests whose path starts with `prefix` get these answers, in order (then the default success).
    /// Each answer: `{"status": 429, "headers": {...}, "body": {...}}`, `{"delay": 2}` to answer (as usual, or as given)
    /// after two seconds, or `{"hold": true}` to never answer.
    public func script(_ prefix: String, _ responses: [JSON]) async throws {
        var request = HTTPClientRequest(url: "\(plainURL)/_control/script")
        request.method = .POST
        request.body = .bytes(JSON.object(["prefix": .string(prefix), "responses": .array(responses)]).serialized)
        _ = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
    }
}
