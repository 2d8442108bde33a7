import FlintCore
import Foundation

/// A page of a listing: objects, and with a delimiter the "folders" (common prefixes) in their place.
struct FileListing: Sendable {
    var items: [FileMetadata] = []
    var prefixes: [String] = []
    /// Where the next page starts (a key, inclusive), when there is more.
    var next: [UInt8]?
}

/// The walk behind a listing, as a value that both metadata stores drive: it says which names to fetch next (a key
/// range in byte order and a limit), takes the objects fetched, and rolls names that contain the delimiter after the
/// prefix into one common prefix each (up to and including the delimiter), skipping the rest of that "folder".
struct FileListingScan {
    let prefix: [UInt8]
    let delimiter: [UInt8]?
    let pageSize: Int
    /// UTF-8 never contains 0xFF, so every name that starts with the prefix is below the prefix plus 0xFF.
    let end: [UInt8]
    /// The smallest name not yet looked at.
    private(set) var lower: [UInt8]
    private var listing = FileListing()
    private var count = 0
    private var exhausted = false

    init(prefix: String, delimiter: String?, start: [UInt8]?, pageSize: Int) {
        self.prefix = Array(prefix.utf8)
        self.delimiter = delimiter.map { Array($0.utf8) }
        self.pageSize = pageSize
        end = self.prefix + [0xFF]
        lower = self.prefix
        if let start, self.prefix.lexicographicallyPrecedes(start) { lower = start }
    }

    /// The names to fetch next: those in `lower..<end`, in order, at most `limit`; nil when the page is done.
    var nextFetch: (lower: Data, end: Data, limit: Int)? {
        exhausted || count >= pageSize ? nil : (Data(lower), Data(end), pageSize - count)
    }

    /// Whether the page filled up: then the store checks for names in `lower..<end` to tell whether there is more.
    var isFull: Bool { count >= pageSize }

    /// Takes the objects fetched for `nextFetch`, in name order.
    mutating func take(_ objects: [FileMetadata]) {
        if objects.isEmpty { exhausted = true }
        for object in objects {
            let name = Array(object.path.string.utf8)
            if let delimiter, let folder = Self.commonPrefix(of: name, after: prefix.count, delimiter: delimiter) {
                listing.prefixes.append(String(decoding: folder, as: UTF8.self))
                count += 1
                // Skip everything else in this folder, then read on from there.
                lower = folder + [0xFF]
                return
            }
            listing.items.append(object)
            count += 1
            // The smallest key after this name: names never contain NUL.
            lower = name + [0x00]
        }
    }

    /// The page, with where the next one starts when the store found more.
    func result(more: Bool) -> FileListing {
        var listing = listing
        if more { listing.next = lower }
        return listing
    }

    /// The part of `name` up to and including the first `delimiter` after its first `skip` bytes, if it has one there.
    static func commonPrefix(of name: [UInt8], after skip: Int, delimiter: [UInt8]) -> [UInt8]? {
        guard !delimiter.isEmpty, name.count >= skip + delimiter.count else { return nil }
        var index = skip
        while index + delimiter.count <= name.count {
            if name[index..<(index + delimiter.count)].elementsEqual(delimiter) { return Array(name[..<(index + delimiter.count)]) }
            index += 1
        }
        return nil
    }
}
