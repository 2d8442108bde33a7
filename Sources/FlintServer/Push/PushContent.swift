import FlintCore

/// What a message says, the same for every device it goes to.
struct PushContent: Sendable, Equatable {
    /// The visible part; nil for a data-only (background) message.
    var notification: PushNotification?
    /// Key-value data for the app. FCM carries only strings: other values reach it as their JSON text.
    var data: [String: JSON] = [:]
    var priority: PushPriority = .high
    /// Seconds the push services keep trying to reach an offline device; nil for their default.
    var timeToLive: Int?
    /// Messages with the same key replace each other on the device (APNs `apns-collapse-id`, FCM `collapse_key`,
    /// Web Push `Topic`).
    var collapseKey: String?

    /// The longest time-to-live accepted: 28 days, FCM's limit.
    static let maximumTimeToLive = 28 * 24 * 3600

    /// Reads the content fields of a send request (or of a stored message), naming the field at fault.
    init(json object: JSONObject) throws(FlintError) {
        if let json = object["notification"] { notification = try PushNotification(json: JSONObject(json, context: "\(object.context).notification")) }
        if let json = object["data"] {
            guard case .object(let members) = json else { throw .invalidArgument("\(object.context).data must be an object, not \(json.typeName)") }
            data = members
        }
        if let text = try object.optionalString("priority") {
            guard let priority = PushPriority(rawValue: text) else {
                throw .invalidArgument("\(object.context).priority must be \"high\" or \"normal\", not \"\(text)\"")
            }
            self.priority = priority
        }
        if let ttl = try object.optionalCount("ttl") {
            guard ttl <= Self.maximumTimeToLive else {
                throw .invalidArgument("\(object.context).ttl must be at most \(Self.maximumTimeToLive) seconds (28 days)")
            }
            timeToLive = ttl
        }
        if let key = try object.optionalString("collapseKey") {
            guard !key.isEmpty, key.utf8.count <= 64 else { throw .invalidArgument("\(object.context).collapseKey must be 1 to 64 bytes") }
            collapseKey = key
        }
        if notification == nil && data.isEmpty {
            throw .invalidArgument("\(object.context) needs a notification, data, or both")
        }
    }

    init(notification: PushNotification?, data: [String: JSON] = [:], priority: PushPriority = .high, timeToLive: Int? = nil, collapseKey: String? = nil) {
        self.notification = notification
        self.data = data
        self.priority = priority
        self.timeToLive = timeToLive
        self.collapseKey = collapseKey
    }

    /// The fields this type reads.
    static let fields: Set<String> = ["notification", "data", "priority", "ttl", "collapseKey"]

    /// The stored and answered form, the same shape as the request's.
    var json: JSON {
        var members: [String: JSON] = ["priority": .string(priority.rawValue)]
        if let notification { members["notification"] = notification.json }
        if !data.isEmpty { members["data"] = .object(data) }
        if let timeToLive { members["ttl"] = .integer(Int64(timeToLive)) }
        if let collapseKey { members["collapseKey"] = .string(collapseKey) }
        return .object(members)
    }

    /// The data with every value a string, as FCM wants it.
    var stringData: [String: String] {
        data.mapValues { value in
            if case .string(let s) = value { return s }
            return value.text
        }
    }
}

/// The visible part of a message.
struct PushNotification: Sendable, Equatable {
    var title: String?
    var body: String?
    /// The number on the app's icon (APNs, FCM on iOS).
    var badge: Int?
    /// A sound name, or "default".
    var sound: String?
    /// An image URL (FCM, Web Push; APNs gets it for a notification service extension).
    var image: String?

    init(title: String? = nil, body: String? = nil, badge: Int? = nil, sound: String? = nil, image: String? = nil) {
        self.title = title
        self.body = body
        self.badge = badge
        self.sound = sound
        self.image = image
    }

    init(json object: JSONObject) throws(FlintError) {
        try object.allowOnly(["title", "body", "badge", "sound", "image"])
        title = try object.optionalString("title")
        body = try object.optionalString("body")
        badge = try object.optionalCount("badge")
        sound = try object.optionalString("sound")
        image = try object.optionalString("image")
        if let image, !(image.hasPrefix("https://") || image.hasPrefix("http://")) {
            throw .invalidArgument("\(object.context).image must be an http(s) URL")
        }
        if title == nil && body == nil && badge == nil && sound == nil && image == nil {
            throw .invalidArgument("\(object.context) needs at least one of title, body, badge, sound, image")
        }
    }

    var json: JSON {
        var members: [String: JSON] = [:]
        if let title { members["title"] = .string(title) }
        if let body { members["body"] = .string(body) }
        if let badge { members["badge"] = .integer(Int64(badge)) }
        if let sound { members["sound"] = .string(sound) }
        if let image { members["image"] = .string(image) }
        return .object(members)
    }
}

/// How urgently a message should reach the device.
enum PushPriority: String, Sendable {
    /// Delivered at once, waking the device.
    case high
    /// May be delayed to save the device's battery.
    case normal
}
