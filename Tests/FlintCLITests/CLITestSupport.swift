#if canImport(Glibc)
import Glibc
#endif
import FlintCore
import FlintServer
import FlintTestSupport
import Foundation
import Testing

/// What one run of the `flint` binary did.
struct CLIResult: Sendable, CustomStringConvertible {
    var status: Int32
    var stdout: String
    var stderr: String

    /// Standard output parsed as one JSON document.
    var json: JSON {
        get throws { try JSON(parsing: stdout) }
    }

    /// Standard error's lines, without empty ones.
    var errorLines: [Substring] { stderr.split(separator: "\n") }

    var description: String { "exit \(status)\n--- stdout\n\(stdout)--- stderr\n\(stderr)" }
}

/// Runs the built `flint` executable as a subprocess, with its own config folder (`XDG_CONFIG_HOME`), home and
/// working directory, and an environment that holds nothing from the test runner's (so no `NO_COLOR`, no `FLINT_*`).
struct CLI: Sendable {
    let folder: TemporaryDirectory
    /// `XDG_CONFIG_HOME` of every run.
    var configHome: String { folder.path + "/config" }
    /// The working directory of every run.
    var workingDirectory: String { folder.path + "/work" }
    /// Where `flint login` keeps the credentials.
    var credentialsPath: String { configHome + "/flint/credentials.json" }

    /// The executable built beside the test bundle (`swift build --build-tests` builds both).
    static var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("flint")
    }

    init() throws {
        folder = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: folder.path + "/work", withIntermediateDirectories: true)
        guard FileManager.default.isExecutableFile(atPath: Self.executable.path) else {
            throw TestSupportError("flint is not at \(Self.executable.path); build it with `swift build --build-tests`")
        }
    }

    func remove() { folder.remove() }

    /// Writes a file under the working directory (making folders) and returns its absolute path.
    @discardableResult
    func write(_ relativePath: String, _ text: String) throws -> String {
        let path = workingDirectory + "/" + relativePath
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    var baseEnvironment: [String: String] {
        ["PATH": "/usr/bin:/bin", "HOME": folder.path, "XDG_CONFIG_HOME": configHome, "LANG": "C.UTF-8"]
    }

    /// Runs `flint arguments…`, waiting on a thread of its own; standard input is `stdin` (or empty).
    func run(_ arguments: [String], stdin: String? = nil, environment extra: [String: String] = [:], in directory: String? = nil) async throws -> CLIResult {
        let environment = baseEnvironment.merging(extra) { $1 }
        let folder = self.folder.path
        let workingDirectory = directory ?? self.workingDirectory
        return try await onOwnThread {
            let id = UUID().uuidString
            let (outPath, errPath, inPath) = ("\(folder)/out-\(id)", "\(folder)/err-\(id)", "\(folder)/in-\(id)")
            _ = FileManager.default.createFile(atPath: inPath, contents: Data((stdin ?? "").utf8))
            defer { for path in [outPath, errPath, inPath] { try? FileManager.default.removeItem(atPath: path) } }
            let status = try spawnAndWait(
                Self.executable.path, arguments, environment: environment, directory: workingDirectory,
                stdin: inPath, stdout: outPath, stderr: errPath)
            let out = try String(contentsOfFile: outPath, encoding: .utf8)
            let err = try String(contentsOfFile: errPath, encoding: .utf8)
            return CLIResult(status: status, stdout: out, stderr: err)
        }
    }

    /// Runs `flint arguments…` under a pseudo-terminal (util-linux `script`), so that standard output and standard
    /// error are a terminal; returns what the terminal showed.
    func runOnTerminal(_ arguments: [String], environment extra: [String: String] = [:]) async throws -> CLIResult {
        let command = ([Self.executable.path] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let environment = baseEnvironment.merging(["TERM": "xterm"]) { $1 }.merging(extra) { $1 }
        let workingDirectory = self.workingDirectory
        let folder = self.folder.path
        return try await onOwnThread {
            let outPath = "\(folder)/terminal-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: outPath) }
            let status = try spawnAndWait(
                "/usr/bin/script", ["-q", "-e", "-c", command, "/dev/null"], environment: environment, directory: workingDirectory,
                stdin: "/dev/null", stdout: outPath, stderr: outPath)
            return CLIResult(status: status, stdout: try String(contentsOfFile: outPath, encoding: .utf8), stderr: "")
        }
    }
}

/// The ANSI escape character: never in output that is not a terminal.
let escape = "\u{1B}"

/// Expects a run to have succeeded, with nothing on standard error and no escape codes anywhere.
func expectSuccess(_ result: CLIResult, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(result.status == 0, "\(result)", sourceLocation: sourceLocation)
    #expect(!result.stdout.contains(escape) && !result.stderr.contains(escape), "escape codes in \(result)", sourceLocation: sourceLocation)
}

/// Expects a run to have failed with exit status 1 and exactly one line on standard error, `error: …` containing `text`.
func expectFailure(_ result: CLIResult, containing text: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(result.status == 1, "\(result)", sourceLocation: sourceLocation)
    #expect(result.errorLines.count == 1, "\(result)", sourceLocation: sourceLocation)
    #expect(result.stderr.hasPrefix("error: "), "\(result)", sourceLocation: sourceLocation)
    #expect(result.stderr.contains(text), "\(result)", sourceLocation: sourceLocation)
    #expect(!result.stderr.contains(escape), sourceLocation: sourceLocation)
}

/// A live server on loopback with an admin service account, and a `flint` with its own config folder.
enum CLIServer {
    static let adminID = "admin"
    static let adminSecret = "a-long-admin-secret"

    /// The server's URL, a client for it, an admin session, and the CLI.
    struct Context: Sendable {
        var url: String
        var http: HTTPTestClient
        var admin: HTTPTestClient.Session
        var cli: CLI

        /// `flint login` as the admin service account (under `profile`), expected to succeed.
        func login(profile: String = "default") async throws {
            let result = try await cli.run(["login", "--url", url, "--client-id", CLIServer.adminID, "--client-secret", CLIServer.adminSecret, "--profile", profile])
            expectSuccess(result)
        }
    }

    static func run<T: Sendable>(
        rules: [String: String] = TestRules.open, _ body: @Sendable (Context) async throws -> T
    ) async throws -> T {
        let cli = try CLI()
        defer { cli.remove() }
        return try await TestServer.run(rules: rules, configure: {
            $0.adminClientID = adminID
            $0.adminClientSecret = adminSecret
        }) { http in
            let admin = try await http.serviceToken(clientID: adminID, secret: adminSecret)
            return try await body(Context(url: "http://127.0.0.1:\(http.port!)", http: http, admin: admin, cli: cli))
        }
    }
}
