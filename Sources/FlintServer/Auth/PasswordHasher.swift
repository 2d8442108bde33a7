import Crypto
import CryptoExtras
import FlintCore
import Foundation

/// Password hashing with scrypt. A hash carries its parameters —
/// `$scrypt$ln=17,r=8,p=1$<salt>$<key>` (base64) — so the cost can be raised later: a hash made with weaker
/// parameters verifies, and `needsRehash` tells the caller to store a new one.
struct PasswordHasher: Sendable {
    /// scrypt's cost: N = 2^logN, block size r, parallelism p.
    struct Cost: Sendable, Equatable {
        var logN: Int
        var r: Int
        var p: Int

        /// OWASP's recommendation for scrypt (Password Storage Cheat Sheet): N=2^17, r=8, p=1.
        static let owasp = Cost(logN: 17, r: 8, p: 1)
    }

    let cost: Cost
    static let saltBytes = 16
    static let keyBytes = 32

    func hash(_ password: String) throws -> String {
        var salt = [UInt8](repeating: 0, count: Self.saltBytes)
        var generator = SystemRandomNumberGenerator()
        for i in salt.indices { salt[i] = UInt8.random(in: .min ... .max, using: &generator) }
        let key = try Self.derive(password, salt: salt, cost: cost)
        return "$scrypt$ln=\(cost.logN),r=\(cost.r),p=\(cost.p)$\(Base64.encode(salt))$\(Base64.encode(key))"
    }

    /// Whether `password` matches `encoded`, compared in constant time.
    func verify(_ password: String, against encoded: String) -> Bool {
        guard let parsed = Self.parse(encoded), let key = try? Self.derive(password, salt: parsed.salt, cost: parsed.cost) else {
            return false
        }
        guard key.count == parsed.key.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(key, parsed.key) { difference |= a ^ b }
        return difference == 0
    }

    /// Whether a stored hash was made with a different cost than the current one.
    func needsRehash(_ encoded: String) -> Bool {
        Self.parse(encoded)?.cost != cost
    }

    /// A hash of nothing, verified against when the user does not exist, so that a failed sign-in takes the same
    /// time whether or not the account exists.
    func decoy() -> String {
        (try? hash(Base64.encode((0..<12).map { _ in UInt8.random(in: .min ... .max) }))) ?? ""
    }

    private static func derive(_ password: String, salt: [UInt8], cost: Cost) throws -> [UInt8] {
        let key = try KDF.Scrypt.deriveKey(
            from: Array(password.utf8), salt: salt, outputByteCount: keyBytes, rounds: 1 << cost.logN, blockSize: cost.r,
            parallelism: cost.p, maxMemory: 256 * 1024 * 1024)
        return key.withUnsafeBytes { Array($0) }
    }

    private static func parse(_ encoded: String) -> (cost: Cost, salt: [UInt8], key: [UInt8])? {
        let parts = encoded.split(separator: "$", omittingEmptySubsequences: true)
        guard parts.count == 4, parts[0] == "scrypt" else { return nil }
        var values: [String: Int] = [:]
        for item in parts[1].split(separator: ",") {
            let pair = item.split(separator: "=")
            guard pair.count == 2, let value = Int(pair[1]) else { return nil }
            values[String(pair[0])] = value
        }
        guard let logN = values["ln"], let r = values["r"], let p = values["p"], (1...24).contains(logN), r > 0, p > 0,
            let salt = Base64.decode(String(parts[2])), let key = Base64.decode(String(parts[3]))
        else { return nil }
        return (Cost(logN: logN, r: r, p: p), salt, key)
    }
}
