import FlintCore

/// A failure the CLI reports as one line on standard error (`error: …`) before exiting with status 1.
struct CLIError: Error, CustomStringConvertible {
    /// What went wrong and, where it helps, what to do.
    var message: String
    /// The server's error code (`permission-denied`, …), when the server refused the request.
    var code: String? = nil
    /// The server's `error.details`, such as the diagnostics of a rules file.
    var details: JSON? = nil
    /// The HTTP status of the server's answer.
    var status: Int? = nil

    init(_ message: String, code: String? = nil, details: JSON? = nil, status: Int? = nil) {
        self.message = message
        self.code = code
        self.details = details
        self.status = status
    }

    var description: String { message }

    /// What to tell someone who is not logged in.
    static func notLoggedIn(profile: String) -> CLIError {
        CLIError(
            "not logged in (profile \"\(profile)\"); run `flint login --url URL --client-id ID --client-secret SECRET`"
                + (profile == "default" ? "" : " --profile \(profile)"))
    }
}

/// The command has already reported why it failed (a test report, compiler-style diagnostics): exit 1 after one
/// summary line.
struct CommandFailed: Error, CustomStringConvertible {
    var summary: String
    var description: String { summary }
}

/// A JSON object given on the command line, or a `CLIError` naming the argument and showing an example.
func jsonObject(_ text: String, named name: String, example: String) throws -> JSON {
    let parsed: JSON
    do {
        parsed = try JSON(parsing: text)
    } catch {
        throw CLIError("\(name) is not valid JSON: \(error.message)")
    }
    guard case .object = parsed else { throw CLIError("\(name) must be a JSON object such as '\(example)', not \(parsed.typeName)") }
    return parsed
}
