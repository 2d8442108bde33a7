@testable import FlintServer
import FlintTestSupport
import GRDB
import Logging
import Testing

/// Where a store-level test keeps its state: the embedded SQLite database, or PostgreSQL through the shared test
/// support (a fresh database per test). Tests that take `StoreBackend.all` as arguments run once per backend;
/// without PostgreSQL (see `TestPostgres.unavailableReason`) only the SQLite case runs.
enum StoreBackend: String, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    static let all: [StoreBackend] = TestPostgres.isAvailable ? [.sqlite, .postgres] : [.sqlite]

    var testDescription: String { rawValue }

    /// Runs `body` with a way to open this backend's stores on one fresh database, then removes the database.
    func withStores<T: Sendable>(_ body: (Stores) async throws -> T) async throws -> T {
        switch self {
        case .sqlite:
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            return try await body(Stores(pool: try DatabasePool(path: directory.path + "/flint.sqlite"), database: nil))
        case .postgres:
            return try await TestPostgres.withDatabase { url in
                let database = try await PostgresDatabase.connect(url, logger: Logger(label: "test"))
                defer { database.close() }
                return try await body(Stores(pool: nil, database: database))
            }
        }
    }

    /// Opens stores of one backend on one database; each call opens another store on the same data, as another
    /// server would.
    struct Stores: Sendable {
        let pool: DatabasePool?
        let database: PostgresDatabase?

        func auth() async throws -> any AuthStorage {
            if let database { try await PostgresAuthStore(database: database) } else { try AuthStore(pool: pool!) }
        }

        func rules() async throws -> any RulesStorage {
            if let database { try await PostgresRulesStore(database: database) } else { try RulesStore(pool: pool!) }
        }

        func fileMetadata() async throws -> any FileMetadataStorage {
            if let database { try await PostgresFileMetadataStore(database: database) } else { try FileMetadataStore(pool: pool!) }
        }

        func push() async throws -> any PushStorage {
            if let database { try await PostgresPushStore(database: database) } else { try PushStore(pool: pool!) }
        }
    }
}
