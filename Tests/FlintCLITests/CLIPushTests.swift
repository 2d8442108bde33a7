import FlintCore
import FlintServer
import FlintTestSupport
import Testing

/// `flint push send|status|dead-letters [retry]` against a server whose providers are the push stand-ins
/// (Tests/PushStandIn), with one attempt per delivery so that a scripted failure makes a dead letter.
@Suite struct CLIPushTests {
    /// Runs `body` with the stand-ins running and a CLI server sending to them.
    static func run(_ body: @Sendable (CLIServer.Context, PushStandIn) async throws -> Void) async throws {
        let standIn = try await PushStandIn.start()
        do {
            var push = PushConfiguration()
            try push.applyProviders(standIn.configJSON)
            push.maximumAttempts = 1
            let configured = push
            try await CLIServer.run(configure: { $0.push = configured }) { context in try await body(context, standIn) }
            await standIn.stop()
        } catch {
            await standIn.stop()
            throw error
        }
    }

    @Test func aMessageIsSentFollowedAndItsDeadLettersRetried() async throws {
        try await Self.run { context, standIn in
            let cli = context.cli
            try await context.login()
            try await standIn.script("/webhook", [.object(["status": .integer(503)]), .object(["status": .integer(503)])])
            let ann = try await context.http.signUp("ann@example.com")
            let registered = try await context.http.send(
                .post, "/v1/push/devices", body: #"{"platform": "webhook", "token": "ann-inbox"}"#, headers: ann.headers)
            guard case .string(let device)? = try registered.json["id"] else { throw TestSupportError("registration failed: \(registered.text)") }

            let sent = try await cli.run(["push", "send", "--uid", ann.uid, "--title", "Hi", "--data", #"{"room": "r1"}"#, "--idempotency-key", "k1", "--json"])
            expectSuccess(sent)
            guard case .string(let id)? = try sent.json["id"] else { throw TestSupportError("no message id in \(sent)") }
            #expect(try sent.json["deliveries"] == .integer(1))
            let again = try await cli.run(["push", "send", "--uid", ann.uid, "--title", "Hi", "--data", #"{"room": "r1"}"#, "--idempotency-key", "k1"])
            expectSuccess(again)
            #expect(again.stdout.contains("Already sent as message \(id)"))

            let dead = try await eventually("the delivery becomes a dead letter") {
                let status = try await cli.run(["push", "status", id, "--json"])
                return try status.json["state"] == .string("done") ? try status.json : nil
            }
            #expect(dead["counts"]?["dead"] == .integer(1))
            #expect(dead["content"]?["notification"]?["title"] == .string("Hi"))
            #expect(dead["content"]?["data"] == .object(["room": .string("r1")]))
            guard case .string(let delivery)? = dead["deliveries"]?[0]?["id"] else { throw TestSupportError("no delivery in \(dead)") }
            #expect(dead["deliveries"]?[0]?["device"] == .string(device))
            let table = try await cli.run(["push", "status", id])
            expectSuccess(table)
            #expect(table.stdout.contains("1 dead") && table.stdout.contains(delivery))

            let letters = try await cli.run(["push", "dead-letters", "--json"])
            expectSuccess(letters)
            #expect(try letters.json["deadLetters"]?.arrayValue?.map { $0["id"] } == [.string(delivery)])
            let listed = try await cli.run(["push", "dead-letters", "list"])
            #expect(listed.stdout.hasPrefix("DELIVERY") && listed.stdout.contains(delivery))

            let retried = try await cli.run(["push", "dead-letters", "retry", delivery, "--json"])
            expectSuccess(retried)
            #expect(try retried.json == .object(["retried": .integer(1)]))
            // The retried delivery gets a fresh attempt, fails again, and is back in the list with its attempt counted anew.
            try await eventually("the retried delivery is dead again") {
                let status = try await cli.run(["push", "status", id, "--json"])
                return try status.json["state"] == .string("done") && status.json["deliveries"]?[0]?["updateTime"] != dead["deliveries"]?[0]?["updateTime"]
            }
            let all = try await cli.run(["push", "dead-letters", "retry"])
            expectSuccess(all)
            #expect(all.stdout == "Queued 1 dead letter again\n")
            // The stand-in's script is used up: this third attempt is delivered.
            try await eventually("the delivery is delivered") {
                try await cli.run(["push", "status", id, "--json"]).json["counts"]?["delivered"] == .integer(1)
            }
            #expect(try await standIn.requests(kind: "webhook").count == 3)
            #expect(try await cli.run(["push", "dead-letters"]).stdout == "No dead letters\n")
            expectFailure(try await cli.run(["push", "dead-letters", "retry", "no-such-delivery"]), containing: "no dead letter no-such-delivery")
            expectFailure(try await cli.run(["push", "status", "no-such-message"]), containing: "no message no-such-message")
        }
    }

    @Test func badSendsAreRefusedBeforeOrByTheServer() async throws {
        try await Self.run { context, _ in
            let cli = context.cli
            try await context.login()
            let noTarget = try await cli.run(["push", "send", "--title", "x"])
            #expect(noTarget.status == 64, "a usage error: \(noTarget)")
            #expect(noTarget.stderr.contains("name a target"))
            let noContent = try await cli.run(["push", "send", "--topic", "news"])
            #expect(noContent.status == 64)
            #expect(noContent.stderr.contains("give a notification"))
            expectFailure(try await cli.run(["push", "send", "--topic", "news", "--data", "[1]"]), containing: "--data must be a JSON object")
            expectFailure(try await cli.run(["push", "send", "--topic", "news", "--data", "{x"]), containing: "--data is not valid JSON")
            expectFailure(try await cli.run(["push", "send", "--topic", "news", "--title", "x", "--priority", "urgent"]), containing: "priority must be \"high\" or \"normal\"")
            let sent = try await cli.run(["push", "send", "--topic", "nobody-listens", "--title", "x", "--json"])
            expectSuccess(sent)
            #expect(try sent.json["deliveries"] == .integer(0))
            let none = try await cli.run(["push", "dead-letters"])
            #expect(none.stdout == "No dead letters\n")
        }
    }
}
