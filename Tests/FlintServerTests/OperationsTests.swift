import FlintTestSupport
import FlintCore
@testable import FlintServer
import Hummingbird
import HummingbirdTesting
import Logging
import Prometheus
import Testing

/// `/health`, `/ready`, `/metrics` and `/openapi.json`.
@Suite struct OperationsTests {
    @Test func healthAndReadyAnswerOK() async throws {
        try await TestServer.run { http in
            let health = try await http.send(.get, "/health")
            let ready = try await http.send(.get, "/ready")
            #expect(try health.json == .object(["status": .string("ok"), "version": .string(FlintVersion.current)]))
            #expect(try ready.json == .object(["status": .string("ready")]))
        }
    }

    @Test func metricsCountRequestsByRouteAndStatus() async throws {
        try await TestServer.run { http in
            try await http.send(.put, "/v1/documents/a/b", body: "{}")
            try await http.send(.put, "/v1/documents/a/c", body: "{bad")
            let metrics = try await http.send(.get, "/metrics")
            #expect(metrics.headers[.contentType]?.hasPrefix("text/plain") == true)
            #expect(metrics.text.contains(#"flint_http_requests_total{route="/v1/documents/**",method="PUT",status="200"} 1"#))
            #expect(metrics.text.contains(#"flint_http_requests_total{route="/v1/documents/**",method="PUT",status="400"} 1"#))
            #expect(metrics.text.contains("flint_http_request_duration_seconds_bucket"))
        }
    }

    @Test func openAPIDocumentIsValidJSONAndDescribesEveryRoute() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try SQLiteDocumentStore(path: directory.path + "/flint.sqlite", logger: Logger(label: "test"))
        let parts = try await ServerParts(Configuration(), store: store, pool: store.pool, hub: SubscriptionHub(), registry: PrometheusCollectorRegistry(), logger: Logger(label: "test"))
        let router = buildRouter(Configuration(), parts)
        let document = try JSON(parsing: OpenAPIDocument.json)
        #expect(document["openapi"] == .string("3.1.0"))
        let paths = try #require(document["paths"])
        #expect(!router.routes.isEmpty)
        for route in router.routes {
            // Hummingbird writes a catch-all as `**`; the document names it `{path}`.
            let path = route.path.description.replacingOccurrences(of: "**", with: "{path}")
            let method = route.method.rawValue.lowercased()
            #expect(paths[path]?[method] != nil, "\(route.method) \(path) is missing from /openapi.json")
        }
        try await TestServer.run { http in
            let served = try await http.send(.get, "/openapi.json")
            #expect(try served.json == document)
        }
    }

    @Test func openAPIDocumentPassesAReferenceValidator() async throws {
        try await TestServer.run { http in
            let document = try await http.send(.get, "/openapi.json").text
            let output = try await runPython(
                """
                import json, sys
                from openapi_spec_validator import validate
                validate(json.loads(sys.argv[1]))
                print("valid")
                """, arguments: [document])
            #expect(output.trimmingCharacters(in: .whitespacesAndNewlines) == "valid")
        }
    }
}
