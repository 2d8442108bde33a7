import FlintCore
import FlintRules

/// The one security-rules check of every document access, over REST and the realtime socket alike
/// (`service cloud.firestore`). Admins pass; with no ruleset deployed everyone else is denied.
struct DocumentRules: Sendable {
    let rules: LiveRules
    let store: any DocumentStore

    /// How often a commit is checked again when a document it was checked against changed before it applied.
    static let maximumAttempts = 5

    // MARK: Reads

    /// Checks a single-document read; `document` is what is stored (nil: nothing, and the rules see `resource == null`).
    func authorizeGet(_ path: DocumentPath, document: Document?, identity: Identity?) async throws(FlintError) {
        guard identity?.isAdmin != true else { return }
        let ruleset = try live()
        let request = RulesRequest(
            method: .get, path: path.segments, auth: identity.map(Self.auth), time: .now(),
            resource: document.map(Self.resource))
        let decision = await ruleset.evaluate(request, documents: StoreDocuments(store: store), budget: RulesReadBudget(limit: 10))
        guard decision.allowed else { throw Self.denied("get", path.description, identity) }
    }

    /// Checks a query (or a collection listing) against every document it returns: rules are not filters, so one
    /// document the rules do not allow fails the whole query. A query that returns nothing is allowed when some
    /// `allow list` could apply to its collection.
    func authorizeList(_ query: Query, documents: [Document], identity: Identity?) async throws(FlintError) {
        guard identity?.isAdmin != true else { return }
        let ruleset = try live()
        let auth = identity.map(Self.auth)
        if documents.isEmpty {
            guard ruleset.mayGrant(.list, path: query.parent + [query.collectionID, "*"]) else {
                throw Self.denied("list", query.collectionPath.description, identity)
            }
            return
        }
        let time = Timestamp.now()
        let source = StoreDocuments(store: store)
        let rulesQuery = Self.rulesQuery(query)
        for document in documents {
            let request = RulesRequest(
                method: .list, path: document.path.segments, auth: auth, time: time, resource: Self.resource(document), query: rulesQuery)
            guard await ruleset.evaluate(request, documents: source, budget: RulesReadBudget(limit: 10)).allowed else {
                throw Self.denied("list", query.collectionPath.description, identity)
            }
        }
    }

    /// Whether a realtime target may be told of a document (a document target reads with `get`, a query with `list`).
    func allows(_ document: Document, in target: ListenTarget, identity: Identity?) async -> Bool {
        guard identity?.isAdmin != true else { return true }
        guard let ruleset = rules.ruleset(.firestore) else { return false }
        var request = RulesRequest(method: .get, path: document.path.segments, auth: identity.map(Self.auth), resource: Self.resource(document))
        if case .query(let query) = target {
            request.method = .list
            request.query = Self.rulesQuery(query)
        }
        return await ruleset.evaluate(request, documents: StoreDocuments(store: store), budget: RulesReadBudget(limit: 10)).allowed
    }

    /// Checks a realtime target's first snapshot, as a read of the same documents would be checked.
    func authorizeListen(_ target: ListenTarget, documents: [Document], identity: Identity?) async throws(FlintError) {
        switch target {
        case .document(let path): try await authorizeGet(path, document: documents.first { $0.path == path }, identity: identity)
        case .query(let query): try await authorizeList(query, documents: documents, identity: identity)
        }
    }

    // MARK: Writes

    /// Checks every write of a commit against the state it would change, then commits it on the condition that none
    /// of those documents changed meanwhile; when one did, checks again (a few times) before giving up with `aborted`.
    ///
    /// A commit with a mutation id is deduplicated per caller: the id is scoped to the caller's uid before it reaches
    /// the store. An id already applied is answered with its first result before the rules run again (the rules and
    /// preconditions see the state the first application made, and could refuse it); and when the check or the commit
    /// fails, the id is looked up once more, since a copy of the same mutation may have been applied meanwhile.
    func commit(_ commit: Commit, identity: Identity?) async throws -> CommitResult {
        var commit = commit
        if let id = commit.mutationId {
            let key = Self.mutationKey(id, identity: identity)
            commit.mutationId = key
            if let earlier = try await store.appliedMutation(key) { return earlier }
        }
        do {
            return try await commitOnce(commit, identity: identity)
        } catch let error as FlintError {
            if let key = commit.mutationId, let earlier = try await store.appliedMutation(key) { return earlier }
            throw error
        }
    }

    private func commitOnce(_ commit: Commit, identity: Identity?) async throws -> CommitResult {
        guard identity?.isAdmin != true else { return try await store.commit(commit) }
        for _ in 0..<Self.maximumAttempts {
            let checked = try await authorize(commit, ruleset: try live(), identity: identity)
            do {
                return try await store.commit(checked)
            } catch let error as FlintError where error.code == .aborted {
                continue
            }
        }
        throw FlintError(.aborted, "the documents of this commit kept changing while its security rules were checked; retry")
    }

    /// The key under which the store records a mutation id: the caller's uid (empty when signed out), its length
    /// first so that no uid and id can run together into another pair, then the id.
    static func mutationKey(_ id: String, identity: Identity?) -> String {
        let uid = identity?.uid ?? ""
        return "\(uid.utf8.count):\(uid)/\(id)"
    }

    /// One document's state while a commit's writes are worked through.
    private struct State {
        var document: Document?
    }

    /// Evaluates each write with `resource` (the state before it) and `request.resource` (the state after it);
    /// `getAfter` sees the state after the whole commit. Returns the commit pinned to the versions it was checked on.
    private func authorize(_ commit: Commit, ruleset: Ruleset, identity: Identity?) async throws -> Commit {
        let time = Timestamp.now()
        var states: [DocumentPath: State] = [:]
        var pinned = commit
        var steps: [(write: Write, before: Document?, after: Document?)] = []
        for (index, write) in commit.writes.enumerated() {
            let before: Document?
            if let state = states[write.path] {
                before = state.document
            } else {
                before = try await store.document(at: write.path)
                pinned.expectedVersions[write.path] = before?.version ?? 0
            }
            let after: Document?
            do {
                try write.checkPrecondition(against: before)
                after = try write.apply(to: before, commitTime: time).map {
                    Document(path: write.path, fields: $0, createTime: before?.createTime ?? time, updateTime: time, version: 0)
                }
            } catch {
                throw commit.writes.count > 1 ? FlintError(error.code, "writes[\(index)]: \(error.message)") : error
            }
            steps.append((write, before, after))
            states[write.path] = State(document: after)
        }
        let source = StoreDocuments(store: store, after: states.mapValues { $0.document?.fields })
        let budget = RulesReadBudget(limit: commit.writes.count > 1 ? 20 : 10)
        let auth = identity.map(Self.auth)
        for (index, step) in steps.enumerated() {
            let method: RulesMethod
            switch step.write.operation {
            case .delete: method = .delete
            case .set, .update: method = step.before == nil ? .create : .update
            }
            let request = RulesRequest(
                method: method, path: step.write.path.segments, auth: auth, time: time, resource: step.before.map(Self.resource),
                requestResource: step.after.map(Self.resource))
            guard await ruleset.evaluate(request, documents: source, budget: budget).allowed else {
                let denial = Self.denied(method.rawValue, step.write.path.description, identity)
                throw commit.writes.count > 1 ? FlintError(denial.code, "writes[\(index)]: \(denial.message)") : denial
            }
        }
        return pinned
    }

    // MARK: Helpers

    private func live() throws(FlintError) -> Ruleset {
        guard let ruleset = rules.ruleset(.firestore) else {
            throw FlintError(
                .permissionDenied,
                "no security rules are deployed for documents, so only admins may use them; deploy rules with PUT /v1/admin/rules/firestore (see sdk-docs/rules.md)")
        }
        return ruleset
    }

    static func denied(_ method: String, _ path: String, _ identity: Identity?) -> FlintError {
        FlintError(
            .permissionDenied,
            "the security rules do not allow \(method) on \(path)" + (identity == nil ? " when signed out" : " for this user"))
    }

    static func resource(_ document: Document) -> RulesResource { .document(path: document.path, data: document.fields) }

    static func rulesQuery(_ query: Query) -> RulesQuery {
        RulesQuery(
            limit: (query.limit ?? query.limitToLast).map(Int64.init), offset: nil, orderBy: query.orderBy.first?.field.description)
    }

    /// What rules see as `request.auth`: the uid and the token's claims (custom claims, `email`, `sub`, and
    /// `firebase.sign_in_provider` as Firebase names the provider).
    static func auth(_ identity: Identity) -> RulesAuth {
        var token: [String: Value] = [:]
        for (key, json) in identity.claims {
            if let value = try? Value(json: json) { token[key] = value }
        }
        token["sub"] = .string(identity.uid)
        token["uid"] = .string(identity.uid)
        if let email = identity.email { token["email"] = .string(email) }
        token["provider"] = .string(identity.provider)
        token["firebase"] = .map(["sign_in_provider": .string(identity.provider)])
        if !identity.scopes.isEmpty { token["scope"] = .string(identity.scopes.sorted().joined(separator: " ")) }
        return RulesAuth(uid: identity.uid, token: token)
    }
}

/// `get()` and `exists()` read the stored documents; `getAfter()` and `existsAfter()` see a commit's own writes.
struct StoreDocuments: RulesDocumentSource {
    let store: any DocumentStore
    /// The state after the commit of each document it writes; nil inside: deleted.
    var after: [DocumentPath: [String: Value]?] = [:]

    func document(at path: DocumentPath) async throws -> [String: Value]? {
        try await store.document(at: path)?.fields
    }

    func documentAfter(at path: DocumentPath) async throws -> [String: Value]? {
        if let written = after[path] { return written }
        return try await store.document(at: path)?.fields
    }
}
