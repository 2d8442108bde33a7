import FlintCore
@testable import FlintServer
import FlintTestSupport
import Testing

/// `DocumentStore.documents(in:descendants:after:limit:)`: every document once, in name order, page after page.
@Suite struct StoreScanTests {
    /// Paths chosen to trip a byte-prefix scan: ids that are prefixes of others, a control character that sorts below
    /// every printable one, a collection named like a longer one, nesting at several depths.
    static let paths = [
        "rooms/r1", "rooms/r1/messages/m1", "rooms/r1/messages/m2", "rooms/r1/messages/m2/reactions/x",
        "rooms/r10", "rooms/r\u{1}", "rooms/r2", "rooms/r2/members/alice", "roomsX/a", "room/a", "r/rooms",
        "users/alice", "users/alice/rooms/r1", "a/b", "zz/é", "zz/e\u{301}",
    ]

    func seed(_ store: any DocumentStore) async throws {
        let writes = try Self.paths.enumerated().map { index, path in
            Write(path: try DocumentPath(path), operation: .set(data: ["n": .integer(Int64(index))], merge: false))
        }
        _ = try await store.commit(try Commit(writes: writes))
    }

    /// Reads every page of a scan with a small page size.
    func scan(_ store: any DocumentStore, _ collection: CollectionPath?, descendants: Bool, pageSize: Int) async throws -> [String] {
        var after: DocumentPath? = nil
        var seen: [String] = []
        while seen.count <= Self.paths.count {
            let page = try await store.documents(in: collection, descendants: descendants, after: after, limit: pageSize)
            seen += page.map(\.path.description)
            guard page.count == pageSize, let last = page.last else { return seen }
            after = last.path
        }
        Issue.record("the scan did not end: \(seen)")
        return seen
    }

    func expected(_ keep: (DocumentPath) -> Bool) throws -> [String] {
        try Self.paths.map { try DocumentPath($0) }.filter(keep).sorted().map(\.description)
    }

    @Test(arguments: StoreKind.available, [1, 3, 100])
    func theWholeDatabaseComesInNameOrderOnce(kind: StoreKind, pageSize: Int) async throws {
        try await withStore(kind) { store in
            try await seed(store)
            let scanned = try await scan(store, nil, descendants: false, pageSize: pageSize)
            let expected = try expected { _ in true }
            #expect(scanned == expected, "\(scanned.map(\.debugDescription)) vs \(expected.map(\.debugDescription))")
        }
    }

    @Test(arguments: StoreKind.available, [1, 3, 100])
    func aCollectionAloneOrWithEverythingBelowIt(kind: StoreKind, pageSize: Int) async throws {
        try await withStore(kind) { store in
            try await seed(store)
            let rooms = try CollectionPath("rooms")
            let direct = try await scan(store, rooms, descendants: false, pageSize: pageSize)
            #expect(direct == (try expected { $0.segments.count == 2 && $0.segments[0] == "rooms" }))
            let all = try await scan(store, rooms, descendants: true, pageSize: pageSize)
            #expect(all == (try expected { $0.isDescendant(of: ["rooms"]) }))
            #expect(all.contains("rooms/r1/messages/m2/reactions/x") && !all.contains("roomsX/a") && !all.contains("room/a"))
            let messages = try await scan(store, try CollectionPath("rooms/r1/messages"), descendants: true, pageSize: pageSize)
            #expect(messages == ["rooms/r1/messages/m1", "rooms/r1/messages/m2", "rooms/r1/messages/m2/reactions/x"])
        }
    }

    @Test(arguments: StoreKind.available)
    func anEmptyStoreOrCollectionGivesAnEmptyPage(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            #expect(try await store.documents(in: nil, descendants: false, after: nil, limit: 10).isEmpty)
            try await seed(store)
            #expect(try await store.documents(in: try CollectionPath("nothing"), descendants: true, after: nil, limit: 10).isEmpty)
            let last = try DocumentPath("zz/é")
            #expect(try await store.documents(in: nil, descendants: false, after: last, limit: 10).isEmpty)
        }
    }
}
