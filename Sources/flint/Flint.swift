import ArgumentParser
import FlintCore
import Foundation

/// `flint`: the command-line tool of a Flint server, for people and scripts.
@main
struct Flint: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flint",
        abstract: "Deploy and test security rules, manage users, clients, data, files and push of a Flint server.",
        discussion: """
            Log in once with a service account that has the admin scope; the credentials are kept in \
            $XDG_CONFIG_HOME/flint/credentials.json (~/.config/flint without the variable), readable only by you. \
            --url (or FLINT_URL) and --profile (or FLINT_PROFILE) select another server.

            Every command prints tables for people and one JSON document with --json. It exits 0 on success and \
            1 with a one-line error on standard error otherwise. Colours appear only on a terminal, never with NO_COLOR.

            Examples:
              echo "$SECRET" | flint login --url http://127.0.0.1:8080 --client-id admin
              flint init
              flint rules test
              flint rules deploy
              flint users list
              flint data export > dump.ndjson
              flint files cp photo.png flint:avatars/alice.png
              flint push send --uid 3hV0kQ… --title Hello
              flint status
            """,
        version: FlintVersion.current,
        subcommands: [
            Login.self, Logout.self, Status.self, Init.self, Rules.self, Users.self, Clients.self, DataCommand.self, Files.self, Push.self,
        ])

    /// Runs the command; a `CLIError` (or any error that is not about the command line) becomes `error: …` on
    /// standard error and exit status 1. Usage errors, `--help` and `--version` are ArgumentParser's.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as CLIError {
            fail(error.message)
        } catch let error as CommandFailed {
            fail(error.summary)
        } catch let error as ExitCode {
            Flint.exit(withError: error)
        } catch {
            guard exitCode(for: error) == .failure else { Flint.exit(withError: error) }
            fail(APIClient.describe(error))
        }
    }

    /// `error: message` on one line of standard error, then exit 1.
    static func fail(_ message: String) -> Never {
        let oneLine = message.split(whereSeparator: \.isNewline).joined(separator: " ")
        Terminal.err(Style.red.apply("error:", if: Terminal.colours(Terminal.standardError)) + " " + oneLine + "\n")
        Foundation.exit(1)
    }
}
