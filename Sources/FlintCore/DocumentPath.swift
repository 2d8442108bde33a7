/// The path of a document: collection and document ids alternating, `users/alice/posts/p1`.
///
/// A `DocumentPath` that exists is valid: every id was checked when it was made.
public struct DocumentPath: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The ids, an even number of them, at least two.
    public let segments: [String]

    /// The most segments a path may have.
    public static let maximumDepth = 100

    /// Parses a slash-separated path such as `rooms/r1/messages/m7`.
    public init(_ text: String) throws(FlintError) {
        let segments = try PathSegments.split(text)
        try self.init(segments: segments)
    }

    /// Makes a path from already separated ids, checking each.
    public init(segments: [String]) throws(FlintError) {
        try PathSegments.validate(segments)
        guard segments.count % 2 == 0 else {
            throw .invalidArgument(
                "\"\(segments.joined(separator: "/"))\" names a collection, not a document: a document path has an even number of segments")
        }
        self.segments = segments
    }

    init(unchecked segments: [String]) { self.segments = segments }

    /// The document's own id, the last segment.
    public var id: String { segments[segments.count - 1] }
    /// The collection that holds the document.
    public var collection: CollectionPath { CollectionPath(unchecked: Array(segments.dropLast())) }
    /// The id of the collection that holds the document (`messages` for `rooms/r1/messages/m7`).
    public var collectionID: String { segments[segments.count - 2] }

    public var description: String { segments.joined(separator: "/") }

    /// Orders paths segment by segment, each id by its UTF-8 bytes, as Firestore orders document names.
    public static func < (lhs: DocumentPath, rhs: DocumentPath) -> Bool {
        PathSegments.compare(lhs.segments, rhs.segments) < 0
    }

    /// Ids are equal when their UTF-8 bytes are, as `<` has it: `é` and `e\u{301}` name different documents,
    /// although Swift's `String ==` calls them equal.
    public static func == (lhs: DocumentPath, rhs: DocumentPath) -> Bool {
        PathSegments.equal(lhs.segments, rhs.segments)
    }

    public func hash(into hasher: inout Hasher) { PathSegments.hash(segments, into: &hasher) }

    /// Whether this document lies anywhere below `ancestor` (a document or collection path's segments).
    public func isDescendant(of ancestor: [String]) -> Bool {
        segments.count > ancestor.count && PathSegments.equal(segments.prefix(ancestor.count), ancestor)
    }
}

/// The path of a collection: `rooms` or `rooms/r1/messages`.
public struct CollectionPath: Sendable, Hashable, CustomStringConvertible {
    /// The ids, an odd number of them.
    public let segments: [String]

    public init(_ text: String) throws(FlintError) {
        try self.init(segments: try PathSegments.split(text))
    }

    public init(segments: [String]) throws(FlintError) {
        try PathSegments.validate(segments)
        guard segments.count % 2 == 1 else {
            throw .invalidArgument(
                "\"\(segments.joined(separator: "/"))\" names a document, not a collection: a collection path has an odd number of segments")
        }
        self.segments = segments
    }

    init(unchecked segments: [String]) { self.segments = segments }

    /// The collection's own id, the last segment.
    public var id: String { segments[segments.count - 1] }
    /// The document that holds this collection, nil for a top-level collection.
    public var parent: DocumentPath? {
        segments.count > 1 ? DocumentPath(unchecked: Array(segments.dropLast())) : nil
    }

    /// The path of the document with `id` in this collection.
    public func document(_ id: String) throws(FlintError) -> DocumentPath {
        try DocumentPath(segments: segments + [id])
    }

    public var description: String { segments.joined(separator: "/") }

    /// Ids compare by their UTF-8 bytes, as for `DocumentPath`.
    public static func == (lhs: CollectionPath, rhs: CollectionPath) -> Bool {
        PathSegments.equal(lhs.segments, rhs.segments)
    }

    public func hash(into hasher: inout Hasher) { PathSegments.hash(segments, into: &hasher) }
}

/// Splitting and checking path segments, shared by document and collection paths.
public enum PathSegments {
    /// The longest id, in UTF-8 bytes.
    public static let maximumIDBytes = 1500

    static func split(_ text: String) throws(FlintError) -> [String] {
        var trimmed = Substring(text)
        while trimmed.hasPrefix("/") { trimmed = trimmed.dropFirst() }
        while trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard !trimmed.isEmpty else { throw .invalidArgument("the path is empty") }
        return trimmed.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
    }

    /// Checks every id of a path, throwing a message that names the bad one.
    public static func validate(_ segments: [String]) throws(FlintError) {
        guard !segments.isEmpty else { throw .invalidArgument("the path is empty") }
        guard segments.count <= DocumentPath.maximumDepth else {
            throw .invalidArgument("the path has \(segments.count) segments; at most \(DocumentPath.maximumDepth) are allowed")
        }
        for segment in segments { try validateID(segment) }
    }

    /// Checks one collection or document id.
    public static func validateID(_ id: String) throws(FlintError) {
        let bytes = id.utf8.count
        if bytes == 0 { throw .invalidArgument("the path has an empty segment (two slashes in a row?)") }
        if bytes > maximumIDBytes { throw .invalidArgument("an id is \(bytes) bytes long; at most \(maximumIDBytes) bytes are allowed") }
        if id == "." || id == ".." { throw .invalidArgument("\"\(id)\" is not allowed as an id") }
        if id.contains("/") { throw .invalidArgument("an id must not contain '/'") }
        // The database stores paths as text, which ends at a NUL: an id with one would be read back cut short.
        if id.utf8.contains(0) { throw .invalidArgument("an id must not contain the NUL character (U+0000)") }
        if bytes >= 4, id.hasPrefix("__"), id.hasSuffix("__") {
            throw .invalidArgument("ids of the form __name__ are reserved: \"\(id)\"")
        }
    }

    /// Whether two segment lists hold the same ids, byte for byte (not by Swift's Unicode canonical equivalence).
    public static func equal(_ a: some Collection<String>, _ b: some Collection<String>) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.utf8.elementsEqual($1.utf8) }
    }

    /// Hashes a segment list consistently with `equal`.
    static func hash(_ segments: [String], into hasher: inout Hasher) {
        hasher.combine(segments.count)
        for segment in segments {
            var segment = segment
            segment.withUTF8 { bytes in
                hasher.combine(bytes.count)
                hasher.combine(bytes: UnsafeRawBufferPointer(bytes))
            }
        }
    }

    /// Compares two segment lists segment by segment, each by UTF-8 bytes: -1, 0 or 1.
    public static func compare(_ a: [String], _ b: [String]) -> Int {
        for (x, y) in zip(a, b) where !x.utf8.elementsEqual(y.utf8) {
            return x.utf8.lexicographicallyPrecedes(y.utf8) ? -1 : 1
        }
        return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
    }
}
