import Crypto
import FlintCore

/// A client's checksum of the bytes it sends (tus `Upload-Checksum: <algorithm> <base64 digest>`).
struct UploadChecksum: Sendable, Equatable {
    enum Algorithm: String, Sendable, CaseIterable {
        case sha1, md5, sha256
    }

    var algorithm: Algorithm
    var digest: [UInt8]

    /// Parses the header's value.
    /// - Throws: `FlintError` with `invalid-argument` for an unknown algorithm or a malformed digest.
    init(header: String) throws(FlintError) {
        let parts = header.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2 else {
            throw FlintError.invalidArgument("Upload-Checksum must be \"<algorithm> <base64 digest>\"")
        }
        guard let algorithm = Algorithm(rawValue: parts[0].lowercased()) else {
            throw FlintError.invalidArgument(
                "Upload-Checksum algorithm \(parts[0]) is not supported; use one of \(Algorithm.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let digest = Base64.decode(String(parts[1])), digest.count == algorithm.digestLength else {
            throw FlintError.invalidArgument("Upload-Checksum's digest is not a base64 \(algorithm.rawValue) digest")
        }
        self.algorithm = algorithm
        self.digest = digest
    }

    init(algorithm: Algorithm, digest: [UInt8]) {
        self.algorithm = algorithm
        self.digest = digest
    }
}

extension UploadChecksum.Algorithm {
    var digestLength: Int {
        switch self {
        case .sha1: Insecure.SHA1.byteCount
        case .md5: Insecure.MD5.byteCount
        case .sha256: SHA256.byteCount
        }
    }

    /// A running hash of this algorithm.
    func makeHasher() -> AnyHasher {
        switch self {
        case .sha1: .sha1(Insecure.SHA1())
        case .md5: .md5(Insecure.MD5())
        case .sha256: .sha256(SHA256())
        }
    }
}

/// A running hash of one of the checksum algorithms.
enum AnyHasher {
    case sha1(Insecure.SHA1)
    case md5(Insecure.MD5)
    case sha256(SHA256)

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        switch self {
        case .sha1(var hasher):
            hasher.update(bufferPointer: bytes)
            self = .sha1(hasher)
        case .md5(var hasher):
            hasher.update(bufferPointer: bytes)
            self = .md5(hasher)
        case .sha256(var hasher):
            hasher.update(bufferPointer: bytes)
            self = .sha256(hasher)
        }
    }

    func finalize() -> [UInt8] {
        switch self {
        case .sha1(let hasher): Array(hasher.finalize())
        case .md5(let hasher): Array(hasher.finalize())
        case .sha256(let hasher): Array(hasher.finalize())
        }
    }
}
