import ArgumentParser
import Foundation

/// The options every command that talks to a server takes: which server and credentials, and the output form.
struct GlobalOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The server's URL, such as http://127.0.0.1:8080 (or FLINT_URL); default: the profile's.", valueName: "url"))
    var url: String?

    @Option(help: ArgumentHelp("The stored credentials to use (or FLINT_PROFILE).", valueName: "name"))
    var profile: String?

    @Flag(help: "Print one JSON document for scripts instead of text.")
    var json = false

    /// The profile's name: `--profile`, else `FLINT_PROFILE`, else "default".
    var profileName: String {
        profile ?? ProcessInfo.processInfo.environment["FLINT_PROFILE"].flatMap { $0.isEmpty ? nil : $0 } ?? "default"
    }

    /// The URL given on the command line or in `FLINT_URL`, checked, without a trailing slash.
    func explicitURL() throws -> String? {
        let given = url ?? ProcessInfo.processInfo.environment["FLINT_URL"].flatMap { $0.isEmpty ? nil : $0 }
        return try given.map(Self.checkedURL)
    }

    static func checkedURL(_ text: String) throws -> String {
        var url = text
        while url.hasSuffix("/") { url.removeLast() }
        guard let components = URLComponents(string: url), let scheme = components.scheme, ["http", "https"].contains(scheme),
            components.host?.isEmpty == false, components.query == nil, components.path.isEmpty
        else {
            throw CLIError("\"\(text)\" is not a server URL; give one such as http://127.0.0.1:8080")
        }
        return url
    }

    var output: Output { Output(json: json) }

    /// A client for the selected server: the URL from `--url` or `FLINT_URL` or the profile; the profile's
    /// credentials when there are some.
    /// - Parameter authenticated: whether the command needs credentials (then a missing profile is an error).
    func client(authenticated: Bool = true) throws -> APIClient {
        let store = ProfileStore()
        let profile = try store.profile(profileName)
        guard let url = try explicitURL() ?? profile?.url else {
            if authenticated { throw CLIError.notLoggedIn(profile: profileName) }
            throw CLIError("no server given; use --url, FLINT_URL or `flint login`")
        }
        if authenticated, profile == nil { throw CLIError.notLoggedIn(profile: profileName) }
        return APIClient(baseURL: url, profileName: profileName, profile: profile, store: store)
    }
}

/// The output option of the commands that need no server (`flint init`, `flint rules test`).
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print one JSON document for scripts instead of text.")
    var json = false

    var output: Output { Output(json: json) }
}
