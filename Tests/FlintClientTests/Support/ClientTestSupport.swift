@testable import FlintClient
import FlintServer
import FlintTestSupport
import Foundation
import Testing

/// How long a test waits for an event before reporting that it never came: a guard against hanging, not a measure of
/// speed (events normally arrive in milliseconds).
let patience = Duration.seconds(30)

/// Gathers what an `AsyncSequence` yields on a task of its own, so that a test can wait for an element that
/// satisfies a condition, with a timeout.
final class Collector<Element: Sendable>: Sendable {
    private let mailbox = Mailbox<Element>()
    private let task: Task<Void, Never>

    init<S: AsyncSequence & Sendable>(_ sequence: S) where S.Element == Element {
        let mailbox = self.mailbox
        task = Task {
            do {
                for try await element in sequence { await mailbox.push(element) }
                await mailbox.finish(nil)
            } catch {
                await mailbox.finish(error)
            }
        }
    }

    /// The next element that satisfies `condition`, skipping the others.
    /// - Throws: when the sequence ends (or fails) first, or nothing comes within `patience`.
    @discardableResult
    func next(
        _ what: String = "element", where condition: @Sendable (Element) -> Bool = { _ in true }, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> Element {
        let deadline = ContinuousClock.now + patience
        while true {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero, let element = try await mailbox.receive(within: remaining) else {
                throw TestFailure("no \(what) came within \(patience) (at \(sourceLocation.fileName):\(sourceLocation.line))")
            }
            if condition(element) { return element }
        }
    }

    /// How the sequence ended, once it has (nil: normally).
    func ending() async -> (any Error)? {
        await task.value
        return await mailbox.failure
    }

    func cancel() { task.cancel() }
}

private actor Mailbox<Element: Sendable> {
    private var buffer: [Element] = []
    private var waiter: (id: Int, continuation: CheckedContinuation<Element?, any Error>)?
    private var waits = 0
    private var finished = false
    var failure: (any Error)?

    func push(_ element: Element) {
        if let waiter {
            self.waiter = nil
            waiter.continuation.resume(returning: element)
        } else {
            buffer.append(element)
        }
    }

    func finish(_ error: (any Error)?) {
        finished = true
        failure = error
        if let waiter {
            self.waiter = nil
            if let error { waiter.continuation.resume(throwing: error) } else { waiter.continuation.resume(returning: nil) }
        }
    }

    func receive(within patience: Duration) async throws -> Element? {
        if !buffer.isEmpty { return buffer.removeFirst() }
        if finished {
            if let failure { throw failure }
            return nil
        }
        waits += 1
        let id = waits
        return try await withCheckedThrowingContinuation { continuation in
            waiter = (id, continuation)
            // A guard against a test hanging when an element never comes, not a measure of speed.
            Task {
                try? await Task.sleep(for: patience)
                self.expire(id)
            }
        }
    }

    private func expire(_ id: Int) {
        guard let waiter, waiter.id == id else { return }
        self.waiter = nil
        waiter.continuation.resume(returning: nil)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Settings for tests: reconnect quickly.
var testSettings: FlintApp.Settings {
    var settings = FlintApp.Settings()
    settings.minimumReconnectDelay = .milliseconds(20)
    settings.maximumReconnectDelay = .milliseconds(200)
    settings.handshakeTimeout = .seconds(3)
    return settings
}

/// A server on loopback, a proxy in front of it, and a way to make apps that talk to the server through the proxy.
struct ClientHarness: Sendable {
    let http: HTTPTestClient
    let proxy: TCPProxy
    let directory: TemporaryDirectory

    var url: String { "http://127.0.0.1:\(proxy.port)" }

    /// A new app on its own cache directory (or on `cache`, to restart one).
    func makeApp(cache: String? = nil, settings: FlintApp.Settings = testSettings) throws -> FlintApp {
        let path = cache ?? directory.path + "/app-\(UUID().uuidString)"
        return try FlintApp(url: url, cacheDirectory: path, settings: settings)
    }

    /// Runs `body` with a fresh server (open rules unless given) and a proxy in front of it.
    static func run<T: Sendable>(
        rules: [String: String] = TestRules.open, configure: @Sendable (inout Configuration) -> Void = { _ in },
        _ body: @Sendable (ClientHarness) async throws -> T
    ) async throws -> T {
        try await TestServer.run(rules: rules, configure: configure) { http in
            let proxy = try TCPProxy(targetPort: try #require(http.port))
            let directory = try TemporaryDirectory()
            defer {
                proxy.close()
                directory.remove()
            }
            return try await body(ClientHarness(http: http, proxy: proxy, directory: directory))
        }
    }

    /// A document as the server has it, read over REST (nil: missing).
    func serverData(_ path: String) async throws -> JSON? {
        let reply = try await http.send(.get, "/v1/documents/\(path)")
        if reply.status == .notFound { return nil }
        return try reply.json["data"]
    }
}

/// Runs `body` with an app and closes it afterwards, whatever happens.
func withApp<T: Sendable>(_ app: FlintApp, _ body: (FlintApp) async throws -> T) async throws -> T {
    do {
        let result = try await body(app)
        await app.close()
        return result
    } catch {
        await app.close()
        throw error
    }
}

/// The suites that start servers, proxies and apps run one test at a time: together with the rest of the test run,
/// dozens of them at once would starve the other tests' servers on a small machine.
@Suite(.serialized) enum ClientIntegrationTests {}
