import AsyncHTTPClient
import FlintCore
import Foundation
import NIOCore
import NIOHTTP1

/// The Python push stand-ins (Tests/PushStandIn/standin.py): APNs over HTTP/2 with TLS, FCM and its token endpoint,
/// a Web Push service and a webhook receiver, each checking what the real one checks. One process per test.
public final class PushStandIn: Sendable {
    let pid: pid_t
    /// The write end of the stand-in's standard input.
    let input: Int32
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

    private init(pid: pid_t, input: Int32, directory: TemporaryDirectory, setup: JSON) {
        self.pid = pid
        self.input = input
        self.directory = directory
        self.setup = setup
    }

    public static func start() async throws -> PushStandIn {
        let directory = try TemporaryDirectory()
        // The stand-in exits when this pipe closes, so it never outlives the test process.
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { throw TestSupportError("pipe failed: \(String(cString: strerror(errno)))") }
        // Children started by posix_spawn here close every descriptor above 2; these guard against any other.
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        defer { close(ends[0]) }
        let (pid, line) = try await spawn(
            "/usr/bin/env", ["python3", script, directory.path], inputDescriptor: ends[0], output: directory.path + "/standin.out",
            untilLineContaining: "READY ")
        guard let ready = line.range(of: "READY ") else { throw TestSupportError("the push stand-in said \(line)") }
        return PushStandIn(pid: pid, input: ends[1], directory: directory, setup: try JSON(parsing: String(line[ready.upperBound...])))
    }

    /// Kills the stand-in (SIGKILL: the test process ignores SIGTERM, and its children inherit that) and waits for it
    /// on a thread of its own.
    public func stop() async {
        kill(pid, SIGKILL)
        close(input)
        _ = try? await onOwnThread { [pid] in try waitForExit(pid) }
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
