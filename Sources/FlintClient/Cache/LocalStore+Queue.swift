import FlintCore
import Foundation
import GRDB

/// A write made by the app and not yet acknowledged by the server, as the persisted queue holds it.
struct PendingMutation: Sendable {
    /// Its place in the queue: mutations are sent in this order.
    var batchID: Int64
    /// Sent with the commit, so that the server applies it once however often it is sent.
    var mutationID: String
    /// Who made it: it is sent only while that user is signed in ("" when signed out).
    var uid: String
    var writes: [Write]
    /// When it was made: what a pending `serverTimestamp` shows until the server's answer.
    var localTime: Timestamp

    var paths: Set<DocumentPath> { Set(writes.map(\.path)) }
}

/// The mutation queue and the listen targets' resume state.
extension LocalStore {
    /// Appends a mutation to the queue; it survives the app's restart until the server acknowledges or refuses it.
    func enqueue(_ writes: [Write], uid: String, localTime: Timestamp) throws -> PendingMutation {
        let mutationID = UUID().uuidString
        let text = try Commit(writes: writes).json.text
        let batchID = try database.write { db in
            try db.execute(
                sql: "INSERT INTO mutations (mutation_id, uid, writes, local_time) VALUES (?, ?, ?, ?)",
                arguments: [mutationID, uid, text, localTime.microseconds])
            return db.lastInsertedRowID
        }
        return PendingMutation(batchID: batchID, mutationID: mutationID, uid: uid, writes: writes, localTime: localTime)
    }

    /// The queued mutations of one user, oldest first.
    func pendingMutations(uid: String) throws -> [PendingMutation] {
        try database.read { db in
            try Row.fetchAll(
                db, sql: "SELECT batch_id, mutation_id, uid, writes, local_time FROM mutations WHERE uid = ? ORDER BY batch_id",
                arguments: [uid]
            ).map { row in
                PendingMutation(
                    batchID: row[0], mutationID: row[1], uid: row[2], writes: try Commit(json: JSON(parsing: row[3] as String)).writes,
                    localTime: Timestamp(microseconds: row[4]))
            }
        }
    }

    /// The paths written by any queued mutation of any user: never evicted.
    func pathsWithPendingWrites() throws -> Set<String> {
        try database.read { db in
            var paths = Set<String>()
            for text in try String.fetchAll(db, sql: "SELECT writes FROM mutations") {
                for write in try Commit(json: JSON(parsing: text)).writes { paths.insert(write.path.description) }
            }
            return paths
        }
    }

    /// Takes a mutation off the queue (acknowledged or refused), and stores what the server said of its documents.
    func removeMutation(_ batchID: Int64, updates: [CachedDocument] = [], stamp: Int64 = 0) throws {
        try database.write { db in
            try db.execute(sql: "DELETE FROM mutations WHERE batch_id = ?", arguments: [batchID])
            for update in updates { try Self.store(update, stamp: stamp, db: db) }
        }
    }

    // MARK: Targets

    /// What a target's last session left: the last commit it saw, and the documents the server said it held then.
    struct TargetRecord: Sendable {
        var resumeToken: Int64
        var members: Set<DocumentPath>
    }

    func target(_ key: String) throws -> TargetRecord? {
        try database.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT resume_token, members FROM targets WHERE key = ?", arguments: [key]) else {
                return nil
            }
            guard case .array(let items) = try JSON(parsing: row[1] as String) else { return nil }
            var members = Set<DocumentPath>()
            for case .string(let path) in items { members.insert(try DocumentPath(path)) }
            return TargetRecord(resumeToken: row[0], members: members)
        }
    }

    /// Stores documents from one server message and the targets' new state in one transaction, so that a target's
    /// resume token never runs ahead of the documents it stands for.
    func apply(_ updates: [CachedDocument], targets: [String: TargetRecord], stamp: Int64) throws {
        try database.write { db in
            for update in updates { try Self.store(update, stamp: stamp, db: db) }
            for (key, record) in targets {
                let members = JSON.array(record.members.map { .string($0.description) }).text
                try db.execute(
                    sql: "INSERT INTO targets (key, resume_token, members) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET resume_token = excluded.resume_token, members = excluded.members",
                    arguments: [key, record.resumeToken, members])
            }
        }
    }

    /// Forgets the resume state of every stored target.
    func forgetAllTargets() throws {
        try database.write { db in try db.execute(sql: "DELETE FROM targets") }
    }

    /// Forgets the resume state of the stored targets (other than `kept`) that hold one of `paths`: those documents
    /// are no longer known, and a resume would not send them again if they did not change.
    func forgetTargets(holdingAnyOf paths: Set<String>, except kept: Set<String>) throws {
        guard !paths.isEmpty else { return }
        try database.write { db in try Self.forgetTargets(holdingAnyOf: paths, except: kept, db: db) }
    }

    static func forgetTargets(holdingAnyOf paths: Set<String>, except kept: Set<String>, db: Database) throws {
        for row in try Row.fetchAll(db, sql: "SELECT key, members FROM targets") {
            let key: String = row[0]
            guard !kept.contains(key), case .array(let members) = try JSON(parsing: row[1] as String) else { continue }
            if members.contains(where: { if case .string(let p) = $0 { paths.contains(p) } else { false } }) {
                try db.execute(sql: "DELETE FROM targets WHERE key = ?", arguments: [key])
            }
        }
    }
}
