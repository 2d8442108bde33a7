import FlintCore
import FlintRules
@testable import FlintServer
import FlintTestSupport
import Logging
import Testing

/// Two stores on one database, as two servers sharing it have: what each store does that reads then writes must be
/// atomic across them. Run on SQLite and on PostgreSQL.
@Suite struct SharedStoreTests {
    @Test(arguments: StoreBackend.all)
    func aRefreshTokenRedeemedOnTwoServersAtOnceIsValidOnceThenItsFamilyIsRevoked(_ backend: StoreBackend) async throws {
        try await backend.withStores { stores in
            let a = try await stores.auth()
            let b = try await stores.auth()
            let session = AuthStore.Session(family: "f1", uid: "u1", authTime: .now())
            try await a.storeRefreshToken("first", session: session, lifetimeSeconds: 3600)
            try await a.storeRefreshToken("second", session: session, lifetimeSeconds: 3600)
            async let onA = a.redeemRefreshToken("first")
            async let onB = b.redeemRefreshToken("first")
            let outcomes = try await [onA, onB].map { outcome -> String in
                switch outcome {
                case .valid: "valid"
                case .reused: "reused"
                case .invalid: "invalid"
                }
            }
            #expect(outcomes.sorted() == ["reused", "valid"])
            // The reuse revoked the family: its other token is refused too.
            guard case .invalid = try await a.redeemRefreshToken("second") else {
                Issue.record("a token of a revoked family was accepted")
                return
            }
        }
    }

    @Test(arguments: StoreBackend.all)
    func serversStartingTogetherOnANewDatabaseShareOneSigningKey(_ backend: StoreBackend) async throws {
        try await backend.withStores { stores in
            let services = try await [stores.auth(), stores.auth(), stores.auth()].map {
                TokenService(store: $0, issuer: "http://flint.test", audience: "flint")
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for service in services { group.addTask { try await service.start() } }
                try await group.waitForAll()
            }
            #expect(Set(services.map(\.currentKeyID)).count == 1)
            #expect(try await stores.auth().signingKeys().count == 1)
            // A token signed by one verifies on the others.
            let token = try await services[0].sign(
                services[0].claims(sub: "u1", provider: "password", authTime: nil, scope: nil, sid: nil, email: nil, custom: [:]))
            #expect(try await services[2].verify(token).sub == "u1")
        }
    }

    @Test(arguments: StoreBackend.all)
    func aKeyRotatedOnOneServerIsLoadedByTheOtherWhenItsTokenArrives(_ backend: StoreBackend) async throws {
        try await backend.withStores { stores in
            let a = TokenService(store: try await stores.auth(), issuer: "http://flint.test", audience: "flint")
            let b = TokenService(store: try await stores.auth(), issuer: "http://flint.test", audience: "flint")
            try await a.start()
            try await b.start()
            try await a.rotate()
            let token = try await a.sign(a.claims(sub: "u2", provider: "password", authTime: nil, scope: nil, sid: nil, email: nil, custom: [:]))
            // b reads the keys again for an unknown kid at most once a second: the wait is for that, bounded as a hang guard.
            let claims = try await eventually("the other server loads the rotated key") { try? await b.verify(token) }
            #expect(claims.sub == "u2")
        }
    }

    @Test(arguments: StoreBackend.all)
    func aReleaseDeployedOnOneServerIsSwappedInByTheOthersRefresh(_ backend: StoreBackend) async throws {
        try await backend.withStores { stores in
            let logger = Logger(label: "test")
            let a = try await LiveRules(store: try await stores.rules(), logger: logger)
            let b = try await LiveRules(store: try await stores.rules(), logger: logger)
            let source = TestRules.open["firestore.rules"]!
            let first = try await a.deploy(source, for: .firestore, by: "admin")
            #expect(b.entry(.firestore) == nil)
            try await b.refresh(logger: logger)
            #expect(b.entry(.firestore)?.release.id == first.id)
            // The other way round, and a refresh never goes back to an older release.
            let second = try await b.deploy(source + "\n", for: .firestore, by: "admin")
            try await a.refresh(logger: logger)
            #expect(a.entry(.firestore)?.release.id == second.id)
            try await b.refresh(logger: logger)
            #expect(b.entry(.firestore)?.release.id == second.id)
        }
    }

    @Test(arguments: StoreBackend.all)
    func twoServersCreatingOneFileAtOnceOneWinsAndTheOtherIsToldItChanged(_ backend: StoreBackend) async throws {
        try await backend.withStores { stores in
            let a = try await stores.fileMetadata()
            let b = try await stores.fileMetadata()
            func object(_ blob: String) throws -> FileMetadataStore.NewObject {
                FileMetadataStore.NewObject(
                    path: try ObjectPath("same.txt"), blob: StoredBlob(id: blob, size: 1, md5: [1], sha256: [2]),
                    attributes: .init(contentType: "text/plain"), uploader: "u1")
            }
            let first = try object("blob-a")
            let second = try object("blob-b")
            async let onA = a.put(first, expected: nil, precondition: nil, quota: nil)
            async let onB = b.put(second, expected: nil, precondition: nil, quota: nil)
            let outcomes = try await [onA, onB].map { outcome -> String in
                if case .done = outcome { "done" } else { "changed" }
            }
            #expect(outcomes.sorted() == ["changed", "done"])
            #expect(try await a.linkKey() == b.linkKey())
        }
    }

    @Test(arguments: StoreBackend.all)
    func twoServersClaimingAtOnceNeverShareADelivery(_ backend: StoreBackend) async throws {
        try await backend.withStores { stores in
            let a = try await stores.push()
            let b = try await stores.push()
            let now = Timestamp.now()
            _ = try await PushQueueTests.queue(a, devices: 60, at: now)
            let lease = Timestamp(microseconds: now.microseconds + 600_000_000)
            func drain(_ store: any PushStorage, owner: String) async throws -> [String] {
                var claimed: [String] = []
                while true {
                    let batch = try await store.claim(platform: .webhook, limit: 7, owner: owner, leaseUntil: lease, now: now).deliveries
                    if batch.isEmpty { return claimed }
                    claimed += batch.map(\.id)
                }
            }
            async let byA = drain(a, owner: "a")
            async let byB = drain(b, owner: "b")
            let (fromA, fromB) = try await (byA, byB)
            #expect(fromA.count + fromB.count == 60)
            #expect(Set(fromA + fromB).count == 60, "a delivery was claimed by both servers")
        }
    }
}
