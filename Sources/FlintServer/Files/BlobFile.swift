import FlintCore
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open file descriptor of the blob store, closed when the last reference to it goes (so a download whose body is
/// never written cannot leak it). Its calls block: run them on a thread pool, never on Swift concurrency's threads.
///
/// Not thread-safe: one task at a time uses a file (an upload's loop, a download's body), which is what makes the
/// `@unchecked Sendable` true.
final class BlobFile: @unchecked Sendable {
    let path: String
    private var descriptor: CInt

    private init(path: String, descriptor: CInt) {
        self.path = path
        self.descriptor = descriptor
    }

    deinit {
        if descriptor >= 0 { Glibc.close(descriptor) }
    }

    /// Opens `path`; nil when it does not exist.
    static func open(_ path: String, flags: CInt, mode: mode_t = 0o600) throws -> BlobFile? {
        let descriptor = Glibc.open(path, flags | O_CLOEXEC, mode)
        if descriptor < 0 {
            if errno == ENOENT { return nil }
            throw BlobIOError(call: "open", path: path)
        }
        return BlobFile(path: path, descriptor: descriptor)
    }

    /// Writes all of `buffer` at `offset`.
    func write(_ buffer: ByteBuffer, at offset: Int64) throws {
        var offset = offset
        try buffer.withUnsafeReadableBytes { bytes in
            var done = 0
            while done < bytes.count {
                let written = pwrite(descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(offset))
                if written < 0 {
                    if errno == EINTR { continue }
                    throw BlobIOError(call: "pwrite", path: path)
                }
                done += written
                offset += Int64(written)
            }
        }
    }

    /// Reads up to `count` bytes at `offset` (fewer only at the end of the file).
    func read(count: Int, at offset: Int64) throws -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: count)
        var total = 0
        while total < count {
            let got = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count - total) { bytes -> Int in
                while true {
                    let got = pread(descriptor, bytes.baseAddress!, count - total, off_t(offset + Int64(total)))
                    if got < 0 {
                        if errno == EINTR { continue }
                        throw BlobIOError(call: "pread", path: path)
                    }
                    return got
                }
            }
            if got == 0 { break }
            total += got
        }
        return buffer
    }

    /// The file's size and the time it was last written.
    func status() throws -> (size: Int64, modified: Timestamp) {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw BlobIOError(call: "fstat", path: path) }
        return (Int64(info.st_size), Timestamp(microseconds: Int64(info.st_mtim.tv_sec) * 1_000_000 + Int64(info.st_mtim.tv_nsec) / 1000))
    }

    func truncate(to length: Int64) throws {
        guard ftruncate(descriptor, off_t(length)) == 0 else { throw BlobIOError(call: "ftruncate", path: path) }
    }

    /// Forces the file's bytes (and, for a directory, its entries) to stable storage.
    func sync() throws {
        guard fsync(descriptor) == 0 else { throw BlobIOError(call: "fsync", path: path) }
    }

    /// Closes now, reporting an error (deinit would close silently).
    func close() throws {
        let descriptor = self.descriptor
        self.descriptor = -1
        guard Glibc.close(descriptor) == 0 else { throw BlobIOError(call: "close", path: path) }
    }

    /// Makes a directory's entries (a rename or a new file in it) durable.
    static func syncDirectory(_ path: String) throws {
        guard let directory = try open(path, flags: O_RDONLY | O_DIRECTORY) else { throw BlobIOError(call: "open", path: path) }
        try directory.sync()
        try directory.close()
    }

    /// Renames `source` to `destination` atomically, replacing nothing: the names are fresh random ids.
    static func rename(_ source: String, to destination: String) throws {
        guard Glibc.rename(source, destination) == 0 else { throw BlobIOError(call: "rename", path: source) }
    }

    /// Removes a file; true if it existed.
    @discardableResult
    static func remove(_ path: String) throws -> Bool {
        if unlink(path) == 0 { return true }
        if errno == ENOENT { return false }
        throw BlobIOError(call: "unlink", path: path)
    }

    /// The names in a directory with their last-write times.
    static func entries(of directory: String) throws -> [(name: String, modified: Timestamp)] {
        guard let handle = opendir(directory) else { throw BlobIOError(call: "opendir", path: directory) }
        defer { closedir(handle) }
        var entries: [(String, Timestamp)] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
                String(decoding: bytes.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            var info = stat()
            guard stat(directory + "/" + name, &info) == 0 else { continue }  // removed meanwhile
            entries.append((name, Timestamp(microseconds: Int64(info.st_mtim.tv_sec) * 1_000_000 + Int64(info.st_mtim.tv_nsec) / 1000)))
        }
        return entries
    }
}

/// A failed system call of the blob store: a server-side problem, logged, never shown to clients as such.
struct BlobIOError: Error, CustomStringConvertible {
    var call: String
    var path: String
    var code: CInt

    init(call: String, path: String) {
        self.call = call
        self.path = path
        self.code = errno
    }

    /// The disk (or the user's filesystem quota) is full.
    var isOutOfSpace: Bool { code == ENOSPC || code == EDQUOT }

    var description: String { "\(call)(\(path)): \(String(cString: strerror(code)))" }
}
