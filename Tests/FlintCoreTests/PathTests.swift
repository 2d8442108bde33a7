import Testing
@testable import FlintCore

@Suite struct PathTests {
    @Test(arguments: [
        "users/alice", "rooms/r1/messages/m7", "a/b/c/d/e/f", "users/alice smith", "ünï/cødé", "x/😀", "c/___", "c/__x",
        "c/x__", "c/_", "c/...", "c/.a", "c/a.", "c/__", "c/$x", "c/a\\b",
    ])
    func validDocumentPathsParse(text: String) throws {
        let path = try DocumentPath(text)
        #expect(path.description == text)
        #expect(path.segments.count % 2 == 0)
    }

    @Test func partsOfADocumentPath() throws {
        let path = try DocumentPath("rooms/r1/messages/m7")
        #expect(path.segments == ["rooms", "r1", "messages", "m7"])
        #expect(path.id == "m7")
        #expect(path.collectionID == "messages")
        #expect(path.collection.description == "rooms/r1/messages")
        #expect(try path.collection.parent == DocumentPath("rooms/r1"))
        #expect(try CollectionPath("rooms").parent == nil)
        #expect(try CollectionPath("rooms/r1/messages").document("m7") == path)
        #expect(try CollectionPath("rooms/r1/messages").id == "messages")
    }

    @Test func leadingAndTrailingSlashesAreIgnored() throws {
        #expect(try DocumentPath("/users/alice/") == DocumentPath("users/alice"))
        #expect(try CollectionPath("//users/") == CollectionPath("users"))
    }

    @Test(arguments: [
        ("users//alice", "empty segment"),
        ("users/alice//posts/p1", "empty segment"),
        ("c/.", "\".\" is not allowed"),
        ("c/..", "\"..\" is not allowed"),
        ("./b", "\".\" is not allowed"),
        ("c/__x__", "reserved"),
        ("c/____", "reserved"),
        ("__name__/x", "reserved"),
        ("c/__😀__", "reserved"),
        ("", "empty"),
        ("/", "empty"),
        ("///", "empty"),
        ("rooms/r\u{0}x", "NUL"),
    ])
    func invalidIDsAreRejectedWithAReason(text: String, reason: String) {
        expectFlintError(.invalidArgument, mentioning: reason) { try DocumentPath(text) }
    }

    @Test func idsUpTo1500BytesAreAllowed() throws {
        #expect(try DocumentPath("c/" + String(repeating: "x", count: 1500)).id.utf8.count == 1500)
        #expect(try DocumentPath("c/" + String(repeating: "é", count: 750)).id.utf8.count == 1500)
        expectFlintError(.invalidArgument, mentioning: "1501 bytes") {
            try DocumentPath("c/" + String(repeating: "x", count: 1501))
        }
        // Bytes, not characters, count.
        expectFlintError(.invalidArgument, mentioning: "1502 bytes") {
            try DocumentPath("c/" + String(repeating: "é", count: 751))
        }
        expectFlintError(.invalidArgument, mentioning: "at most 1500") {
            try CollectionPath(String(repeating: "😀", count: 376))
        }
    }

    @Test func pathsUpTo100SegmentsAreAllowed() throws {
        let hundred = (0..<100).map { "s\($0)" }
        #expect(try DocumentPath(hundred.joined(separator: "/")).segments.count == 100)
        #expect(try CollectionPath(segments: Array(hundred.prefix(99))).segments.count == 99)
        expectFlintError(.invalidArgument, mentioning: "101 segments") {
            try CollectionPath((0..<101).map { "s\($0)" }.joined(separator: "/"))
        }
        expectFlintError(.invalidArgument, mentioning: "102 segments") {
            try DocumentPath(segments: (0..<102).map { "s\($0)" })
        }
    }

    @Test(arguments: ["users", "users/alice/posts", "a/b/c"])
    func aCollectionPathIsNotADocument(text: String) {
        expectFlintError(.invalidArgument, mentioning: "names a collection, not a document", "even number") {
            try DocumentPath(text)
        }
    }

    @Test(arguments: ["users/alice", "a/b/c/d"])
    func aDocumentPathIsNotACollection(text: String) {
        expectFlintError(.invalidArgument, mentioning: "names a document, not a collection", "odd number") {
            try CollectionPath(text)
        }
    }

    @Test func segmentsAreCheckedWhenGivenSeparately() {
        expectFlintError(.invalidArgument, mentioning: "'/'") { try DocumentPath(segments: ["users", "a/b"]) }
        expectFlintError(.invalidArgument, mentioning: "empty") { try DocumentPath(segments: []) }
        expectFlintError(.invalidArgument, mentioning: "empty segment") { try DocumentPath(segments: ["users", ""]) }
        expectFlintError(.invalidArgument, mentioning: "'/'") { try CollectionPath("rooms").document("a/b") }
        expectFlintError(.invalidArgument, mentioning: "reserved") { try CollectionPath("rooms").document("__id__") }
    }

    @Test func pathsOrderSegmentBySegmentByUTF8Bytes() throws {
        // Whole-string order would put "a!/b" first ('!' < '/'); segment order compares "a" with "a!" first.
        #expect(try DocumentPath("a/b") < DocumentPath("a!/b"))
        #expect(try DocumentPath("c/a") < DocumentPath("c/a/d/x"))
        #expect(try DocumentPath("c/a/d/x") < DocumentPath("c/b"))
        #expect(try DocumentPath("c/\u{FFFF}") < DocumentPath("c/\u{10000}"))
        #expect(try DocumentPath("c/Z") < DocumentPath("c/a"))
        #expect(PathSegments.compare(["a", "b"], ["a", "b"]) == 0)
        #expect(PathSegments.compare(["a"], ["a", "b"]) == -1)
        #expect(PathSegments.compare(["b"], ["a", "b"]) == 1)
    }

    @Test func idsThatDifferOnlyInUnicodeNormalisationAreDifferentDocuments() throws {
        // Swift's String == treats these as equal; Firestore ids are bytes.
        let precomposed = try DocumentPath("c/é")
        let decomposed = try DocumentPath("c/e\u{301}")
        #expect(precomposed != decomposed)
        #expect(decomposed < precomposed)
        #expect(Set([precomposed, decomposed]).count == 2)
        #expect(try CollectionPath("é") != CollectionPath("e\u{301}"))
        #expect(!precomposed.isDescendant(of: ["c", "e\u{301}"]))
    }

    @Test func equalityHashingAndOrderAgree() throws {
        let paths = try ["a/b", "a/b", "a/c", "a/b/c/d", "é/x", "e\u{301}/x"].map { try DocumentPath($0) }
        for a in paths {
            for b in paths {
                let equal = a == b
                #expect(equal == (!(a < b) && !(b < a)), "\(a) vs \(b)")
                if equal { #expect(a.hashValue == b.hashValue) }
            }
        }
    }

    @Test func descendantsLieBelowAnAncestor() throws {
        let path = try DocumentPath("rooms/r1/messages/m7")
        #expect(path.isDescendant(of: ["rooms"]))
        #expect(path.isDescendant(of: ["rooms", "r1"]))
        #expect(path.isDescendant(of: ["rooms", "r1", "messages"]))
        #expect(path.isDescendant(of: []))
        #expect(!path.isDescendant(of: ["rooms", "r1", "messages", "m7"]))
        #expect(!path.isDescendant(of: ["rooms", "r2"]))
        #expect(!path.isDescendant(of: ["room"]))
    }
}
