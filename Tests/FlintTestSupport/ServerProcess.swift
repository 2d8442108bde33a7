public import Foundation
import Hummingbird
public import HummingbirdTesting
import NIOCore

/// The real `flint-server` executable, started as a child process on a port chosen by the OS.
/// For tests that must kill the server (`kill -9`) or signal it (SIGTERM).
public final class ServerProcess: @unchecked Sendable {
    /// The child's process id.
    public let pid: pid_t
    public let port: Int
    public let client: TestClient
    /// Where the child's output goes.
    private let output: String

    /// The executable built beside the test bundle (`swift build --build-tests` builds both).
    public static var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("flint-server")
    }

    /// Starts the server on `dataDirectory` (with more flags, if given) and waits until it says where it listens.
    /// - Parameter rules: rules files deployed at start-up (open rules by default; none: only admins have access).
    public init(dataDirectory: String, arguments extra: [String] = [], rules: [String: String] = TestRules.open) async throws {
        guard FileManager.default.isExecutableFile(atPath: Self.executable.path) else {
            throw ServerProcessError("flint-server is not at \(Self.executable.path); build it with `swift build --build-tests`")
        }
        var rulesArguments: [String] = []
        if !rules.isEmpty { rulesArguments = ["--rules-dir", try TestRules.folder(rules, in: dataDirectory)] }
        output = NSTemporaryDirectory() + "flint-server-\(UUID().uuidString).out"
        let (pid, line) = try await spawn(
            Self.executable.path, ["--port", "0", "--data-dir", dataDirectory, "--log-level", "error"] + rulesArguments + extra,
            output: output, untilLineContaining: "listening on")
        self.pid = pid
        guard let portText = line.split(separator: ":").last, let port = Int(portText.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw ServerProcessError("cannot read the port from \"\(line)\"")
        }
        self.port = port
        self.client = TestClient(host: "127.0.0.1", port: port)
        client.connect()
    }

    public var http: HTTPTestClient { HTTPTestClient(client: client, port: port) }

    /// Sends `signal` and waits for the process to end; returns its exit status (128 + the signal that ended it).
    @discardableResult
    public func stop(signal: Int32) async throws -> Int32 {
        try? await client.shutdown()
        kill(pid, signal)
        let pid = self.pid
        defer { try? FileManager.default.removeItem(atPath: output) }
        return try await onOwnThread { try waitForExit(pid) }
    }
}

public struct ServerProcessError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}


/// Runs blocking work (a child process, a blocking socket read) on a thread of its own, so that it never holds one
/// of the few threads Swift concurrency runs on: the in-process servers of other tests need them to answer.
public func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread {
            continuation.resume(with: Result { try body() })
        }.start()
    }
}
