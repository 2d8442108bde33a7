import FlintCore
import NIOCore

/// Where the bytes of objects live: the local filesystem now, an S3-compatible store later.
///
/// Blobs are named by opaque ids that the store makes; object paths never reach it. A blob is immutable once stored.
/// A resumable upload writes into a partial blob that grows by appends and is completed in place. The metadata store
/// decides which blobs are objects; the housekeeper removes the rest.
protocol BlobStore: Sendable {
    /// Streams `body` into a new blob and makes it durable, all or nothing: on any error (a body longer or shorter
    /// than `expectedSize`, a broken connection, a full disk) nothing is left behind.
    /// - Throws: `BlobError`, or the body's error.
    func store(_ body: some AsyncSequence<ByteBuffer, any Error> & Sendable, expectedSize: Int64) async throws -> StoredBlob

    /// Starts an empty partial blob for a resumable upload and returns its id.
    func createPartial() async throws -> String

    /// Writes `body` into the partial blob from `offset` (anything stored beyond `offset` is dropped first), at most
    /// `maximumLength` bytes, and makes the bytes durable. Bytes that arrived before the body broke off are kept, unless
    /// `checksum` is given and does not match them: then none are.
    /// - Returns: how many bytes were appended.
    /// - Throws: `BlobError.tooLong` past `maximumLength` and `.checksumMismatch` (nothing kept in either case).
    func append(
        to partial: String, at offset: Int64, _ body: some AsyncSequence<ByteBuffer, any Error> & Sendable, maximumLength: Int64,
        checksum: UploadChecksum?
    ) async throws -> Int64

    /// Turns a partial blob of `length` bytes into a stored blob (for the filesystem, in place: the id stays).
    func completePartial(_ partial: String, length: Int64) async throws -> StoredBlob

    /// Opens a blob for reading; nil when there is none.
    func open(_ blob: String) async throws -> (any BlobReader)?

    /// Removes a blob, complete or partial; no error if it is already gone.
    func remove(_ blob: String) async throws

    /// The ids of blobs (complete or partial) last written before `cutoff`, for the housekeeper; and removes abandoned
    /// temporary files older than it.
    func blobs(lastWrittenBefore cutoff: Timestamp) async throws -> [String]
}

/// An open blob: its size and its bytes, read in chunks.
protocol BlobReader: Sendable {
    var size: Int64 { get }
    /// Calls `write` with the bytes of `range`, in order, in chunks of at most `chunkSize`; awaiting `write` is the
    /// back-pressure.
    func read(_ range: Range<Int64>, chunkSize: Int, into write: (ByteBuffer) async throws -> Void) async throws
}

/// A durable blob with what was learned while storing it.
struct StoredBlob: Sendable, Equatable {
    var id: String
    var size: Int64
    var md5: [UInt8]
    var sha256: [UInt8]
}

/// Why a blob was not stored.
enum BlobError: Error, Equatable {
    /// The body is longer than allowed.
    case tooLong(limit: Int64)
    /// The body ended before its declared size: an interrupted upload.
    case incomplete(expected: Int64, received: Int64)
    /// The appended bytes do not match the client's checksum.
    case checksumMismatch
    /// The partial blob is missing or shorter than the upload says.
    case missingPartial
}
