import ArgumentParser
import FlintCore
import NIOHTTP1

/// `flint clients …`: OAuth clients and service accounts.
struct Clients: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, list and delete OAuth clients and service accounts.",
        discussion: """
            A confidential client gets a secret, shown once; a service account is a confidential client that uses \
            the client-credentials grant (give it the admin scope to run this tool). A public client (an app that \
            cannot keep a secret) signs users in with PKCE and redirect URIs.

            Examples:
              flint clients create --name deploy-bot --scope admin
              flint clients create --name web --public --redirect-uri https://app.example/cb
              flint clients list
              flint clients delete 5bK2…
            """,
        subcommands: [ClientsCreate.self, ClientsList.self, ClientsDelete.self])
}

/// `flint clients create`
struct ClientsCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Register a client; a confidential client's secret is shown once.",
        discussion: """
            Examples:
              flint clients create --name deploy-bot --scope admin
              flint clients create --name web --public --redirect-uri https://app.example/cb
            """)

    @OptionGroup var global: GlobalOptions
    @Option(help: "A name for people.") var name: String?
    @Option(name: .customLong("scope"), help: "A scope it may ask for (repeat for several): admin, openid, email, profile.")
    var scopes: [String] = []
    @Option(name: .customLong("redirect-uri"), help: "A redirect URI for the authorization-code flow (repeatable).")
    var redirectURIs: [String] = []
    @Flag(name: .customLong("public"), help: "A public client: no secret, PKCE only.") var isPublic = false

    func run() async throws {
        let output = global.output
        var body: [String: JSON] = [
            "scopes": .array(scopes.map(JSON.string)), "redirect_uris": .array(redirectURIs.map(JSON.string)), "public": .bool(isPublic),
        ]
        if let name { body["name"] = .string(name) }
        let client = try await global.client().json(.POST, "/v1/admin/clients", body: .object(body))
        output.document(client)
        output.fields([("client id", client["client_id"].display)] + (client["client_secret"].map { [("client secret", $0.display)] } ?? []))
        if client["client_secret"] != nil {
            output.line(output.styled("The secret is shown only now; store it safely.", .yellow))
        }
    }
}

/// `flint clients list`
struct ClientsList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the clients (never their secrets).",
        discussion: """
            Examples:
              flint clients list
              flint clients list --json
            """)

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let output = global.output
        let reply = try await global.client().json(.GET, "/v1/admin/clients")
        output.document(reply)
        let clients = reply["clients"]?.items ?? []
        output.table(
            ["CLIENT ID", "NAME", "SCOPES", "TYPE", "REDIRECT URIS"],
            clients.map { client in
                [client["client_id"].display, client["name"].display, client["scopes"].display,
                 client["public"] == .bool(true) ? "public" : "confidential", client["redirect_uris"].display]
            })
    }
}

/// `flint clients delete`
struct ClientsDelete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Delete a client; its tokens stop working when they expire.",
        discussion: """
            Examples:
              flint clients delete 5bK2…
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The client id.") var clientID: String

    func run() async throws {
        let output = global.output
        _ = try await global.client().json(.DELETE, "/v1/admin/clients/\(percentEncoded(clientID))")
        output.document(.object(["client_id": .string(clientID), "deleted": .bool(true)]))
        output.line("Deleted client \(clientID)")
    }
}
