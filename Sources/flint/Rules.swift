import ArgumentParser
import FlintCore
import NIOHTTP1
import FlintRules
import Foundation

/// `flint rules …`: test rules locally, deploy them, read the live ones, list releases, roll back.
struct Rules: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Test, deploy, read and roll back security rules.",
        discussion: """
            Rules files are Firebase's: firestore.rules (service cloud.firestore) for documents and storage.rules \
            (service firebase.storage) for files. `flint init` makes a rules/ folder with both and their test cases.

            Examples:
              flint rules test
              flint rules deploy --dry-run
              flint rules deploy firestore rules/firestore.rules
              flint rules releases firestore
              flint rules rollback 3
            """,
        subcommands: [RulesTest.self, RulesDeploy.self, RulesGet.self, RulesReleases.self, RulesRollback.self])
}

/// The two rules services, as the admin API names them.
enum RulesServiceName: String, ExpressibleByArgument, CaseIterable {
    case firestore, storage

    /// The service a rules file is for: from its name (`firestore.rules`, `storage.rules`), else its `service` line.
    static func of(file: String, source: String) -> RulesServiceName? {
        let name = (file as NSString).lastPathComponent
        if name == "firestore.rules" || name.hasSuffix(".firestore.rules") { return .firestore }
        if name == "storage.rules" || name.hasSuffix(".storage.rules") { return .storage }
        if source.range(of: #"service\s+cloud\.firestore"#, options: .regularExpression) != nil { return .firestore }
        if source.range(of: #"service\s+firebase\.storage"#, options: .regularExpression) != nil { return .storage }
        return nil
    }
}

/// Reads a text file whole, or says why not in one line.
func readTextFile(_ path: String) throws -> String {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw CLIError(FileManager.default.fileExists(atPath: path) ? "cannot read \(path)" : "\(path) does not exist")
    }
    guard let text = String(data: data, encoding: .utf8) else { throw CLIError("\(path) is not UTF-8 text") }
    return text
}

/// Compiler-style diagnostics: `file:line:column: message`, the offending line, and a caret under the column.
enum Diagnostics {
    static func render(file: String, source: String, line: Int, column: Int, message: String, colours: Bool) -> String {
        var text = Style.bold.apply("\(file):\(line):\(column):", if: colours) + " " + Style.red.apply(message, if: colours) + "\n"
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
        guard line >= 1, line <= lines.count else { return text }
        var sourceLine = String(lines[line - 1])
        if sourceLine.hasSuffix("\r") { sourceLine.removeLast() }
        // Columns count Unicode scalars; a tab stays a tab so the caret lines up however wide the terminal draws it.
        let padding = sourceLine.unicodeScalars.prefix(max(0, column - 1)).map { $0 == "\t" ? "\t" : " " }.joined()
        text += sourceLine + "\n" + padding + Style.green.apply("^", if: colours) + "\n"
        return text
    }

    /// Renders the `details` of a refused deployment, `[{line, column, message}]`.
    static func render(file: String, source: String, details: JSON, colours: Bool) -> String {
        details.items.map { item in
            var line = 0
            var column = 0
            if case .integer(let l)? = item["line"] { line = Int(l) }
            if case .integer(let c)? = item["column"] { column = Int(c) }
            return render(file: file, source: source, line: line, column: column, message: item["message"]?.string ?? item.text, colours: colours)
        }.joined()
    }
}

/// `flint rules deploy`
struct RulesDeploy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deploy",
        abstract: "Validate rules files and deploy them.",
        discussion: """
            Without arguments, deploys rules/firestore.rules and rules/storage.rules (those that exist). With a \
            service, deploys rules/<service>.rules; with a file, deploys it to the service its name \
            (firestore.rules, storage.rules) or its `service` line says. The server validates the file first: \
            each problem is printed as file:line:column with the offending line, nothing is deployed, and the \
            command exits 1. A deployed file becomes a new release, live at once (see `flint rules releases`).

            Examples:
              flint rules deploy
              flint rules deploy --dry-run
              flint rules deploy storage
              flint rules deploy firestore config/app.rules
            """)

    @OptionGroup var global: GlobalOptions

    @Flag(name: .customLong("dry-run"), help: "Only validate; deploy nothing.")
    var dryRun = false

    @Argument(help: ArgumentHelp("firestore or storage, a rules file, or both.", valueName: "service-or-file"))
    var targets: [String] = []

    func validate() throws {
        guard targets.count <= 2 else { throw ValidationError("give at most a service and a file") }
    }

    /// The files to deploy with their services.
    func plan() throws -> [(file: String, service: RulesServiceName, source: String)] {
        var service: RulesServiceName? = nil
        var file: String? = nil
        switch targets.count {
        case 0: break
        case 1: if let named = RulesServiceName(rawValue: targets[0]) { service = named } else { file = targets[0] }
        default:
            guard let named = RulesServiceName(rawValue: targets[0]) else {
                throw ValidationError("with two arguments, the first is the service: firestore or storage, not \"\(targets[0])\"")
            }
            service = named
            file = targets[1]
        }
        switch (service, file) {
        case (nil, nil):
            let found = RulesServiceName.allCases.map { ("rules/\($0.rawValue).rules", $0) }.filter { FileManager.default.fileExists(atPath: $0.0) }
            guard !found.isEmpty else {
                throw CLIError("no rules/firestore.rules or rules/storage.rules here; give a file, or run `flint init`")
            }
            return try found.map { ($0.0, $0.1, try readTextFile($0.0)) }
        case (let service?, nil):
            let path = "rules/\(service.rawValue).rules"
            return [(path, service, try readTextFile(path))]
        case (let service, let file?):
            let source = try readTextFile(file)
            guard let resolved = service ?? RulesServiceName.of(file: file, source: source) else {
                throw CLIError("cannot tell which service \(file) is for; say it: flint rules deploy firestore \(file)")
            }
            return [(file, resolved, source)]
        }
    }

    func run() async throws {
        let output = global.output
        let plan = try plan()
        let client = try global.client()
        var results: [JSON] = []
        for (file, service, source) in plan {
            let reply: JSON
            do {
                reply = try await client.send(
                    .PUT, "/v1/admin/rules/\(service.rawValue)", query: dryRun ? [("dryRun", "true")] : [], body: Array(source.utf8),
                    contentType: "text/plain; charset=utf-8"
                ).json()
            } catch let error as CLIError where error.details != nil && error.status == 400 {
                Terminal.err(Diagnostics.render(file: file, source: source, details: error.details!, colours: Terminal.colours(Terminal.standardError)))
                let count = error.details!.items.count
                throw CommandFailed(summary: "\(file) has \(count) error\(count == 1 ? "" : "s"); nothing was deployed")
            }
            if dryRun {
                output.line("\(file): valid \(service.rawValue) rules " + output.styled("(dry run, nothing deployed)", .dim))
                results.append(.object(["file": .string(file), "service": .string(service.rawValue), "valid": .bool(true), "dryRun": .bool(true)]))
            } else {
                output.line("Deployed \(file) to \(service.rawValue): " + output.styled("release \(reply["id"].display)", .green))
                results.append(.object(["file": .string(file), "service": .string(service.rawValue), "dryRun": .bool(false), "release": reply]))
            }
        }
        output.document(.object(["deployments": .array(results)]))
    }
}

/// `flint rules get`
struct RulesGet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Print the live rules (or one release) of a service.",
        discussion: """
            Prints the source as deployed, so `flint rules get > rules/firestore.rules` saves it. With --json, the \
            release: id, service, sha256, createTime, deployedBy, rollbackOf and source.

            Examples:
              flint rules get
              flint rules get storage
              flint rules get firestore --release 3
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "firestore or storage.") var service: RulesServiceName = .firestore

    @Option(help: "A release id (see `flint rules releases`) instead of the live one.") var release: Int?

    func run() async throws {
        let output = global.output
        let client = try global.client()
        let path = "/v1/admin/rules/\(service.rawValue)" + (release.map { "/releases/\($0)" } ?? "")
        let reply = try await client.json(.GET, path)
        output.document(reply)
        if !output.json {
            let source = reply["source"]?.string ?? ""
            Terminal.out(source.hasSuffix("\n") || source.isEmpty ? source : source + "\n")
        }
    }
}

/// `flint rules releases`
struct RulesReleases: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "releases",
        abstract: "List the releases of a service, newest (the live one) first.",
        discussion: """
            Every deployment and rollback is a release, kept for good.

            Examples:
              flint rules releases
              flint rules releases storage --limit 5
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "firestore or storage.") var service: RulesServiceName = .firestore

    @Option(help: "The most releases to list (1–1000).") var limit: Int = 100

    func run() async throws {
        let output = global.output
        let client = try global.client()
        let reply = try await client.json(.GET, "/v1/admin/rules/\(service.rawValue)/releases", query: [("limit", String(limit))])
        output.document(reply)
        let releases = reply["releases"].map(\.items) ?? []
        output.table(
            ["ID", "LIVE", "CREATED", "DEPLOYED BY", "ROLLBACK OF", "SHA256"],
            releases.enumerated().map { index, release in
                [release["id"].display, index == 0 ? output.styled("live", .green) : "", release["createTime"].display,
                 release["deployedBy"].display, release["rollbackOf"].display, String(release["sha256"].display.prefix(12))]
            })
        if releases.isEmpty { output.line("No \(service.rawValue) rules have been deployed.") }
    }
}

/// `flint rules rollback`
struct RulesRollback: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Deploy an earlier release again.",
        discussion: """
            The release's source is deployed again as a new release, which records what it rolls back to. \
            Release ids are unique across both services, so the service is found from the id unless --service says it.

            Examples:
              flint rules rollback 3
              flint rules rollback 7 --service storage
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The release id to go back to (see `flint rules releases`).") var release: Int

    @Option(help: "firestore or storage; default: the service the release belongs to.") var service: RulesServiceName?

    func run() async throws {
        let output = global.output
        let client = try global.client()
        let candidates = service.map { [$0] } ?? RulesServiceName.allCases
        for candidate in candidates {
            do {
                let reply = try await client.json(.POST, "/v1/admin/rules/\(candidate.rawValue)/releases/\(release)/rollback")
                output.document(reply)
                output.line("Rolled \(candidate.rawValue) back to release \(release): " + output.styled("release \(reply["id"].display)", .green) + " is live")
                return
            } catch let error as CLIError where error.status == 404 && service == nil {
                continue
            }
        }
        throw CLIError("no release \(release) of the firestore or storage rules; see `flint rules releases`", status: 404)
    }
}
