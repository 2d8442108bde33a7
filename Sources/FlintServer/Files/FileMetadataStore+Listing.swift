import FlintCore
import Foundation
import GRDB

/// A page of a listing: objects, and with a delimiter the "folders" (common prefixes) in their place.
struct FileListing: Sendable {
    var items: [FileMetadata] = []
    var prefixes: [String] = []
    /// Where the next page starts (a key, inclusive), when there is more.
    var next: [UInt8]?
}

extension FileMetadataStore {
    /// Lists the objects whose names start with `prefix`, in byte order of their names, from the key `start`
    /// (inclusive) on. With a `delimiter`, the names that contain it after the prefix are rolled up into one common
    /// prefix each (up to and including the delimiter), as a bucket browser shows folders. Items and prefixes together
    /// fill at most `pageSize` entries.
    func list(prefix: String, delimiter: String?, start: [UInt8]?, pageSize: Int) async throws -> FileListing {
        let prefixBytes = Array(prefix.utf8)
        // UTF-8 never contains 0xFF, so every name that starts with a key is below that key plus 0xFF.
        let end = Data(prefixBytes + [0xFF])
        return try await pool.read { db in
            var listing = FileListing()
            var lower = Data(prefixBytes)
            if let start, prefixBytes.lexicographicallyPrecedes(start) { lower = Data(start) }
            var count = 0
            scan: while count < pageSize {
                let rows = try Row.fetchAll(
                    db, sql: "SELECT * FROM files WHERE name >= ? AND name < ? ORDER BY name LIMIT ?",
                    arguments: [lower, end, pageSize - count])
                if rows.isEmpty { break }
                for row in rows {
                    let name = Array(row["name"] as Data)
                    if let delimiter, let folder = Self.commonPrefix(of: name, after: prefixBytes.count, delimiter: Array(delimiter.utf8)) {
                        listing.prefixes.append(String(decoding: folder, as: UTF8.self))
                        count += 1
                        // Skip everything else in this folder, then read on from there.
                        lower = Data(folder + [0xFF])
                        continue scan
                    }
                    listing.items.append(Self.metadata(row))
                    count += 1
                    // The smallest key after this name: names never contain NUL.
                    lower = Data(name + [0x00])
                }
            }
            if count >= pageSize,
                try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM files WHERE name >= ? AND name < ?)", arguments: [lower, end]) == true
            {
                listing.next = Array(lower)
            }
            return listing
        }
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
