import ArgumentParser
import FlintCore
import NIOHTTP1

/// `flint users …`: the server's users.
struct Users: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, create, disable, enable and delete users; set custom claims.",
        discussion: """
            Examples:
              flint users list
              flint users create ann@example.com --password 'correct horse battery'
              flint users get 3hV0kQ…
              flint users disable 3hV0kQ…
              flint users claims set 3hV0kQ… '{"role": "editor"}'
              flint users delete 3hV0kQ…
            """,
        subcommands: [UsersList.self, UsersGet.self, UsersCreate.self, UsersDisable.self, UsersEnable.self, UsersDelete.self, UsersClaims.self])

    /// The table of users that several commands print.
    static func table(_ users: [JSON], _ output: Output) {
        output.table(
            ["UID", "EMAIL", "PROVIDER", "DISABLED", "CLAIMS", "CREATED"],
            users.map { user in
                let disabled = user["disabled"] == .bool(true)
                let claims = user["claims"].map { $0 == .object([:]) ? "" : $0.text } ?? ""
                return [user["uid"].display, user["email"].display, user["provider"].display,
                        disabled ? output.styled("disabled", .red) : "", claims, user["createTime"].display]
            })
    }

    /// One user as `key: value` lines.
    static func show(_ user: JSON, _ output: Output) {
        output.fields([
            ("uid", user["uid"].display), ("email", user["email"].display), ("provider", user["provider"].display),
            ("anonymous", user["anonymous"].display), ("disabled", user["disabled"].display),
            ("claims", user["claims"]?.text ?? "{}"), ("created", user["createTime"].display),
        ])
    }
}

/// `flint users list`
struct UsersList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List users in uid order.",
        discussion: """
            Reads every page of the admin API's listing unless --limit stops earlier.

            Examples:
              flint users list
              flint users list --limit 20 --json
            """)

    @OptionGroup var global: GlobalOptions
    @Option(help: "The most users to list.") var limit: Int?

    func run() async throws {
        let output = global.output
        let users = try await global.client().list("/v1/admin/users", key: "users", limit: limit)
        output.document(.object(["users": .array(users)]))
        Users.table(users, output)
    }

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }
}

/// `flint users get`
struct UsersGet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get", abstract: "Show one user.",
        discussion: """
            Examples:
              flint users get 3hV0kQ…
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The user's uid.") var uid: String

    func run() async throws {
        let output = global.output
        let user = try await global.client().json(.GET, "/v1/admin/users/\(percentEncoded(uid))")
        output.document(user)
        Users.show(user, output)
    }
}

/// `flint users create`
struct UsersCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Create an email/password user.",
        discussion: """
            Without --password the user cannot sign in with a password until one is set.

            Examples:
              flint users create ann@example.com --password 'correct horse battery'
              flint users create bob@example.com --disabled
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The user's email address.") var email: String
    @Option(help: "The password (the server's length policy applies).") var password: String?
    @Flag(help: "Create the user disabled.") var disabled = false

    func run() async throws {
        let output = global.output
        var body: [String: JSON] = ["email": .string(email)]
        if let password { body["password"] = .string(password) }
        if disabled { body["disabled"] = .bool(true) }
        let user = try await global.client().json(.POST, "/v1/admin/users", body: .object(body))
        output.document(user)
        output.line("Created user \(user["uid"].display) (\(user["email"].display))")
    }
}

/// Sets a user's `disabled` flag.
private func setDisabled(_ disabled: Bool, uid: String, global: GlobalOptions) async throws {
    let output = global.output
    let user = try await global.client().json(.PATCH, "/v1/admin/users/\(percentEncoded(uid))", body: .object(["disabled": .bool(disabled)]))
    output.document(user)
    output.line(disabled ? "Disabled \(uid): it cannot sign in, and its refresh tokens are revoked" : "Enabled \(uid)")
}

/// `flint users disable`
struct UsersDisable: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disable", abstract: "Disable a user: no sign-in, refresh tokens revoked.",
        discussion: """
            Examples:
              flint users disable 3hV0kQ…
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The user's uid.") var uid: String

    func run() async throws { try await setDisabled(true, uid: uid, global: global) }
}

/// `flint users enable`
struct UsersEnable: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enable", abstract: "Enable a disabled user.",
        discussion: """
            Examples:
              flint users enable 3hV0kQ…
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The user's uid.") var uid: String

    func run() async throws { try await setDisabled(false, uid: uid, global: global) }
}

/// `flint users delete`
struct UsersDelete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Delete a user and revoke their tokens.",
        discussion: """
            The user's documents and files stay; delete them separately if they should go too.

            Examples:
              flint users delete 3hV0kQ…
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The user's uid.") var uid: String

    func run() async throws {
        let output = global.output
        _ = try await global.client().json(.DELETE, "/v1/admin/users/\(percentEncoded(uid))")
        output.document(.object(["uid": .string(uid), "deleted": .bool(true)]))
        output.line("Deleted user \(uid)")
    }
}

/// `flint users claims …`
struct UsersClaims: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "claims", abstract: "Read or set a user's custom claims.",
        discussion: """
            Custom claims appear in the user's next access tokens (after sign-in or refresh) and in rules as \
            request.auth.token.

            Examples:
              flint users claims get 3hV0kQ…
              flint users claims set 3hV0kQ… '{"role": "editor", "teams": ["a", "b"]}'
              flint users claims set 3hV0kQ… '{}'
            """,
        subcommands: [UsersClaimsGet.self, UsersClaimsSet.self])
}

/// `flint users claims get`
struct UsersClaimsGet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get", abstract: "Print a user's custom claims as JSON.",
        discussion: """
            Examples:
              flint users claims get 3hV0kQ…
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The user's uid.") var uid: String

    func run() async throws {
        let user = try await global.client().json(.GET, "/v1/admin/users/\(percentEncoded(uid))")
        Terminal.out((user["claims"] ?? .object([:])).text + "\n")
    }
}

/// `flint users claims set`
struct UsersClaimsSet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set", abstract: "Replace a user's custom claims with a JSON object.",
        discussion: """
            The object replaces all earlier claims; '{}' removes them. At most 1000 bytes of JSON; reserved names \
            such as sub and exp are refused.

            Examples:
              flint users claims set 3hV0kQ… '{"role": "editor"}'
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The user's uid.") var uid: String
    @Argument(help: ArgumentHelp("The claims, a JSON object.", valueName: "json")) var claims: String

    func run() async throws {
        let output = global.output
        let parsed = try jsonObject(claims, named: "the claims argument", example: #"{"role": "editor"}"#)
        let user = try await global.client().json(.PUT, "/v1/admin/users/\(percentEncoded(uid))/claims", body: parsed)
        output.document(user)
        output.line("Set the claims of \(uid): \((user["claims"] ?? parsed).text)")
    }
}
