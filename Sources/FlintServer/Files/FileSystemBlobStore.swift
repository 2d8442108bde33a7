import Crypto
import FlintCore
import Foundation
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// Blobs as files under `<dataDir>/files/`: complete and partial blobs in `blobs/`, named by random ids; uploads in
/// progress in `tmp/`.
///
/// A simple upload is written to a temporary file, synced, renamed into `blobs/`, and the directory synced: a blob
/// either exists whole or not at all, even across a crash. Every blocking call runs on NIO's thread pool.
struct FileSystemBlobStore: BlobStore {
    let blobsDirectory: String
    let temporaryDirectory: String
    let threadPool: NIOThreadPool
    /// Bytes gathered from the request before one trip to the thread pool writes them.
    static var writeBatchSize: Int { 1 << 20 }

    /// Opens (creating if needed) the store under `directory` (`<dataDir>/files`).
    init(directory: String, threadPool: NIOThreadPool = .singleton) throws {
        blobsDirectory = directory + "/blobs"
        temporaryDirectory = directory + "/tmp"
        self.threadPool = threadPool
        for folder in [directory, blobsDirectory, temporaryDirectory] {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        try BlobFile.syncDirectory(directory)
    }

    // MARK: Simple uploads

    func store(_ body: some AsyncSequence<ByteBuffer, any Error> & Sendable, expectedSize: Int64) async throws -> StoredBlob {
        let id = Self.newID()
        let temporaryPath = temporaryDirectory + "/" + id
        guard let file = try await run({ try BlobFile.open(temporaryPath, flags: O_WRONLY | O_CREAT | O_EXCL) }) else {
            throw BlobIOError(call: "open", path: temporaryPath)
        }
        do {
            let digests = WritingDigests()
            let size = try await write(body, to: file, at: 0, limit: expectedSize, digests: digests)
            guard size == expectedSize else { throw BlobError.incomplete(expected: expectedSize, received: size) }
            let destination = blobsDirectory + "/" + id
            let blobsDirectory = blobsDirectory
            try await run {
                try file.sync()
                try file.close()
                try BlobFile.rename(temporaryPath, to: destination)
                try BlobFile.syncDirectory(blobsDirectory)
            }
            return StoredBlob(id: id, size: size, md5: Array(digests.md5.finalize()), sha256: Array(digests.sha256.finalize()))
        } catch {
            _ = try? await run { try BlobFile.remove(temporaryPath) }
            throw error
        }
    }

    // MARK: Partial blobs (resumable uploads)

    func createPartial() async throws -> String {
        let id = Self.newID()
        let path = blobsDirectory + "/" + id
        let blobsDirectory = blobsDirectory
        try await run {
            guard let file = try BlobFile.open(path, flags: O_WRONLY | O_CREAT | O_EXCL) else { throw BlobIOError(call: "open", path: path) }
            try file.close()
            try BlobFile.syncDirectory(blobsDirectory)
        }
        return id
    }

    func append(
        to partial: String, at offset: Int64, _ body: some AsyncSequence<ByteBuffer, any Error> & Sendable, maximumLength: Int64,
        checksum: UploadChecksum?
    ) async throws -> Int64 {
        let path = try blobPath(partial)
        let file: BlobFile = try await run {
            guard let file = try BlobFile.open(path, flags: O_WRONLY) else { throw BlobError.missingPartial }
            // Bytes past the recorded offset come from a request that failed before it was recorded: drop them.
            let (size, _) = try file.status()
            guard size >= offset else { throw BlobError.missingPartial }
            if size > offset { try file.truncate(to: offset) }
            return file
        }
        let digests = WritingDigests(checksum: checksum?.algorithm)
        do {
            let written = try await write(body, to: file, at: offset, limit: maximumLength, digests: digests, keepOnBodyError: true)
            if let checksum, digests.checksum?.finalize() != checksum.digest { throw BlobError.checksumMismatch }
            try await run { try file.sync() }
            return written
        } catch {
            _ = try? await run {
                try file.truncate(to: offset)
                try file.sync()
            }
            throw error
        }
    }

    func completePartial(_ partial: String, length: Int64) async throws -> StoredBlob {
        let path = try blobPath(partial)
        return try await run {
            guard let file = try BlobFile.open(path, flags: O_RDWR) else { throw BlobError.missingPartial }
            let (size, _) = try file.status()
            guard size >= length else { throw BlobError.missingPartial }
            if size > length {
                try file.truncate(to: length)
                try file.sync()
            }
            // The bytes came in over several requests (maybe across restarts): hash them once, now.
            var md5 = Insecure.MD5()
            var sha256 = SHA256()
            var offset: Int64 = 0
            while offset < length {
                let chunk = try file.read(count: Int(min(Int64(Self.writeBatchSize), length - offset)), at: offset)
                guard chunk.readableBytes > 0 else { throw BlobError.missingPartial }
                chunk.withUnsafeReadableBytes {
                    md5.update(bufferPointer: $0)
                    sha256.update(bufferPointer: $0)
                }
                offset += Int64(chunk.readableBytes)
            }
            return StoredBlob(id: partial, size: length, md5: Array(md5.finalize()), sha256: Array(sha256.finalize()))
        }
    }

    // MARK: Reading and removing

    func open(_ blob: String) async throws -> (any BlobReader)? {
        let path = try blobPath(blob)
        let threadPool = threadPool
        return try await run {
            guard let file = try BlobFile.open(path, flags: O_RDONLY) else { return nil }
            return FileBlobReader(file: file, size: try file.status().size, threadPool: threadPool)
        }
    }

    func remove(_ blob: String) async throws {
        let path = try blobPath(blob)
        _ = try await run { try BlobFile.remove(path) }
    }

    func blobs(lastWrittenBefore cutoff: Timestamp) async throws -> [String] {
        let blobsDirectory = blobsDirectory
        let temporaryDirectory = temporaryDirectory
        return try await run {
            for entry in try BlobFile.entries(of: temporaryDirectory) where entry.modified < cutoff {
                try BlobFile.remove(temporaryDirectory + "/" + entry.name)
            }
            return try BlobFile.entries(of: blobsDirectory).filter { $0.modified < cutoff && Self.isID($0.name) }.map(\.name)
        }
    }

    // MARK: Helpers

    /// Streams `body` into `file` from `offset`, in batches, hashing as it goes; at most `limit` bytes.
    /// - Parameter keepOnBodyError: a body that breaks off counts as ended (a resumable upload keeps what came).
    private func write(
        _ body: some AsyncSequence<ByteBuffer, any Error> & Sendable, to file: BlobFile, at offset: Int64, limit: Int64,
        digests: WritingDigests, keepOnBodyError: Bool = false
    ) async throws -> Int64 {
        var written: Int64 = 0
        var batch: [ByteBuffer] = []
        var batchBytes = 0
        func flush() async throws {
            guard !batch.isEmpty else { return }
            let buffers = batch
            let position = offset + written - Int64(batchBytes)
            batch.removeAll(keepingCapacity: true)
            batchBytes = 0
            try await run {
                var position = position
                for buffer in buffers {
                    try file.write(buffer, at: position)
                    buffer.withUnsafeReadableBytes { digests.update($0) }
                    position += Int64(buffer.readableBytes)
                }
            }
        }
        var iterator = body.makeAsyncIterator()
        while true {
            let chunk: ByteBuffer?
            do {
                chunk = try await iterator.next()
            } catch {
                // The client went away or sent a malformed body: a resumable upload keeps what came.
                if keepOnBodyError { break }
                throw BlobError.incomplete(expected: limit, received: written)
            }
            guard let chunk else { break }
            written += Int64(chunk.readableBytes)
            guard written <= limit else { throw BlobError.tooLong(limit: limit) }
            batch.append(chunk)
            batchBytes += chunk.readableBytes
            if batchBytes >= Self.writeBatchSize { try await flush() }
        }
        try await flush()
        return written
    }

    private func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        do {
            return try await threadPool.runIfActive(body)
        } catch let error as BlobIOError where error.isOutOfSpace {
            throw FlintError(.unavailable, "the server has no disk space left for files")
        }
    }

    private func blobPath(_ id: String) throws -> String {
        guard Self.isID(id) else { throw BlobIOError(call: "blob id", path: id) }
        return blobsDirectory + "/" + id
    }

    /// 128 random bits as 32 hex digits.
    static func newID() -> String {
        var generator = SystemRandomNumberGenerator()
        return FileMetadata.hex((0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    static func isID(_ name: String) -> Bool {
        name.utf8.count == 32 && name.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }
}

/// The hashes computed while a body is written: md5 and sha256 of a whole blob, or a client's checksum algorithm for
/// an append. Used by one upload at a time (its batches run one after another), hence `@unchecked Sendable`.
private final class WritingDigests: @unchecked Sendable {
    var md5 = Insecure.MD5()
    var sha256 = SHA256()
    var checksum: AnyHasher?
    private let whole: Bool

    /// Whole-blob digests.
    init() {
        whole = true
    }

    /// Only the client's checksum, if any.
    init(checksum: UploadChecksum.Algorithm?) {
        whole = false
        self.checksum = checksum?.makeHasher()
    }

    func update(_ bytes: UnsafeRawBufferPointer) {
        if whole {
            md5.update(bufferPointer: bytes)
            sha256.update(bufferPointer: bytes)
        }
        checksum?.update(bytes)
    }
}

/// A blob file open for reading.
private struct FileBlobReader: BlobReader {
    let file: BlobFile
    let size: Int64
    let threadPool: NIOThreadPool

    func read(_ range: Range<Int64>, chunkSize: Int, into write: (ByteBuffer) async throws -> Void) async throws {
        var offset = range.lowerBound
        while offset < range.upperBound {
            let count = Int(min(Int64(chunkSize), range.upperBound - offset))
            let position = offset
            let chunk = try await threadPool.runIfActive { [file] in try file.read(count: count, at: position) }
            guard chunk.readableBytes > 0 else { throw BlobIOError(call: "read past the end", path: file.path) }
            offset += Int64(chunk.readableBytes)
            try await write(chunk)
        }
    }
}
