import ArgumentParser
import FlintCore
import NIOHTTP1

/// `flint push …`: sending push messages, following them, and the dead-letter list.
struct Push: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send push messages, follow their deliveries, list and retry dead letters.",
        discussion: """
            A message goes to devices, users (every device of the uid) and topics; the server queues one delivery \
            per device and sends it through APNs, FCM, Web Push or a webhook, retrying with backoff. A delivery out \
            of attempts becomes a dead letter until it is retried.

            Examples:
              flint push send --uid 3hV0kQ… --title "New message" --body "Ann wrote to you"
              flint push send --topic news --data '{"article": "a17"}' --priority normal
              flint push status 9fQm…
              flint push dead-letters
              flint push dead-letters retry
            """,
        subcommands: [PushSend.self, PushStatus.self, PushDeadLetters.self])

    /// A message's deliveries as a table.
    static func deliveries(_ deliveries: [JSON], _ output: Output) {
        output.table(
            ["DELIVERY", "MESSAGE", "DEVICE", "PLATFORM", "STATE", "ATTEMPTS", "LAST ERROR"],
            deliveries.map { delivery in
                let state = delivery["state"].display
                let styled = switch state {
                case "delivered": output.styled(state, .green)
                case "dead", "failed": output.styled(state, .red)
                default: state
                }
                return [delivery["id"].display, delivery["message"].display, delivery["device"].display, delivery["platform"].display,
                        styled, delivery["attempts"].display, delivery["lastError"].display]
            })
    }
}

/// `flint push send`
struct PushSend: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send", abstract: "Queue a push message; prints its id and how many deliveries it made.",
        discussion: """
            Name at least one target (--device, --uid, --topic; each repeatable, 100 at most in all) and a \
            notification (--title, --body, --badge, --sound, --image), data (--data), or both. With \
            --idempotency-key, sending the same message again returns the first one's id instead of queueing it twice.

            Examples:
              flint push send --uid 3hV0kQ… --title "New message" --body "Ann wrote to you"
              flint push send --topic news --data '{"article": "a17"}' --priority normal --ttl 3600
              flint push send --device d1 --device d2 --badge 3 --idempotency-key order-1234
            """)

    @OptionGroup var global: GlobalOptions
    @Option(name: .customLong("device"), help: "A device id (repeatable).") var devices: [String] = []
    @Option(name: .customLong("uid"), help: "A user: every device registered to this uid (repeatable).") var uids: [String] = []
    @Option(name: .customLong("topic"), help: "A topic: every device subscribed to it (repeatable).") var topics: [String] = []
    @Option(help: "The notification's title.") var title: String?
    @Option(help: "The notification's text.") var body: String?
    @Option(help: "The number on the app's icon.") var badge: Int?
    @Option(help: "A sound name, or \"default\".") var sound: String?
    @Option(help: "An image URL (http or https).") var image: String?
    @Option(help: "Data for the app, a JSON object.") var data: String?
    @Option(help: "high (deliver at once) or normal (may wait to save battery).") var priority: String?
    @Option(help: "Seconds the push services keep trying to reach an offline device.") var ttl: Int?
    @Option(name: .customLong("collapse-key"), help: "Messages with the same key replace each other on the device.") var collapseKey: String?
    @Option(name: .customLong("idempotency-key"), help: "Makes a repeated send return the first message instead of a new one.")
    var idempotencyKey: String?

    func validate() throws {
        if devices.isEmpty && uids.isEmpty && topics.isEmpty { throw ValidationError("name a target: --device, --uid or --topic") }
        if title == nil && body == nil && badge == nil && sound == nil && image == nil && data == nil {
            throw ValidationError("give a notification (--title, --body, --badge, --sound, --image), --data, or both")
        }
    }

    func run() async throws {
        let output = global.output
        let targets: [JSON] = devices.map { .object(["device": .string($0)]) } + uids.map { .object(["uid": .string($0)]) }
            + topics.map { .object(["topic": .string($0)]) }
        var message: [String: JSON] = ["to": targets.count == 1 ? targets[0] : .array(targets)]
        var notification: [String: JSON] = [:]
        if let title { notification["title"] = .string(title) }
        if let body { notification["body"] = .string(body) }
        if let badge { notification["badge"] = .integer(Int64(badge)) }
        if let sound { notification["sound"] = .string(sound) }
        if let image { notification["image"] = .string(image) }
        if !notification.isEmpty { message["notification"] = .object(notification) }
        if let data { message["data"] = try jsonObject(data, named: "--data", example: #"{"article": "a17"}"#) }
        if let priority { message["priority"] = .string(priority) }
        if let ttl { message["ttl"] = .integer(Int64(ttl)) }
        if let collapseKey { message["collapseKey"] = .string(collapseKey) }
        if let idempotencyKey { message["idempotencyKey"] = .string(idempotencyKey) }
        let reply = try await global.client().json(.POST, "/v1/push/messages", body: .object(message))
        output.document(reply)
        let deliveries = reply["deliveries"].display
        if reply["duplicate"] == .bool(true) {
            output.line("Already sent as message \(reply["id"].display) (\(deliveries) deliveries); nothing new was queued")
        } else {
            output.line("Queued message \(reply["id"].display): \(deliveries) deliveries")
        }
    }
}

/// `flint push status`
struct PushStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show a message and where each of its deliveries stands.",
        discussion: """
            A message is pending while a delivery is queued or being sent, done after that. Each delivery is \
            queued, sending, delivered, failed (the device is gone or the service refused it) or dead (out of attempts).

            Examples:
              flint push status 9fQm…
              flint push status 9fQm… --json
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The message id that `flint push send` printed.") var id: String

    func run() async throws {
        let output = global.output
        let message = try await global.client().json(.GET, "/v1/push/messages/\(percentEncoded(id))")
        output.document(message)
        let counts = message["counts"].map { counts -> String in
            guard case .object(let members) = counts else { return "" }
            return members.filter { $0.value != .integer(0) }.sorted { $0.key < $1.key }.map { "\($0.value.display) \($0.key)" }
                .joined(separator: ", ")
        } ?? ""
        output.fields([
            ("message", message["id"].display), ("state", message["state"].display), ("created", message["createTime"].display),
            ("deliveries", counts.isEmpty ? "none" : counts),
        ])
        let deliveries = message["deliveries"]?.items ?? []
        if !deliveries.isEmpty {
            output.line()
            Push.deliveries(deliveries, output)
        }
    }
}

/// `flint push dead-letters`: lists them; `retry` puts them back in the queue.
struct PushDeadLetters: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dead-letters", abstract: "List the deliveries that ran out of attempts, or retry them.",
        discussion: """
            Examples:
              flint push dead-letters
              flint push dead-letters --json
              flint push dead-letters retry
              flint push dead-letters retry 7hQa…
            """,
        subcommands: [PushDeadLettersList.self, PushDeadLettersRetry.self], defaultSubcommand: PushDeadLettersList.self)
}

/// `flint push dead-letters [list]`
struct PushDeadLettersList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List dead letters, oldest first (the default).",
        discussion: """
            Reads every page unless --limit stops earlier.

            Examples:
              flint push dead-letters
              flint push dead-letters list --limit 20 --json
            """)

    @OptionGroup var global: GlobalOptions
    @Option(help: "The most dead letters to list.") var limit: Int?

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() async throws {
        let output = global.output
        let letters = try await global.client().list("/v1/admin/push/dead-letters", key: "deadLetters", limit: limit)
        output.document(.object(["deadLetters": .array(letters)]))
        if letters.isEmpty {
            output.line("No dead letters")
        } else {
            Push.deliveries(letters, output)
        }
    }
}

/// `flint push dead-letters retry [id]`
struct PushDeadLettersRetry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry", abstract: "Put one dead letter, or all of them, back in the queue with fresh attempts.",
        discussion: """
            Examples:
              flint push dead-letters retry
              flint push dead-letters retry 7hQa…
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "A dead letter's delivery id; all of them when left out.") var id: String?

    func run() async throws {
        let output = global.output
        let path = id.map { "/v1/admin/push/dead-letters/\(percentEncoded($0))/retry" } ?? "/v1/admin/push/dead-letters/retry"
        let reply = try await global.client().json(.POST, path)
        output.document(reply)
        let count = reply["retried"].display
        output.line("Queued \(count) dead \(count == "1" ? "letter" : "letters") again")
    }
}
