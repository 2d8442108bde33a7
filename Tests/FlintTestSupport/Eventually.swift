/// Polls `body` every 20 ms until it gives a value, for state that no event announces (another process's
/// requests, files on disk, a server's documents). The limit is a guard against a test hanging, not a measure of
/// speed: generous, so that a slow shared machine does not fail the test, yet a hang does.
public func eventually<T: Sendable>(
    _ what: String, timeout: Duration = .seconds(30), _ body: () async throws -> T?
) async throws -> T {
    let deadline = ContinuousClock.now + timeout
    while true {
        if let value = try await body() { return value }
        guard ContinuousClock.now < deadline else { throw TestSupportError("timed out waiting until \(what)") }
        try await Task.sleep(for: .milliseconds(20))
    }
}

/// Polls `condition` until it holds (see the other `eventually`).
public func eventually(_ what: String, timeout: Duration = .seconds(30), until condition: () async throws -> Bool) async throws {
    _ = try await eventually(what, timeout: timeout) { try await condition() ? true : nil }
}
