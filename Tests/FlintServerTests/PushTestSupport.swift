import AsyncHTTPClient
import FlintCore
@testable import FlintServer
import FlintTestSupport
import Foundation
import HTTPTypes
import Testing

/// The Python push stand-ins (Tests/PushStandIn/standin.py): APNs over HTTP/2 with TLS, FCM and its token endpoint,
/// a Web Push service and a webhook receiver, each checking what the real one checks. One process per test.
final class PushStandIn: Sendable {
    let process: Process
    let input: Pipe
    let directory: TemporaryDirectory
    /// What the stand-in made: ports, key files, the Web Push subscription's keys.
    let setup: JSON

    var plainURL: String { "http://127.0.0.1:\(setup["plainPort"]!.integerValue!)" }
    var tlsURL: String { "https://127.0.0.1:\(setup["tlsPort"]!.integerValue!)" }
    func string(_ key: String) -> String { setup[key]!.stringValue! }

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../PushStandIn/standin.py").path

    private init(process: Process, input: Pipe, directory: TemporaryDirectory, setup: JSON) {
        self.process = process
        self.input = input
        self.directory = directory
        self.setup = setup
    }

    static func start() async throws -> PushStandIn {
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
    func stop() async {
        kill(process.processIdentifier, SIGKILL)
        _ = try? await onOwnThread { [process] in process.waitUntilExit() }
        directory.remove()
    }

    /// `FLINT_PUSH_CONFIG` for a server that sends every provider's traffic here.
    var configJSON: String {
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
    func requests(kind: String? = nil) async throws -> [JSON] {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: "\(plainURL)/_control/requests"), timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 16 << 20)
        guard case .array(let all) = try JSON(parsing: Array(body.readableBytesView)) else { return [] }
        return all.filter { kind == nil || $0["kind"]?.stringValue == kind }
    }

    /// The next requests whose path starts with `prefix` get these answers, in order (then the default success).
    /// Each answer: `{"status": 429, "headers": {...}, "body": {...}}`, `{"delay": 2}` to answer (as usual, or as given)
    /// after two seconds, or `{"hold": true}` to never answer.
    func script(_ prefix: String, _ responses: [JSON]) async throws {
        var request = HTTPClientRequest(url: "\(plainURL)/_control/script")
        request.method = .POST
        request.body = .bytes(JSON.object(["prefix": .string(prefix), "responses": .array(responses)]).serialized)
        _ = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
    }
}

/// A test's push server: the stand-ins, and a Flint server configured to use them, with an admin.
struct PushHarness: Sendable {
    static let adminID = "push-admin"
    static let adminSecret = "push-admin-secret-0123"

    let standIn: PushStandIn
    let http: HTTPTestClient
    let admin: HTTPTestClient.Session

    static func run<T: Sendable>(
        tune: @escaping @Sendable (inout PushConfiguration) -> Void = { _ in }, _ body: @Sendable (PushHarness) async throws -> T
    ) async throws -> T {
        let standIn = try await PushStandIn.start()
        do {
            var push = PushConfiguration()
            try push.applyProviders(standIn.configJSON)
            push.retryBaseMilliseconds = 10
            push.retryCapSeconds = 1
            push.leaseSeconds = 5
            tune(&push)
            let configured = push
            let result = try await TestServer.run(configure: {
                $0.adminClientID = adminID
                $0.adminClientSecret = adminSecret
                $0.push = configured
            }) { http in
                try await body(PushHarness(standIn: standIn, http: http, admin: try await http.serviceToken(clientID: adminID, secret: adminSecret)))
            }
            await standIn.stop()
            return result
        } catch {
            await standIn.stop()
            throw error
        }
    }

    /// Registers a device for `user` and returns its id.
    func register(_ user: HTTPTestClient.Session, _ body: JSON) async throws -> String {
        let reply = try await http.send(.post, "/v1/push/devices", body: body.text, headers: user.headers)
        guard reply.status == .created || reply.status == .ok, let id = try reply.json["id"]?.stringValue else {
            throw TestSupportError("registration failed: \(reply.status) \(reply.text)")
        }
        return id
    }

    /// A Web Push registration with the stand-in's subscription keys, at endpoint `/push/{name}`.
    func webPushDevice(_ name: String) -> JSON {
        .object([
            "platform": .string("webpush"),
            "subscription": .object([
                "endpoint": .string("\(standIn.plainURL)/push/\(name)"),
                "keys": .object(["p256dh": .string(standIn.string("p256dh")), "auth": .string(standIn.string("auth"))]),
            ]),
        ])
    }

    /// Sends a message as the admin; returns its id.
    func send(_ message: JSON, headers: HTTPFields = [:]) async throws -> String {
        var headers = headers
        headers[.authorization] = "Bearer \(admin.token)"
        let reply = try await http.send(.post, "/v1/push/messages", body: message.text, headers: headers)
        guard reply.status == .accepted, let id = try reply.json["id"]?.stringValue else {
            throw TestSupportError("send failed: \(reply.status) \(reply.text)")
        }
        return id
    }

    /// The message once none of its deliveries is queued or being sent.
    func settled(_ id: String) async throws -> JSON {
        try await eventually("message \(id) settles") {
            let message = try await http.send(.get, "/v1/push/messages/\(id)", headers: admin.headers).json
            return message["state"] == .string("done") ? message : nil
        }
    }
}

extension JSON {
    var doubleValue: Double? {
        switch self {
        case .double(let d): d
        case .integer(let i): Double(i)
        default: nil
        }
    }
}
