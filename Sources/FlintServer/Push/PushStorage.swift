import FlintCore

/// Where devices, topic subscriptions, messages and the send queue live. One seam, two stores: `PushStore` in the
/// server's SQLite database, `PostgresPushStore` when several servers share PostgreSQL. The value types they exchange
/// are `PushStore`'s nested types, shared by both.
///
/// The queue is shared safely by several servers: a delivery is claimed with a lease that only its owner can resolve
/// or renew, and that any server may take over once it expires.
protocol PushStorage: Sendable {
    // MARK: Devices and topics

    /// Registers a device for `uid`, or updates (and reactivates) the device that has the same platform and token.
    /// A device that moves to another user loses its topic subscriptions.
    /// - Returns: the device and whether it is new.
    func register(_ registration: PushStore.Registration, uid: String, now: Timestamp) async throws -> (PushDevice, created: Bool)
    func device(id: String) async throws -> PushDevice?
    /// The devices of `uid`, oldest first.
    func devices(uid: String) async throws -> [PushDevice]
    /// The topics a device is subscribed to, in name order.
    func topics(deviceID: String) async throws -> [String]
    /// Removes a device and its subscriptions; its deliveries not yet sent fail with that reason.
    func deleteDevice(id: String, now: Timestamp) async throws -> Bool
    func subscribe(deviceID: String, topic: String) async throws
    func unsubscribe(deviceID: String, topic: String) async throws

    // MARK: Settings

    /// The stored value of a setting, made (and stored) by `make` the first time; every server gets the same value.
    func setting(_ name: String, orMake make: @Sendable () throws -> String) async throws -> String

    // MARK: The queue

    /// Writes the message and one delivery per target device in one transaction (see `PushStore.enqueue`).
    func enqueue(_ message: PushStore.NewMessage, unavailable: @Sendable (PushPlatform) -> String?, now: Timestamp) async throws -> PushStore.Enqueued
    /// Leases up to `limit` due deliveries of `platform` to `owner` until `leaseUntil`: queued ones whose time has
    /// come, and ones being sent whose lease expired. Each claim counts as an attempt.
    /// - Returns: the claimed deliveries, and the ids of claimed ones whose device no longer exists.
    func claim(platform: PushPlatform, limit: Int, owner: String, leaseUntil: Timestamp, now: Timestamp) async throws -> (
        deliveries: [Delivery], orphans: [String]
    )
    /// Records the end of an attempt, if `owner` still holds the delivery's lease. Returns whether it was recorded.
    @discardableResult
    func resolve(_ id: String, owner: String, _ resolution: PushStore.Resolution, now: Timestamp) async throws -> Bool
    /// Extends the leases `owner` holds on the deliveries it is still sending.
    func renewLeases(owner: String, until: Timestamp) async throws
    /// The earliest time a delivery of one of `platforms` becomes due (a queued one's next attempt, or a lease's end).
    func nextDue(platforms: [PushPlatform]) async throws -> Timestamp?
    /// How many deliveries are queued, being sent, and dead.
    func counts() async throws -> [DeliveryState: Int]

    // MARK: Status and dead letters

    func message(id: String) async throws -> PushStore.MessageStatus?
    /// A page of dead deliveries in id order, after `after`.
    func deadLetters(after: String?, limit: Int) async throws -> [PushStore.DeliveryStatus]
    /// Puts dead deliveries (one, or all when `id` is nil) back in the queue with a fresh set of attempts.
    /// - Returns: how many were requeued.
    func retryDead(id: String?, now: Timestamp) async throws -> Int
}

extension PushStorage {
    func register(_ registration: PushStore.Registration, uid: String) async throws -> (PushDevice, created: Bool) {
        try await register(registration, uid: uid, now: .now())
    }

    func deleteDevice(id: String) async throws -> Bool { try await deleteDevice(id: id, now: .now()) }

    func enqueue(_ message: PushStore.NewMessage, unavailable: @Sendable (PushPlatform) -> String?) async throws -> PushStore.Enqueued {
        try await enqueue(message, unavailable: unavailable, now: .now())
    }

    func claim(platform: PushPlatform, limit: Int, owner: String, leaseUntil: Timestamp) async throws -> (deliveries: [Delivery], orphans: [String]) {
        try await claim(platform: platform, limit: limit, owner: owner, leaseUntil: leaseUntil, now: .now())
    }

    @discardableResult
    func resolve(_ id: String, owner: String, _ resolution: PushStore.Resolution) async throws -> Bool {
        try await resolve(id, owner: owner, resolution, now: .now())
    }

    func retryDead(id: String?) async throws -> Int { try await retryDead(id: id, now: .now()) }
}
