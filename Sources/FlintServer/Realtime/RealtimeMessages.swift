import FlintCore

/// The realtime protocol's version, sent in `hello`; `sdk-docs/protocol.md` describes version 1.
let realtimeProtocolVersion: Int64 = 1

/// A message from a client, parsed strictly.
enum ClientMessage: Sendable, Equatable {
    case listen(targetID: Int64, target: ListenTarget, resumeToken: Int64?)
    case unlisten(targetID: Int64)
    case commit(id: String, commit: Commit)
    case auth(token: String)
    case ping(id: String?)

    /// Parses one text frame. A frame that is not JSON at all throws `notJSON`; any other problem throws a
    /// `FlintError`, answered with an `error` message while the connection stays open.
    init(frame: some Collection<UInt8>) throws(ClientMessageError) {
        let json: JSON
        do {
            json = try JSON(parsing: frame)
        } catch {
            throw .notJSON(error.message)
        }
        do {
            self = try ClientMessage(json: json)
        } catch {
            var identifiers: (targetID: Int64?, id: String?) = (nil, nil)
            if case .object(let members) = json {
                if case .integer(let t)? = members["targetId"] { identifiers.targetID = t }
                if case .string(let i)? = members["id"] { identifiers.id = i }
            }
            throw .invalid(error, targetID: identifiers.targetID, id: identifiers.id)
        }
    }

    private init(json: JSON) throws(FlintError) {
        let object = try JSONObject(json, context: "message")
        let type = try object.string("type")
        switch type {
        case "listen":
            try object.allowOnly(["type", "targetId", "document", "query", "resumeToken"])
            let targetID = try Self.targetID(object)
            let target: ListenTarget
            switch (object["document"], object["query"]) {
            case (.string(let path)?, nil):
                do {
                    target = .document(try DocumentPath(path))
                } catch {
                    throw .invalidArgument("message.document: \(error.message)")
                }
            case (nil, let query?):
                target = .query(try Query(json: query))
            default:
                throw .invalidArgument("listen needs exactly one of \"document\" (a document path) or \"query\" (as POST /v1/query takes)")
            }
            let token = try object.optionalInteger("resumeToken")
            if let token, token < 0 { throw .invalidArgument("message.resumeToken must be a sequence number from a previous message") }
            self = .listen(targetID: targetID, target: target, resumeToken: token)
        case "unlisten":
            try object.allowOnly(["type", "targetId"])
            self = .unlisten(targetID: try Self.targetID(object))
        case "commit":
            try object.allowOnly(["type", "id", "writes", "mutationId"])
            let id = try object.string("id")
            var commitJSON: [String: JSON] = ["writes": object["writes"] ?? .null]
            if let mutationId = object["mutationId"] { commitJSON["mutationId"] = mutationId }
            self = .commit(id: id, commit: try Commit(json: .object(commitJSON)))
        case "auth":
            try object.allowOnly(["type", "token"])
            self = .auth(token: try object.string("token"))
        case "ping":
            try object.allowOnly(["type", "id"])
            self = .ping(id: try object.optionalString("id"))
        default:
            throw .invalidArgument("message.type \"\(type)\" is not one of: listen, unlisten, commit, auth, ping")
        }
    }

    private static func targetID(_ object: JSONObject) throws(FlintError) -> Int64 {
        guard let id = try object.optionalInteger("targetId"), id > 0 else {
            throw .invalidArgument("message.targetId must be a positive integer chosen by the client")
        }
        return id
    }
}

enum ClientMessageError: Error {
    case notJSON(String)
    case invalid(FlintError, targetID: Int64?, id: String?)
}

/// Server messages, written straight to bytes so that a document's JSON is encoded once per commit
/// and spliced into every message that carries it.
enum ServerMessage {
    static func hello(sequence: Int64, connectionID: Int) -> [UInt8] {
        JSON.object([
            "type": .string("hello"), "protocol": .integer(realtimeProtocolVersion), "sequence": .integer(sequence),
            "connectionId": .string(String(connectionID)),
        ]).serialized
    }

    static func error(_ error: FlintError, targetID: Int64? = nil, id: String? = nil) -> [UInt8] {
        var members: [String: JSON] = [
            "type": .string("error"), "code": .string(error.code.rawValue), "message": .string(error.message),
        ]
        if let details = error.details { members["details"] = details }
        if let targetID { members["targetId"] = .integer(targetID) }
        if let id { members["id"] = .string(id) }
        return JSON.object(members).serialized
    }

    static func committed(id: String, result: CommitResult) -> [UInt8] {
        guard case .object(var members) = result.json else { return [] }
        members["type"] = .string("committed")
        members["id"] = .string(id)
        return JSON.object(members).serialized
    }

    /// After an `auth` message: who the connection now acts as, and until when (seconds since 1970).
    static func authenticated(uid: String, expires: Int64) -> [UInt8] {
        JSON.object(["type": .string("authenticated"), "uid": .string(uid), "expiresAt": .integer(expires)]).serialized
    }

    static func pong(id: String?) -> [UInt8] {
        JSON.object(id.map { ["type": .string("pong"), "id": .string($0)] } ?? ["type": .string("pong")]).serialized
    }

    /// After a replay: the target is current as of `sequence`.
    static func current(targetID: Int64, sequence: Int64) -> [UInt8] {
        JSON.object(["type": .string("current"), "targetId": .integer(targetID), "sequence": .integer(sequence)]).serialized
    }

    static func unlistened(targetID: Int64) -> [UInt8] {
        JSON.object(["type": .string("unlistened"), "targetId": .integer(targetID)]).serialized
    }

    /// The first answer to a `listen`: every document of the target, marked current.
    static func snapshot(targetID: Int64, sequence: Int64, documents: [Document], reset: Bool, cache: inout DocumentJSONCache) -> [UInt8] {
        var out: [UInt8] = []
        out += #"{"type":"snapshot","targetId":"#.utf8
        out += String(targetID).utf8
        out += #","sequence":"#.utf8
        out += String(sequence).utf8
        out += #","current":true,"reset":"#.utf8
        out += (reset ? "true" : "false").utf8
        out += #","documents":["#.utf8
        for (i, document) in documents.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out += cache.bytes(of: document)
        }
        out += "]}".utf8
        return out
    }

    /// The changes of one commit to one client's targets: one message, never split.
    static func changes(
        sequence: Int64, commitTime: Timestamp, targets: [(targetID: Int64, changes: [TargetChange])], replay: Bool,
        cache: inout DocumentJSONCache
    ) -> [UInt8] {
        var out = cache.header(sequence: sequence, commitTime: commitTime)
        if replay { out += #","replay":true"#.utf8 }
        out += #","targets":["#.utf8
        for (t, target) in targets.enumerated() {
            if t > 0 { out.append(UInt8(ascii: ",")) }
            out += #"{"targetId":"#.utf8
            out += String(target.targetID).utf8
            out += #","changes":["#.utf8
            for (c, change) in target.changes.enumerated() {
                if c > 0 { out.append(UInt8(ascii: ",")) }
                switch change {
                case .added(let document):
                    out += #"{"type":"added","document":"#.utf8
                    out += cache.bytes(of: document)
                    out += "}".utf8
                case .modified(let document):
                    out += #"{"type":"modified","document":"#.utf8
                    out += cache.bytes(of: document)
                    out += "}".utf8
                case .removed(let path):
                    out += #"{"type":"removed","path":"#.utf8
                    JSON.string(path.description).write(into: &out)
                    out += "}".utf8
                }
            }
            out += "]}".utf8
        }
        out += "]}".utf8
        return out
    }
}

/// Each document's JSON, and each commit's message header, encoded once however many messages carry them.
struct DocumentJSONCache {
    private var encoded: [DocumentPath: (version: Int64, bytes: [UInt8])] = [:]
    private var headers: [Int64: [UInt8]] = [:]

    /// `{"type":"changes","sequence":…,"commitTime":"…"` of one commit.
    mutating func header(sequence: Int64, commitTime: Timestamp) -> [UInt8] {
        if let hit = headers[sequence] { return hit }
        var out: [UInt8] = []
        out += #"{"type":"changes","sequence":"#.utf8
        out += String(sequence).utf8
        out += #","commitTime":""#.utf8
        out += commitTime.description.utf8
        out += "\"".utf8
        headers[sequence] = out
        return out
    }

    mutating func bytes(of document: Document) -> [UInt8] {
        if let hit = encoded[document.path], hit.version == document.version { return hit.bytes }
        let bytes = document.json.serialized
        encoded[document.path] = (document.version, bytes)
        return bytes
    }
}
