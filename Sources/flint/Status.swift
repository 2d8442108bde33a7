import ArgumentParser
import FlintCore
import Foundation
import NIOHTTP1

/// `flint status`: the server's version, health and key figures.
struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the server's version, health and key figures from /metrics.",
        discussion: """
            Reads /health (version), /ready (the database answers) and /metrics (requests served, by status class), \
            which need no credentials, so --url alone is enough. Exits 1 when the server cannot be reached or is \
            not ready.

            Examples:
              flint status
              flint status --url http://127.0.0.1:8080 --json
            """)

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let output = global.output
        let client = try global.client(authenticated: false)
        let health = try await client.json(.GET, "/health", authenticated: false)
        var ready = true
        var readiness = "ready"
        do {
            _ = try await client.json(.GET, "/ready", authenticated: false)
        } catch let error as CLIError where error.status != nil {
            ready = false
            readiness = "not ready: \(error.message)"
        }
        let metrics = Self.figures(String(decoding: try await client.send(.GET, "/metrics", authenticated: false).body, as: UTF8.self))
        let version = health["version"]?.string ?? "unknown"
        output.document(.object([
            "url": .string(client.baseURL), "version": .string(version), "health": health["status"] ?? .null, "ready": .bool(ready),
            "metrics": .object(metrics.mapValues(JSON.integer)),
        ]))
        output.fields([
            ("server", client.baseURL),
            ("version", version),
            ("health", output.styled(health["status"]?.string ?? "unknown", health["status"]?.string == "ok" ? .green : .red)),
            ("ready", output.styled(readiness, ready ? .green : .red)),
            ("requests", String(metrics["requests"] ?? 0)),
            ("  2xx", String(metrics["requests2xx"] ?? 0)),
            ("  4xx", String(metrics["requests4xx"] ?? 0)),
            ("  5xx", String(metrics["requests5xx"] ?? 0)),
        ])
        if !ready { throw CommandFailed(summary: "the server at \(client.baseURL) is \(readiness)") }
    }

    /// Request counts from the Prometheus text: all of `flint_http_requests_total`, and by status class.
    static func figures(_ text: String) -> [String: Int64] {
        var figures: [String: Int64] = ["requests": 0, "requests2xx": 0, "requests3xx": 0, "requests4xx": 0, "requests5xx": 0]
        for line in text.split(separator: "\n") where line.hasPrefix("flint_http_requests_total") {
            guard let valueText = line.split(separator: " ").last, let value = Double(valueText) else { continue }
            let count = Int64(value)
            figures["requests", default: 0] += count
            if let range = line.range(of: "status=\""), let digit = line[range.upperBound...].first {
                figures["requests\(digit)xx", default: 0] += count
            }
        }
        return figures
    }
}
