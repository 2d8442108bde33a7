import FlintCore

/// The one seam between the queue and a push service: APNs, FCM, Web Push or a webhook.
///
/// A provider never throws: whatever happens on the wire becomes one of the outcomes, which tell the queue what to do
/// with the delivery next.
protocol PushProvider: Sendable {
    /// The platform whose devices this provider serves.
    var platform: PushPlatform { get }
    /// Sends one message to one device, once.
    func send(_ delivery: Delivery) async -> DeliveryOutcome
}

/// What became of one attempt.
enum DeliveryOutcome: Sendable, Equatable {
    /// The push service accepted the message.
    case delivered
    /// A passing failure (throttled, unavailable, the network): try again, not before `after` when the service said so.
    case retry(after: Duration?, reason: String)
    /// The push service says the device's token is no longer valid: the device is deactivated and not tried again.
    case deactivateDevice(reason: String)
    /// The message cannot be delivered as it is (bad payload, refused credentials): not tried again.
    case failed(reason: String)

    /// Whether the provider answered as a working service does; retries count against its circuit breaker.
    var providerWorked: Bool {
        if case .retry = self { return false }
        return true
    }
}

/// The platforms a device registers for; each has its provider.
public enum PushPlatform: String, Sendable, CaseIterable, Hashable {
    case apns, fcm, webpush, webhook

    /// The provider's name in messages and metrics.
    var displayName: String {
        switch self {
        case .apns: "APNs"
        case .fcm: "FCM"
        case .webpush: "Web Push"
        case .webhook: "webhook"
        }
    }
}

/// A registered device: where one app install receives pushes.
struct PushDevice: Sendable, Equatable {
    var id: String
    var uid: String
    var platform: PushPlatform
    /// The APNs device token, the FCM registration token, the Web Push endpoint, or the webhook recipient id.
    var token: String
    var appID: String?
    var locale: String?
    /// Web Push: the subscription's P-256 public key (65 bytes, uncompressed) and authentication secret (16 bytes).
    var p256dh: [UInt8]?
    var auth: [UInt8]?
    var active: Bool
    /// Why the device was deactivated, when it was.
    var inactiveReason: String?
    var createTime: Timestamp
    var updateTime: Timestamp
}

/// One message for one device, as a provider sends it.
struct Delivery: Sendable {
    var id: String
    var messageID: String
    /// 1 for the first attempt.
    var attempt: Int
    var device: PushDevice
    var content: PushContent
    /// When the message was accepted; its time-to-live counts from here.
    var messageTime: Timestamp
}
