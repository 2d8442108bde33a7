import FlintCore
@testable import FlintServer
import FlintTestSupport
import Foundation
import GRDB
import Testing

/// The queue's claiming with leases, straight on the store, with the time given: what lets several servers share it.
@Suite struct PushQueueTests {
    static func withStore<T: Sendable>(_ backend: StoreBackend, _ body: (any PushStorage) async throws -> T) async throws -> T {
        try await backend.withStores { stores in try await body(try await stores.push()) }
    }

    static func queue(_ store: any PushStorage, devices: Int, at now: Timestamp) async throws -> String {
        for n in 0..<devices {
            _ = try await store.register(.init(platform: .webhook, token: "t\(n)"), uid: "ann", now: now)
        }
        let message = PushStore.NewMessage(
            sender: "admin", content: PushContent(notification: PushNotification(title: "x")), targets: [.uid("ann")], idempotencyKey: nil,
            requestHash: "h")
        return try await store.enqueue(message, unavailable: { _ in nil }, now: now).id
    }

    @Test(arguments: StoreBackend.all) func aClaimedDeliveryIsLeasedToOneServerUntilItsLeaseRunsOut(_ backend: StoreBackend) async throws {
        try await Self.withStore(backend) { store in
            let start = Timestamp(microseconds: 1_000_000_000_000)
            _ = try await Self.queue(store, devices: 3, at: start)
            let lease = Timestamp(microseconds: start.microseconds + 60_000_000)
            let a = try await store.claim(platform: .webhook, limit: 2, owner: "a", leaseUntil: lease, now: start).deliveries
            let b = try await store.claim(platform: .webhook, limit: 5, owner: "b", leaseUntil: lease, now: start).deliveries
            #expect(a.count == 2)
            #expect(b.count == 1)
            #expect(Set(a.map(\.id)).isDisjoint(with: b.map(\.id)))
            #expect(try await store.claim(platform: .webhook, limit: 5, owner: "a", leaseUntil: lease, now: start).deliveries.isEmpty)
            #expect(try await store.claim(platform: .fcm, limit: 5, owner: "a", leaseUntil: lease, now: start).deliveries.isEmpty)
            // Renewed leases hold; a server that stopped renewing loses its deliveries once the lease runs out.
            try await store.renewLeases(owner: "b", until: Timestamp(microseconds: start.microseconds + 120_000_000))
            let later = Timestamp(microseconds: start.microseconds + 61_000_000)
            let taken = try await store.claim(platform: .webhook, limit: 5, owner: "c", leaseUntil: later, now: later).deliveries
            #expect(Set(taken.map(\.id)) == Set(a.map(\.id)))
            #expect(taken.allSatisfy { $0.attempt == 2 }, "each claim counts as an attempt")
            // The old owner's late outcome is not recorded over the new owner's lease.
            #expect(try await store.resolve(a[0].id, owner: "a", .delivered, now: later) == false)
            #expect(try await store.resolve(a[0].id, owner: "c", .delivered, now: later) == true)
        }
    }

    @Test(arguments: StoreBackend.all) func aRetriedDeliveryWaitsForItsTimeAndADeadOneForAnAdmin(_ backend: StoreBackend) async throws {
        try await Self.withStore(backend) { store in
            let start = Timestamp(microseconds: 1_000_000_000_000)
            let id = try await Self.queue(store, devices: 1, at: start)
            let lease = Timestamp(microseconds: start.microseconds + 60_000_000)
            let first = try #require(try await store.claim(platform: .webhook, limit: 1, owner: "a", leaseUntil: lease, now: start).deliveries.first)
            let retryAt = Timestamp(microseconds: start.microseconds + 5_000_000)
            #expect(try await store.resolve(first.id, owner: "a", .retry(at: retryAt, error: "503"), now: start))
            #expect(try await store.claim(platform: .webhook, limit: 1, owner: "a", leaseUntil: lease, now: start).deliveries.isEmpty)
            let second = try #require(try await store.claim(platform: .webhook, limit: 1, owner: "a", leaseUntil: lease, now: retryAt).deliveries.first)
            #expect(second.attempt == 2)
            #expect(try await store.resolve(second.id, owner: "a", .dead("gave up"), now: retryAt))
            #expect(try await store.claim(platform: .webhook, limit: 1, owner: "a", leaseUntil: lease, now: lease).deliveries.isEmpty)
            #expect(try await store.deadLetters(after: nil, limit: 10).map(\.id) == [first.id])
            #expect(try await store.retryDead(id: first.id, now: lease) == 1)
            let again = try #require(try await store.claim(platform: .webhook, limit: 1, owner: "a", leaseUntil: lease, now: lease).deliveries.first)
            #expect(again.attempt == 1, "a retried dead letter starts a fresh set of attempts")
            #expect(try await store.message(id: id)?.deliveries.first?.state == .sending)
        }
    }

    @Test func aCachedTokenIsReusedUntilItsTimeAndRefetchedWhenRefused() async throws {
        let cache = AccessTokenCache()
        let counter = Counter()
        let long = try await cache.token { ("t\(await counter.next())", .seconds(3600)) }
        #expect(try await cache.token { ("t\(await counter.next())", .seconds(3600)) } == long)
        await cache.invalidate(long)
        let fresh = try await cache.token { ("t\(await counter.next())", .zero) }
        #expect(fresh != long)
        // A token whose time is up is fetched again.
        #expect(try await cache.token { ("t\(await counter.next())", .seconds(3600)) } != fresh)
        // APNs wants its provider token replaced within the hour, but not more often than every 20 minutes.
        #expect(APNsProvider.tokenLifetime < .seconds(3600) && APNsProvider.tokenLifetime >= .seconds(20 * 60))
    }

    actor Counter {
        var value = 0
        func next() -> Int {
            value += 1
            return value
        }
    }
}
