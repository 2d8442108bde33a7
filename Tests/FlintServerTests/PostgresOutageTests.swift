import FlintCore
@testable import FlintServer
import FlintTestSupport
import Hummingbird
import HummingbirdTesting
import Logging
import Prometheus
import Testing

/// A server whose PostgreSQL database goes away answers 503 `unavailable`, never a 500.
// Skipped without a PostgreSQL server or its binaries (see TestPostgres.unavailableReason).
@Suite(.enabled(if: TestPostgres.isAvailable, Comment(rawValue: TestPostgres.unavailableReason)))
struct PostgresOutageTests {
    @Test func requestsNeedingALostDatabaseAreAnsweredUnavailable() async throws {
        try await TestPostgres.withDatabase { url in
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let logger = Logger(label: "test")
            let store = try SQLiteDocumentStore(path: directory.path + "/flint.sqlite", logger: logger)
            var configuration = FlintServer.Configuration()
            configuration.passwordCost = 10
            configuration.dataDirectory = directory.path
            let database = try await PostgresDatabase.connect(url, logger: logger)
            let parts = try await ServerParts(
                configuration, store: store, pool: nil, hub: SubscriptionHub(), registry: PrometheusCollectorRegistry(), logger: logger,
                database: database)
            let app = Application(router: buildRouter(configuration, parts), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
            try await app.test(.live) { client in
                let http = HTTPTestClient(client: client)
                let ann = try await http.signUp("ann@example.com")
                database.close()
                let signIn = try await http.send(.post, "/v1/auth/signin", body: #"{"email": "ann@example.com", "password": "correct horse battery"}"#)
                #expect(signIn.status == .serviceUnavailable)
                #expect(signIn.errorCode == "unavailable")
                let devices = try await http.send(.get, "/v1/push/devices", headers: ann.headers)
                #expect(devices.status == .serviceUnavailable)
                let file = try await http.send(.get, "/v1/files/a.txt", headers: ann.headers)
                #expect(file.status == .serviceUnavailable)
            }
        }
    }
}
