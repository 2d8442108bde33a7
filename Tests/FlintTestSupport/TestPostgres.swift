#if canImport(Glibc)
import Glibc
#endif
public import FlintServer
import Foundation
import Logging
import PostgresNIO

/// The two document stores. Store and server tests that matter run against both: one test, two backends.
public enum StoreKind: String, CaseIterable, Sendable {
    case sqlite, postgres

    /// The stores that can run here: PostgreSQL needs a server or its binaries (see `TestPostgres`; without them,
    /// the tests marked `.enabled(if: TestPostgres.isAvailable)` show as skipped with the reason).
    public static var available: [StoreKind] { TestPostgres.isAvailable ? allCases : [.sqlite] }
}

/// A real PostgreSQL server for tests, each test with a fresh database of its own (so tests run in parallel).
///
/// The server is `FLINT_TEST_DATABASE_URL` when set (`.ci/run` starts one); otherwise one throwaway cluster per test
/// process, started on first use from the PostgreSQL binaries installed here, on loopback on a free port, and stopped
/// (its folder removed) when the test process ends, however it ends. Without either, `isAvailable` is false and the
/// PostgreSQL tests are skipped, saying why.
public enum TestPostgres {
    /// Whether PostgreSQL tests can run: a server URL is given or the binaries to start one are installed.
    public static let isAvailable = configuredURL != nil || LocalCluster.binaries != nil

    /// Why the PostgreSQL tests are skipped when `isAvailable` is false.
    public static let unavailableReason =
        "PostgreSQL tests need FLINT_TEST_DATABASE_URL or the PostgreSQL server binaries (initdb, pg_ctl; Debian's postgresql package)"

    private static let configuredURL: PostgresURL? = ProcessInfo.processInfo.environment["FLINT_TEST_DATABASE_URL"].flatMap {
        try? PostgresURL(parsing: $0)
    }

    /// Makes an empty database (UTF-8, C collation) on the test server and runs `body` with its URL; drops it after.
    public static func withDatabase<T: Sendable>(_ body: (PostgresURL) async throws -> T) async throws -> T {
        let server = try await serverURL()
        let name = "flint_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try await administer(server, "CREATE DATABASE \(name) TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'")
        do {
            let result = try await body(server.with(database: name))
            try? await administer(server, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            return result
        } catch {
            try? await administer(server, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            throw error
        }
    }

    /// The server's URL (its maintenance database), starting the local cluster on first use.
    static func serverURL() async throws -> PostgresURL {
        if let configuredURL { return configuredURL }
        return try await LocalCluster.shared.url()
    }

    /// Runs one statement on the server's maintenance database, over a connection of its own.
    private static func administer(_ server: PostgresURL, _ sql: String) async throws {
        let configuration = PostgresConnection.Configuration(
            host: server.host, port: server.port, username: server.username, password: server.password, database: server.database,
            tls: .disable)
        let logger = Logger(label: "test-postgres")
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        do {
            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
    }
}

/// The test process's own PostgreSQL cluster, started once when first needed.
actor LocalCluster {
    static let shared = LocalCluster()

    /// The folder with `initdb` and `pg_ctl`: the newest of Debian's `/usr/lib/postgresql/*/bin`, or the one on PATH.
    static let binaries: String? = {
        let debian = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: debian)) ?? []).compactMap(Int.init).sorted()
        for version in versions.reversed() where FileManager.default.isExecutableFile(atPath: "\(debian)/\(version)/bin/initdb") {
            return "\(debian)/\(version)/bin"
        }
        for folder in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init) {
            let initdb = URL(fileURLWithPath: folder).appendingPathComponent("initdb").resolvingSymlinksInPath()
            let binaries = initdb.deletingLastPathComponent().path
            if FileManager.default.isExecutableFile(atPath: initdb.path), FileManager.default.isExecutableFile(atPath: binaries + "/pg_ctl") {
                return binaries
            }
        }
        return nil
    }()

    private var started: PostgresURL?

    func url() async throws -> PostgresURL {
        if let started { return started }
        guard let binaries = Self.binaries else { throw TestSupportError("no PostgreSQL binaries (initdb, pg_ctl) are installed") }
        // Blocking process runs, once per test process: on a thread of their own.
        let url = try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try Self.start(binaries: binaries) }) }.start()
        }
        started = url
        return url
    }

    /// initdb, then pg_ctl start on loopback on a free port with `fsync=on`, then a watchdog that stops the cluster and
    /// removes its folder once this process is gone (normal exit, crash or kill -9 alike).
    private static func start(binaries: String) throws -> PostgresURL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("flint-pg-\(UUID().uuidString)").path
        let data = folder + "/data"
        let log = folder + "/server.log"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        // initdb refuses to run as root: then the cluster belongs to the `postgres` user.
        var prefix: [String] = []
        if geteuid() == 0 {
            guard let user = getpwnam("postgres") else {
                throw TestSupportError("running as root, PostgreSQL needs the `postgres` user to own its cluster; there is none")
            }
            guard chown(folder, user.pointee.pw_uid, user.pointee.pw_gid) == 0 else {
                throw TestSupportError("cannot give \(folder) to the postgres user: \(String(cString: strerror(errno)))")
            }
            prefix = ["/usr/sbin/runuser", "-u", "postgres", "--"]
        }
        func run(_ arguments: [String]) throws {
            let command = prefix + arguments
            let status = try spawnAndWait(
                command[0], Array(command.dropFirst()), environment: ProcessInfo.processInfo.environment, directory: folder,
                stdin: "/dev/null", stdout: folder + "/commands.log", stderr: folder + "/commands.log")
            guard status == 0 else {
                let output = (try? String(contentsOfFile: folder + "/commands.log", encoding: .utf8)) ?? ""
                throw TestSupportError("\(arguments.joined(separator: " ")) failed with status \(status): \(output.suffix(2000))")
            }
        }
        if geteuid() == 0 {
            // The log files are made by root before runuser starts; the cluster's user must be able to write them.
            FileManager.default.createFile(atPath: folder + "/commands.log", contents: nil)
            FileManager.default.createFile(atPath: log, contents: nil)
            if let user = getpwnam("postgres") {
                chown(folder + "/commands.log", user.pointee.pw_uid, user.pointee.pw_gid)
                chown(log, user.pointee.pw_uid, user.pointee.pw_gid)
            }
        }
        try run([binaries + "/initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "-N"])
        let port = try freePort()
        let options = [
            "-c listen_addresses=127.0.0.1", "-p \(port)", "-c unix_socket_directories=\(folder)", "-c fsync=on",
            "-c max_connections=400", "-c shared_buffers=64MB",
        ].joined(separator: " ")
        try run([binaries + "/pg_ctl", "-D", data, "-l", log, "-w", "-t", "60", "-o", options, "start"])
        let stop = (prefix + [binaries + "/pg_ctl", "-D", data, "-m", "immediate", "stop"]).map { "'\($0)'" }.joined(separator: " ")
        let watchdog = "while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done; \(stop) >/dev/null 2>&1; rm -rf '\(folder)'"
        _ = try spawn(
            "/bin/sh", ["-c", watchdog], environment: ProcessInfo.processInfo.environment, directory: "/",
            stdin: "/dev/null", stdout: "/dev/null", stderr: "/dev/null")
        return try PostgresURL(parsing: "postgres://postgres@127.0.0.1:\(port)/postgres?sslmode=disable")
    }

    /// A loopback port nothing listens on now (the OS's pick for port 0).
    private static func freePort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw TestSupportError("cannot make a socket to find a free port") }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) }
        }
        guard bound == 0 else { throw TestSupportError("cannot bind a socket to find a free port") }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
