import FlintCore
import Foundation
import Logging

/// The server's messages (sdk-docs/protocol.md), each applied to the cache, the targets and the views in one step.
extension SyncEngine {
    func receive(_ text: String, generation: Int) {
        guard connection?.generation == generation, let json = try? JSON(parsing: text), case .object(let message) = json,
            case .string(let type)? = message["type"]
        else { return }
        do {
            switch type {
            case "hello":
                connectionReady(serverSequence: Self.integer(message["sequence"]) ?? 0)
            case "snapshot":
                try snapshot(message)
            case "changes":
                try changes(message)
            case "current":
                guard let id = Self.integer(message["targetId"]), let key = targetKeys[id], let sequence = Self.integer(message["sequence"])
                else { return }
                targets[key]!.current = true
                targets[key]!.resumeToken = sequence
                try save([], targets: [key])
                processed(sequence)
            case "committed":
                guard case .string(let id)? = message["id"], let batchID = Int64(id) else { return }
                acknowledge(batchID, result: try CommitResult(json: json))
            case "error":
                receiveError(message)
            default:
                break  // pong, unlistened, authenticated
            }
        } catch {
            logger.warning("a server message could not be applied", metadata: ["type": "\(type)", "error": "\(error)"])
        }
    }

    /// A target's first answer: its documents as of `sequence`, replacing what it held.
    private func snapshot(_ message: [String: JSON]) throws {
        guard let id = Self.integer(message["targetId"]), let key = targetKeys[id], let sequence = Self.integer(message["sequence"]),
            case .array(let items)? = message["documents"]
        else { return }
        statistics.snapshots += 1
        let documents = try items.map(Self.document)
        let members = Set(documents.map(\.path))
        var updates = documents.map { CachedDocument.exists($0, asOf: sequence) }
        let target = targets[key]!
        // Documents the target held that the server no longer lists, and (for a query without a window) cached
        // documents that look as if they match but that the server left out: their content is stale.
        var stale = target.members.subtracting(members)
        switch target.target {
        case .document(let path):
            if documents.isEmpty { updates.append(.missing(path, at: sequence)) }
            stale.remove(path)
        case .query(let query):
            if query.limit == nil, query.limitToLast == nil {
                for document in try store.documents(in: query) where query.matches(document) && !members.contains(document.path) {
                    if document.version <= sequence { stale.insert(document.path) }
                }
            }
        }
        targets[key]!.members = members
        for path in stale where !isHeld(path) { updates.append(.unknown(path, since: sequence)) }
        targets[key]!.current = true
        targets[key]!.resumeToken = sequence
        try save(updates, targets: [key])
        processed(sequence)
    }

    /// One commit's changes to this client's targets (or, with `replay`, a missed one).
    private func changes(_ message: [String: JSON]) throws {
        guard let sequence = Self.integer(message["sequence"]), case .array(let entries)? = message["targets"] else { return }
        let replay = message["replay"] == .bool(true)
        if replay { statistics.replays += 1 }
        var updates: [CachedDocument] = []
        var written = Set<DocumentPath>()
        var removed = Set<DocumentPath>()
        var touched: [String] = []
        for entry in entries {
            guard case .object(let members) = entry, let id = Self.integer(members["targetId"]), let key = targetKeys[id],
                case .array(let changes)? = members["changes"]
            else { continue }
            touched.append(key)
            for change in changes {
                guard case .object(let fields) = change, case .string(let type)? = fields["type"] else { continue }
                if type == "removed" {
                    guard case .string(let text)? = fields["path"], let path = try? DocumentPath(text) else { continue }
                    targets[key]!.members.remove(path)
                    if case .document(let documentPath) = targets[key]!.target, documentPath == path {
                        updates.append(.missing(path, at: sequence))
                        written.insert(path)
                    } else {
                        removed.insert(path)
                    }
                } else if let documentJSON = fields["document"] {
                    let document = try Self.document(documentJSON)
                    updates.append(.exists(document, asOf: sequence))
                    written.insert(document.path)
                    targets[key]!.members.insert(document.path)
                }
            }
            if replay { targets[key]!.resumeToken = sequence }
        }
        for path in removed where !written.contains(path) && !isHeld(path) {
            updates.append(.unknown(path, since: sequence))
        }
        if !replay {
            // Commits arrive in order: every current target is up to date as of this one, touched or not.
            for key in targets.keys where targets[key]!.current {
                targets[key]!.resumeToken = sequence
                touched.append(key)
            }
        }
        try save(updates, targets: Set(touched))
        processed(sequence)
    }

    /// An `error`: a refused write, a refused or ended target, or a message the server could not use.
    private func receiveError(_ message: [String: JSON]) {
        let code = (message["code"].flatMap { if case .string(let c) = $0 { FlintError.Code(rawValue: c) } else { nil } }) ?? .internal
        var text = code.rawValue
        if case .string(let m)? = message["message"] { text = m }
        let error = FlintError(code, text)
        if case .string(let id)? = message["id"], let batchID = Int64(id) {
            commitFailed(batchID, error: error)
        } else if let targetID = Self.integer(message["targetId"]), let key = targetKeys[targetID] {
            // The target was refused (or ended by the rules): its listeners end with the error.
            for id in targets[key]?.listeners ?? [] {
                listeners.removeValue(forKey: id)?.sink.finish(throwing: error)
            }
            targets[key] = nil
            targetKeys[targetID] = nil
        } else {
            logger.warning("the server reported an error", metadata: ["code": "\(code.rawValue)", "message": "\(text)"])
        }
    }

    /// Whether an active target holds the document (so its cached state is kept up to date by that target).
    func isHeld(_ path: DocumentPath) -> Bool {
        targets.values.contains { target in
            if case .document(let held) = target.target, held == path { return true }
            return target.members.contains(path)
        }
    }

    /// Stores documents and the named targets' resume state in one transaction, then keeps the cache to its size.
    func save(_ updates: [CachedDocument], targets keys: some Sequence<String>) throws {
        var records: [String: LocalStore.TargetRecord] = [:]
        for key in keys {
            guard let target = targets[key], let token = target.resumeToken else { continue }
            records[key] = LocalStore.TargetRecord(resumeToken: token, members: target.members)
        }
        try store.apply(updates, targets: records, stamp: nextStamp())
        let unknown = Set(updates.filter { $0.state == .unknown }.map(\.path.description))
        if !unknown.isEmpty {
            // A stored target of no active listener may hold them; resuming it would leave them out.
            try store.forgetTargets(holdingAnyOf: unknown, except: Set(targets.keys))
        }
        if !updates.isEmpty { evictIfNeeded() }
    }

    /// After a message up to `sequence`: acknowledged writes the cache has now seen are dropped, and the views refreshed.
    func processed(_ sequence: Int64) {
        processedSequence = max(processedSequence, sequence)
        collectAcknowledged()
        refreshAll()
    }

    static func integer(_ json: JSON?) -> Int64? {
        if case .integer(let value)? = json { return value }
        return nil
    }

    /// A document in the form the API returns it.
    static func document(_ json: JSON) throws -> Document {
        let object = try JSONObject(json, context: "document")
        let path = try DocumentPath(try object.string("path"))
        guard let data = object["data"], case .map(let fields) = try Value(json: data, field: "data") else {
            throw FlintError(.internal, "a document from the server has no data")
        }
        guard let create = Timestamp(rfc3339: try object.string("createTime")), let update = Timestamp(rfc3339: try object.string("updateTime")),
            let version = try object.optionalInteger("version")
        else { throw FlintError(.internal, "a document from the server lacks its times or version") }
        return Document(path: path, fields: fields, createTime: create, updateTime: update, version: version)
    }
}
