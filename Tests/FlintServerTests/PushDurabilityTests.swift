import FlintCore
@testable import FlintServer
import FlintTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// An acknowledged message is never lost, and a server killed mid-send sends again after a restart.
@Suite struct PushDurabilityTests {
    @Test func aServerKilledMidSendSendsAgainAfterRestartAndLosesNothingAcknowledged() async throws {
        let standIn = try await PushStandIn.start()
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let arguments = [
            "--push-config", standIn.configJSON, "--push-lease", "2", "--push-retry-base-ms", "10", "--push-retry-cap", "1",
            "--admin-client-id", PushHarness.adminID, "--admin-client-secret", PushHarness.adminSecret, "--password-cost", "10",
        ]
        // The webhook stand-in holds the first request and never answers it.
        try await standIn.script("/webhook", [.object(["hold": .bool(true)])])
        let server = try await ServerProcess(dataDirectory: directory.path, arguments: arguments)
        let http = server.http
        let ann = try await http.signUp("ann@example.com")
        let admin = try await http.serviceToken(clientID: PushHarness.adminID, secret: PushHarness.adminSecret)
        let device = try #require(
            try await http.send(.post, "/v1/push/devices", body: #"{"platform": "webhook", "token": "ann-inbox"}"#, headers: ann.headers).json["id"]?
                .stringValue)
        var acknowledged: [String] = []
        for n in 0..<5 {
            let reply = try await http.send(
                .post, "/v1/push/messages", body: #"{"to": {"device": "\#(device)"}, "data": {"n": "\#(n)"}}"#, headers: admin.headers)
            #expect(reply.status == .accepted)
            acknowledged.append(try #require(try reply.json["id"]?.stringValue))
        }
        // Once the held request is in flight (and whatever else the server got to), kill it.
        _ = try await eventually("the stand-in holds a request") { try await standIn.requests(kind: "webhook").isEmpty ? nil : true }
        try await server.stop(signal: SIGKILL)
        let beforeRestart = try await standIn.requests(kind: "webhook")
        let held = try #require(beforeRestart.first?["headers"]?["flint-delivery"]?.stringValue)

        let restarted = try await ServerProcess(dataDirectory: directory.path, arguments: arguments)
        let again = try await restarted.http.serviceToken(clientID: PushHarness.adminID, secret: PushHarness.adminSecret)
        for id in acknowledged {
            let message = try await eventually("message \(id) is delivered after the restart") { () -> JSON? in
                let message = try await restarted.http.send(.get, "/v1/push/messages/\(id)", headers: again.headers).json
                return message["state"] == .string("done") ? message : nil
            }
            #expect(message["counts"]?["delivered"] == .integer(1), "acknowledged message \(id) was lost: \(message)")
        }
        // The delivery that was in flight when the server died was sent again (at-least-once), on a later attempt.
        let after = try await standIn.requests(kind: "webhook")
        let resent = after.filter { $0["headers"]?["flint-delivery"]?.stringValue == held }
        #expect(resent.count >= 2)
        #expect(resent.last?["json"]?["attempt"]?.integerValue ?? 0 >= 2)
        #expect(after.allSatisfy { $0["verified"] == .bool(true) })
        try await restarted.stop(signal: SIGTERM)
        await standIn.stop()
    }

    @Test func sigtermLetsTheSendInFlightFinishAndRecordsIt() async throws {
        let standIn = try await PushStandIn.start()
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let arguments = [
            "--push-config", standIn.configJSON, "--admin-client-id", PushHarness.adminID, "--admin-client-secret", PushHarness.adminSecret,
            "--password-cost", "10",
        ]
        // The webhook stand-in answers the first request after two seconds.
        try await standIn.script("/webhook", [.object(["delay": .integer(2)])])
        let server = try await ServerProcess(dataDirectory: directory.path, arguments: arguments)
        let ann = try await server.http.signUp("ann@example.com")
        let admin = try await server.http.serviceToken(clientID: PushHarness.adminID, secret: PushHarness.adminSecret)
        _ = try await server.http.send(.post, "/v1/push/devices", body: #"{"platform": "webhook", "token": "ann-inbox"}"#, headers: ann.headers)
        let id = try #require(
            try await server.http.send(.post, "/v1/push/messages", body: #"{"to": {"uid": "\#(ann.uid)"}, "data": {"a": "b"}}"#, headers: admin.headers)
                .json["id"]?.stringValue)
        _ = try await eventually("the send is in flight") { try await standIn.requests(kind: "webhook").isEmpty ? nil : true }
        #expect(try await server.stop(signal: SIGTERM) == 0)

        // The send finished before the server stopped, and its outcome was recorded: nothing is sent twice.
        let restarted = try await ServerProcess(dataDirectory: directory.path, arguments: arguments)
        let again = try await restarted.http.serviceToken(clientID: PushHarness.adminID, secret: PushHarness.adminSecret)
        let message = try await restarted.http.send(.get, "/v1/push/messages/\(id)", headers: again.headers).json
        #expect(message["deliveries"]?[0]?["state"] == .string("delivered"), "\(message)")
        #expect(message["deliveries"]?[0]?["attempts"] == .integer(1))
        try await restarted.stop(signal: SIGTERM)
        #expect(try await standIn.requests(kind: "webhook").count == 1)
        await standIn.stop()
    }
}
