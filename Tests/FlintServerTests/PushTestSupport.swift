import AsyncHTTPClient
import FlintCore
@testable import FlintServer
import FlintTestSupport
import Foundation
import HTTPTypes
import Testing

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
