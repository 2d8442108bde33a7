import FlintCore

/// One document change as a listener sees it.
enum TargetChange: Sendable, Equatable {
    case added(Document)
    case modified(Document)
    case removed(DocumentPath)
}

/// What the server knows of one listener's target: the documents the client holds for it, and how to turn a
/// committed change into `added` / `modified` / `removed`. A value type, driven by the hub and tested directly.
struct TargetState: Sendable {
    let target: ListenTarget
    /// Commits up to this sequence are already reflected in what the client holds.
    var since: Int64
    /// The documents the client holds, by path.
    private(set) var members: [DocumentPath: Document]
    /// For a limited query: the window, in scan order (the query's order; reversed for `limitToLast`).
    private(set) var window: [Document]
    /// A limited window lost a member while full: documents beyond it may now belong, so it must be read again.
    var needsRefill = false

    private let scanOrders: [Query.Order]
    private let capacity: Int?
    /// `limitToLast`: the window is kept in reverse, so that both limits fill it from its front.
    private let reversed: Bool

    init(target: ListenTarget, documents: [Document], since: Int64) {
        self.target = target
        self.since = since
        self.members = Dictionary(documents.map { ($0.path, $0) }, uniquingKeysWith: { _, last in last })
        switch target {
        case .query(let query) where query.limitToLast != nil:
            scanOrders = query.normalizedOrderBy.map { Query.Order(field: $0.field, descending: !$0.descending) }
            capacity = query.limitToLast
            reversed = true
            window = documents.reversed()
        case .query(let query):
            scanOrders = query.normalizedOrderBy
            capacity = query.limit
            reversed = false
            window = query.limit != nil ? documents : []
        case .document:
            scanOrders = []
            capacity = nil
            reversed = false
            window = []
        }
    }

    var isWindowed: Bool { capacity != nil }

    /// Applies one committed change and returns what the client must be told.
    mutating func apply(_ change: Change) -> [TargetChange] {
        let held = members[change.path]
        let included = target.includes(change.path, change.document)
        guard let capacity else {
            switch (held, included) {
            case (nil, true):
                members[change.path] = change.document
                return [.added(change.document!)]
            case (.some, true):
                members[change.path] = change.document
                return [.modified(change.document!)]
            case (.some, false):
                members[change.path] = nil
                return [.removed(change.path)]
            case (nil, false):
                return []
            }
        }
        return applyToWindow(change, held: held, included: included, capacity: capacity)
    }

    private mutating func applyToWindow(_ change: Change, held: Document?, included: Bool, capacity: Int) -> [TargetChange] {
        let wasFull = window.count >= capacity
        if held != nil {
            window.removeAll { $0.path == change.path }
            members[change.path] = nil
            guard included, let document = change.document else {
                if wasFull { needsRefill = true }
                return [.removed(change.path)]
            }
            insert(document)
            // Moved to the end of a full window: a document outside it may now come before it.
            if wasFull, window.last?.path == document.path { needsRefill = true }
            return [.modified(document)]
        }
        guard included, let document = change.document else { return [] }
        if window.count < capacity {
            // A window with room holds every match (it is refilled whenever it loses one while full).
            insert(document)
            return [.added(document)]
        }
        guard let last = window.last, Query.compare(document, last, orders: scanOrders) < 0 else { return [] }
        insert(document)
        let pushedOut = window.removeLast()
        members[pushedOut.path] = nil
        return [.removed(pushedOut.path), .added(document)]
    }

    private mutating func insert(_ document: Document) {
        let index = window.firstIndex { Query.compare(document, $0, orders: scanOrders) < 0 } ?? window.endIndex
        window.insert(document, at: index)
        members[document.path] = document
    }

    /// Replaces a limited window with a fresh read of it and returns the difference.
    mutating func refill(with documents: [Document]) -> [TargetChange] {
        needsRefill = false
        let fresh = Dictionary(documents.map { ($0.path, $0) }, uniquingKeysWith: { _, last in last })
        var changes: [TargetChange] = []
        for (path, _) in members where fresh[path] == nil { changes.append(.removed(path)) }
        for document in documents {
            if let held = members[document.path] {
                if held.version != document.version { changes.append(.modified(document)) }
            } else {
                changes.append(.added(document))
            }
        }
        members = fresh
        window = reversed ? documents.reversed() : documents
        return changes
    }

    /// The paths the client holds.
    var memberPaths: Dictionary<DocumentPath, Document>.Keys { members.keys }
}
