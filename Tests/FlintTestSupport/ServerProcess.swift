public import Foundation
import Hummingbird
public import HummingbirdTesting
import NIOCore

/// The real `flint-server` executable, started as a child process on a port chosen by the OS.
/// For tests that must kill the server (`kill -9`) or signal it (SIGTERM).
public final class ServerProcess: @unchecked Sendable {
    public let process = Process()
    public let port: Int
    public let client: TestClient

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
        let output = Pipe()
        process.executableURL = Self.executable
        var rulesArguments: [String] = []
        if !rules.isEmpty { rulesArguments = ["--rules-dir", try TestRules.folder(rules, in: dataDirectory)] }
        process.arguments = ["--port", "0", "--data-dir", dataDirectory, "--log-level", "error"] + rulesArguments + extra
        process.standardOutput = output
        try process.run()
        let line = try await Self.firstLine(containing: "listening on", from: output.fileHandleForReading)
        guard let portText = line.split(separator: ":").last, let port = Int(portText.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw ServerProcessError("cannot read the port from \"\(line)\"")
        }
        self.port = port
        self.client = TestClient(host: "127.0.0.1", port: port)
        client.connect()
    }

    public var http: HTTPTestClient { HTTPTestClient(client: client, port: port) }

    /// Sends `signal` and waits for the process to end; returns its exit status.
    @discardableResult
    public func stop(signal: Int32) async throws -> Int32 {
        try? await client.shutdown()
        kill(process.processIdentifier, signal)
        return await withCheckedContinuation { continuation in
            Thread {
                self.process.waitUntilExit()
                continuation.resume(returning: self.process.terminationStatus)
            }.start()
        }
    }

    /// Reads the child's output on a thread of its own (it blocks) until a line contains `marker`.
    private static func firstLine(containing marker: String, from handle: FileHandle) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                var buffer = Data()
                while true {
                    let chunk = handle.availableData
                    if chunk.isEmpty {
                        continuation.resume(throwing: ServerProcessError("flint-server exited before listening"))
                        return
                    }
                    buffer.append(chunk)
                    let text = String(decoding: buffer, as: UTF8.self)
                    if let line = text.split(separator: "\n").first(where: { $0.contains(marker) }) {
                        continuation.resume(returning: String(line))
                        return
                    }
                }
            }.start()
        }
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
