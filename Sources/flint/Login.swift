#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import FlintCore
import Foundation

/// `flint login`: stores a service account's client credentials for a server.
struct Login: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Log in to a server with a service account's client credentials.",
        discussion: """
            The credentials are checked by obtaining an access token, then stored in \
            $XDG_CONFIG_HOME/flint/credentials.json (mode 0600, in a folder of mode 0700) under the profile's name. \
            Commands obtain new access tokens with them when the old one expires. The service account needs the \
            admin scope for the admin commands: the server's FLINT_ADMIN_CLIENT_ID and FLINT_ADMIN_CLIENT_SECRET \
            make one, and `flint clients create --scope admin` more.

            Without --client-secret the secret is read from FLINT_CLIENT_SECRET, or else from standard input (asked \
            for without echo on a terminal), which keeps it out of the shell's history and the process list.

            Examples:
              flint login --url http://127.0.0.1:8080 --client-id admin --client-secret "$S"
              echo "$SECRET" | flint login --url https://flint.example.com --client-id ci
              FLINT_CLIENT_SECRET="$S" flint login --url "$URL" --client-id ci --profile prod
            """)

    @OptionGroup var global: GlobalOptions

    @Option(name: .customLong("client-id"), help: "The service account's client id.")
    var clientID: String

    // Secrets are base64url: one in 64 begins with "-", which must not be read as an option.
    @Option(name: .customLong("client-secret"), parsing: .unconditional, help: "Its secret (or FLINT_CLIENT_SECRET, or standard input).")
    var clientSecret: String?

    func run() async throws {
        let output = global.output
        let store = ProfileStore()
        guard let url = try global.explicitURL() ?? (try store.profile(global.profileName))?.url else {
            throw CLIError("give the server's URL with --url or FLINT_URL")
        }
        let secret = try clientSecret ?? ProcessInfo.processInfo.environment["FLINT_CLIENT_SECRET"].flatMap { $0.isEmpty ? nil : $0 }
            ?? Self.readSecret()
        let grant = try await APIClient.clientCredentials(baseURL: url, clientID: clientID, secret: secret)
        var profile = Profile(url: url, clientID: clientID, clientSecret: secret)
        profile.accessToken = grant.token
        profile.tokenURL = url
        profile.expiresAt = Int64(Date().timeIntervalSince1970) + grant.expiresIn
        try store.save(profile, as: global.profileName)
        let scopes = grant.scope.split(separator: " ").map(String.init)
        output.document(.object([
            "profile": .string(global.profileName), "url": .string(url), "clientId": .string(clientID),
            "scopes": .array(scopes.map(JSON.string)), "credentials": .string(store.path),
        ]))
        output.line("Logged in to \(url) as \(clientID) (profile \(global.profileName)); credentials in \(store.path)")
        if !scopes.contains("admin") {
            let colours = Terminal.colours(Terminal.standardError)
            Terminal.err(Style.yellow.apply("warning:", if: colours) + " \(clientID) lacks the admin scope; the admin commands will be refused\n")
        }
    }

    /// A line from standard input; on a terminal, asked for with echo turned off.
    static func readSecret() throws -> String {
        let terminal = Terminal.isTerminal(Terminal.standardInput)
        var saved = termios()
        if terminal {
            Terminal.err("Client secret: ")
            tcgetattr(Terminal.standardInput, &saved)
            var silent = saved
            silent.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(Terminal.standardInput, TCSAFLUSH, &silent)
        }
        defer {
            if terminal {
                tcsetattr(Terminal.standardInput, TCSAFLUSH, &saved)
                Terminal.err("\n")
            }
        }
        guard let line = Swift.readLine(strippingNewline: true), !line.isEmpty else {
            throw CLIError("no client secret: give --client-secret, set FLINT_CLIENT_SECRET, or pass it on standard input")
        }
        return line
    }
}

/// `flint logout`: forgets a profile's credentials.
struct Logout: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Forget the stored credentials of a profile.",
        discussion: """
            Removes the profile from the credentials file; other profiles stay. The service account itself is \
            untouched on the server (delete it with `flint clients delete`).

            Examples:
              flint logout
              flint logout --profile prod
            """)

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let output = global.output
        let store = ProfileStore()
        let existed = try store.profile(global.profileName) != nil
        if existed { try store.save(nil, as: global.profileName) }
        output.document(.object(["profile": .string(global.profileName), "removed": .bool(existed)]))
        output.line(existed ? "Logged out (profile \(global.profileName))" : "Not logged in (profile \(global.profileName)); nothing to do")
    }
}
