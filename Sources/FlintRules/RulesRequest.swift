import FlintCore

/// The product a ruleset protects, as its `service` line names it.
public enum RulesService: String, Sendable {
    case firestore = "cloud.firestore"
    case storage = "firebase.storage"
}

/// The five request methods rules distinguish; `read` is get and list, `write` is create, update and delete.
public enum RulesMethod: String, Sendable, CaseIterable {
    case get, list, create, update, delete

    var bit: UInt8 {
        switch self {
        case .get: 1
        case .list: 2
        case .create: 4
        case .update: 8
        case .delete: 16
        }
    }
}

/// The signed-in user as rules see it in `request.auth`.
public struct RulesAuth: Sendable {
    /// `request.auth.uid`.
    public var uid: String
    /// `request.auth.token`: the token's claims (`email`, `email_verified`, custom claims such as `admin`, ...).
    public var token: [String: Value]

    /// Makes the auth context of a signed-in user.
    public init(uid: String, token: [String: Value] = [:]) {
        self.uid = uid
        self.token = token
    }
}

/// The query of a `list` request, as rules see it in `request.query`.
public struct RulesQuery: Sendable {
    /// `request.query.limit`, absent when the query has none.
    public var limit: Int64?
    /// `request.query.offset`, absent when the query has none.
    public var offset: Int64?
    /// `request.query.orderBy`: the first order field, absent when the query has none.
    public var orderBy: String?

    /// Makes a query context; each part is left out of `request.query` when nil.
    public init(limit: Int64? = nil, offset: Int64? = nil, orderBy: String? = nil) {
        self.limit = limit
        self.offset = offset
        self.orderBy = orderBy
    }
}

/// What rules see as `resource` / `request.resource`.
public enum RulesResource: Sendable {
    /// A Firestore document: rules read `.data`, `.id`, `.__name__` (the path `/databases/(default)/documents/...`).
    case document(path: DocumentPath, data: [String: Value])
    /// A Storage object: rules read `.name` (full object name), `.bucket`, and every key of `properties`
    /// (`size`, `contentType`, `metadata`, `timeCreated`, `updated`, `md5Hash`, `etag`, `generation`, ...).
    case object(name: String, bucket: String, properties: [String: Value])
}

/// One request to decide: who asks, for what, on which path, with which data.
public struct RulesRequest: Sendable {
    /// The method the request needs.
    public var method: RulesMethod
    /// Path segments under the service root: Firestore → the document's path (["rooms","r1","messages","m1"]),
    /// matched under `/databases/{database}/documents` (database is "(default)"); Storage → the object name split on "/",
    /// matched under `/b/{bucket}/o`.
    public var path: [String]
    /// `request.auth`; nil when signed out, then `request.auth == null`.
    public var auth: RulesAuth?
    /// `request.time`.
    public var time: Timestamp
    /// `resource`: the stored document or object, nil if none (then `resource` is null).
    public var resource: RulesResource?
    /// `request.resource`: the document as it would be after the write, or the upload's properties; nil for reads and deletes.
    public var requestResource: RulesResource?
    /// `request.query`, for `list`.
    public var query: RulesQuery?
    /// The storage bucket's name, bound to `{bucket}` in `/b/{bucket}/o`.
    public var bucket: String

    /// Makes a request; everything but the method and path has a default (signed out, now, nothing stored).
    public init(
        method: RulesMethod,
        path: [String],
        auth: RulesAuth? = nil,
        time: Timestamp = .now(),
        resource: RulesResource? = nil,
        requestResource: RulesResource? = nil,
        query: RulesQuery? = nil,
        bucket: String = "default"
    ) {
        self.method = method
        self.path = path
        self.auth = auth
        self.time = time
        self.resource = resource
        self.requestResource = requestResource
        self.query = query
        self.bucket = bucket
    }
}

/// The decision on one request.
public struct RulesDecision: Sendable {
    /// Whether some `allow` granted the request.
    public var allowed: Bool
    /// For people debugging rules (CLI, tests, server debug logs): which `allow` granted ("line 7: allow read"),
    /// or why denied ("no rule matches /databases/(default)/documents/x/y for get" / the conditions tried, with
    /// the first evaluation error of each, e.g. "line 9:20: null value has no field 'uid'").
    public var explanation: String

    /// Makes a decision.
    public init(allowed: Bool, explanation: String) {
        self.allowed = allowed
        self.explanation = explanation
    }
}
