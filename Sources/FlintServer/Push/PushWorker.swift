import AsyncHTTPClient
import Crypto
import FlintCore
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import Synchronization

/// Delivers the queue: claims due deliveries with a lease, sends them with at most `concurrency` in flight per
/// provider, and records each outcome (delivered, retried after a backoff, failed, deactivated, or dead after the last
/// attempt). A Service: it stops claiming on graceful shutdown and lets the sends in flight finish.
///
/// At-least-once: a delivery is marked delivered only after the provider accepted it, so a server killed mid-send
/// leaves it leased; when the lease runs out, it is claimed and sent again.
struct PushWorker: Service {
    let store: any PushStorage
    let configuration: PushConfiguration
    let vapidKey: P256.Signing.PrivateKey?
    let metrics: PushMetrics
    let wake: WakeSignal
    let logger: Logger
    /// This server's name on the leases it takes.
    let owner = "server-" + AutoID.make(length: 12)

    var lease: Duration { .seconds(configuration.leaseSeconds) }
    /// The longest the worker sleeps without looking at the queue (other servers queue work too).
    var pollInterval: Duration { min(.seconds(1), lease / 3) }
    var policy: RetryPolicy {
        RetryPolicy(
            base: .milliseconds(configuration.retryBaseMilliseconds), cap: .seconds(configuration.retryCapSeconds),
            maximumAttempts: configuration.maximumAttempts)
    }

    func run() async throws {
        // Without providers there is nothing to deliver (queued deliveries wait for a provider to be configured).
        guard configuration.apns != nil || configuration.fcm != nil || configuration.webPush != nil || configuration.webhook != nil else {
            try? await gracefulShutdown()
            return
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        if let path = configuration.caCertificatePath { tls.additionalTrustRoots = [.file(path)] }
        var clientConfiguration = HTTPClient.Configuration(tlsConfiguration: tls)
        clientConfiguration.httpVersion = .automatic
        clientConfiguration.timeout = .init(connect: .seconds(10), read: .seconds(30))
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: clientConfiguration)
        let providers = makeProviders(PushHTTP(client: client))
        await deliver(with: providers)
        try? await client.shutdown()
    }

    /// The configured providers.
    func makeProviders(_ http: PushHTTP) -> [PushPlatform: any PushProvider] {
        var providers: [PushPlatform: any PushProvider] = [:]
        do {
            if let apns = configuration.apns { providers[.apns] = try APNsProvider(configuration: apns, http: http) }
            if let fcm = configuration.fcm { providers[.fcm] = try FCMProvider(configuration: fcm, http: http) }
        } catch {
            // The keys were checked when the configuration was read.
            logger.error("push provider key unusable", metadata: ["error": "\(error)"])
        }
        if let webPush = configuration.webPush, let vapidKey { providers[.webpush] = WebPushProvider(configuration: webPush, vapidKey: vapidKey, http: http) }
        if let webhook = configuration.webhook { providers[.webhook] = WebhookProvider(configuration: webhook, http: http) }
        return providers
    }

    /// The loop, until graceful shutdown; then waits for the sends in flight.
    func deliver(with providers: [PushPlatform: any PushProvider]) async {
        let board = Board(
            platforms: Array(providers.keys), concurrency: configuration.concurrency,
            breaker: CircuitBreaker(threshold: configuration.breakerFailures, pause: .seconds(configuration.breakerPauseSeconds)))
        await withDiscardingTaskGroup { group in
            var lastRenewal = ContinuousClock.now
            var lastDepth = ContinuousClock.now - .seconds(60)
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                var wakeAt = ContinuousClock.now + pollInterval
                if ContinuousClock.now - lastRenewal >= lease / 3 {
                    lastRenewal = ContinuousClock.now
                    do {
                        try await store.renewLeases(owner: owner, until: Timestamp.now() + lease)
                    } catch {
                        logger.warning("push lease renewal failed", metadata: ["error": "\(error)"])
                    }
                }
                var idle: [PushPlatform] = []
                for platform in providers.keys.sorted(by: { $0.rawValue < $1.rawValue }) {
                    let provider = providers[platform]!
                    let (limit, probe, until) = board.capacity(platform, now: .now)
                    if let until { wakeAt = min(wakeAt, until) }
                    metrics.circuit(platform, open: board.isOpen(platform))
                    guard limit > 0 else { continue }
                    let claimed: [Delivery]
                    do {
                        let (deliveries, orphans) = try await store.claim(
                            platform: platform, limit: limit, owner: owner, leaseUntil: Timestamp.now() + lease)
                        for orphan in orphans { try await store.resolve(orphan, owner: owner, .failed("the device was unregistered")) }
                        claimed = deliveries
                    } catch {
                        logger.warning("push claim failed", metadata: ["provider": "\(platform.rawValue)", "error": "\(error)"])
                        claimed = []
                    }
                    if probe && claimed.isEmpty { board.releaseProbe(platform) }
                    if claimed.count < limit { idle.append(platform) }
                    board.started(platform, claimed.count)
                    metrics.inFlight(platform, board.inFlight(platform))
                    for delivery in claimed {
                        group.addTask {
                            await process(delivery, provider: provider, board: board)
                            board.finished(platform)
                            metrics.inFlight(platform, board.inFlight(platform))
                            wake.signal()
                        }
                    }
                }
                if ContinuousClock.now - lastDepth >= .seconds(5), let counts = try? await store.counts() {
                    lastDepth = ContinuousClock.now
                    metrics.depth(counts)
                }
                // Sleep until the next delivery of a provider with room comes due, a signal, or the poll interval.
                if let due = try? await store.nextDue(platforms: idle) {
                    let wait = Duration.microseconds(max(due.microseconds - Timestamp.now().microseconds, 5_000))
                    wakeAt = min(wakeAt, ContinuousClock.now + wait)
                }
                await withGracefulShutdownHandler {
                    await wake.wait(until: wakeAt)
                } onGracefulShutdown: {
                    wake.signal()
                }
            }
        }
    }

    /// One attempt of one delivery, and its outcome recorded.
    func process(_ delivery: Delivery, provider: any PushProvider, board: Board) async {
        let platform = provider.platform
        let resolution: PushStore.Resolution
        if delivery.attempt > policy.maximumAttempts {
            // Earlier attempts ended with their server (each claim counts): do not try again.
            resolution = .dead("gave up after \(policy.maximumAttempts) attempts; the last ones were interrupted")
        } else if let ttl = delivery.content.timeToLive, ttl > 0, Timestamp.now().microseconds > delivery.messageTime.microseconds + Int64(ttl) * 1_000_000 {
            resolution = .failed("the message expired (ttl \(ttl) s) before it could be delivered")
        } else if !delivery.device.active {
            resolution = .failed("the device is inactive: \(delivery.device.inactiveReason ?? "deactivated")")
        } else {
            let started = ContinuousClock.now
            let outcome = await provider.send(delivery)
            board.record(platform, worked: outcome.providerWorked, started: started, now: .now)
            switch outcome {
            case .delivered:
                resolution = .delivered
            case .deactivateDevice(let reason):
                resolution = .deactivated(reason)
            case .failed(let reason):
                resolution = .failed(reason)
            case .retry(let after, let reason):
                if delivery.attempt >= policy.maximumAttempts {
                    resolution = .dead("gave up after \(delivery.attempt) attempts: \(reason)")
                } else {
                    resolution = .retry(at: Timestamp.now() + policy.delay(after: delivery.attempt, retryAfter: after), error: reason)
                }
            }
        }
        do {
            try await store.resolve(delivery.id, owner: owner, resolution)
        } catch {
            // The lease runs out and the delivery is sent again: at-least-once.
            logger.warning("push outcome not recorded", metadata: ["delivery": "\(delivery.id)", "error": "\(error)"])
        }
        switch resolution {
        case .delivered:
            metrics.attempt(platform, outcome: "delivered")
            metrics.delivered(platform, acceptedAt: delivery.messageTime)
        case .retry: metrics.attempt(platform, outcome: "retried")
        case .failed: metrics.attempt(platform, outcome: "failed")
        case .deactivated: metrics.attempt(platform, outcome: "deactivated")
        case .dead: metrics.attempt(platform, outcome: "dead")
        }
    }

    /// Sends in flight and circuit breakers, per provider, shared by the loop and the sends.
    final class Board: Sendable {
        private struct Slot {
            var inFlight = 0
            var breaker: CircuitBreaker
        }
        private let slots: Mutex<[PushPlatform: Slot]>
        let concurrency: Int

        init(platforms: [PushPlatform], concurrency: Int, breaker: CircuitBreaker) {
            slots = Mutex(Dictionary(uniqueKeysWithValues: platforms.map { ($0, Slot(breaker: breaker)) }))
            self.concurrency = concurrency
        }

        /// How many deliveries may be claimed now, whether that is the breaker's probe, and when to look again if
        /// the breaker is open.
        func capacity(_ platform: PushPlatform, now: ContinuousClock.Instant) -> (limit: Int, probe: Bool, until: ContinuousClock.Instant?) {
            slots.withLock { slots in
                let room = concurrency - slots[platform]!.inFlight
                guard room > 0 else { return (0, false, nil) }
                switch slots[platform]!.breaker.permit(now: now) {
                case .any: return (room, false, nil)
                case .probe: return (1, true, nil)
                case .none(let until): return (0, false, until)
                }
            }
        }

        func releaseProbe(_ platform: PushPlatform) { slots.withLock { $0[platform]!.breaker.releaseProbe() } }
        func started(_ platform: PushPlatform, _ count: Int) { slots.withLock { $0[platform]!.inFlight += count } }
        func finished(_ platform: PushPlatform) { slots.withLock { $0[platform]!.inFlight -= 1 } }
        func inFlight(_ platform: PushPlatform) -> Int { slots.withLock { $0[platform]!.inFlight } }
        func isOpen(_ platform: PushPlatform) -> Bool { slots.withLock { $0[platform]!.breaker.isOpen } }
        func record(_ platform: PushPlatform, worked: Bool, started: ContinuousClock.Instant, now: ContinuousClock.Instant) {
            slots.withLock { $0[platform]!.breaker.record(worked: worked, started: started, now: now) }
        }
    }
}

extension Timestamp {
    static func + (lhs: Timestamp, rhs: Duration) -> Timestamp {
        let (seconds, attoseconds) = rhs.components
        return Timestamp(microseconds: lhs.microseconds + seconds * 1_000_000 + attoseconds / 1_000_000_000_000)
    }
}
