import Crypto
import Foundation

/// Message encryption for Web Push (RFC 8291) in the `aes128gcm` content coding (RFC 8188), one record.
enum WebPushEncryption {
    /// The record size written in the header. The push service must accept 4096-byte bodies (RFC 8030 §7.2).
    static let recordSize: UInt32 = 4096
    /// The largest plaintext that fits one 4096-byte body: 4096 − 86 (header) − 16 (tag) − 1 (delimiter).
    static let maximumPlaintext = 3993

    enum EncryptionError: Error, Equatable {
        case badSubscriptionKey
        case badAuthSecret
        case tooLarge(Int)
    }

    /// Encrypts `plaintext` for a subscription.
    /// - Parameters:
    ///   - uaPublic: the subscription's `p256dh`, an uncompressed P-256 point (65 bytes).
    ///   - authSecret: the subscription's `auth` (16 bytes).
    ///   - senderKey: the application server's ephemeral key; a fresh one per message (tests pass RFC 8291's).
    ///   - salt: 16 random bytes; a fresh one per message (tests pass RFC 8291's).
    /// - Returns: the body: `salt ‖ rs ‖ idlen ‖ keyid (the sender's public key) ‖ ciphertext ‖ tag`.
    static func encrypt(
        _ plaintext: [UInt8], uaPublic: [UInt8], authSecret: [UInt8], senderKey: P256.KeyAgreement.PrivateKey = .init(),
        salt: [UInt8] = randomBytes(16)
    ) throws(EncryptionError) -> [UInt8] {
        guard plaintext.count <= maximumPlaintext else { throw .tooLarge(plaintext.count) }
        guard authSecret.count == 16 else { throw .badAuthSecret }
        guard let receiver = try? P256.KeyAgreement.PublicKey(x963Representation: uaPublic), uaPublic.count == 65 else {
            throw .badSubscriptionKey
        }
        guard let shared = try? senderKey.sharedSecretFromKeyAgreement(with: receiver) else { throw .badSubscriptionKey }
        let asPublic = Array(senderKey.publicKey.x963Representation)
        // RFC 8291 §3.4: IKM = HKDF(salt = auth_secret, ikm = ecdh_secret, info = "WebPush: info" ‖ 0x00 ‖ ua_public ‖ as_public, L = 32)
        let keyInfo = Array("WebPush: info".utf8) + [0] + uaPublic + asPublic
        let ikm = shared.hkdfDerivedSymmetricKey(using: SHA256.self, salt: authSecret, sharedInfo: keyInfo, outputByteCount: 32)
        // RFC 8188 §2.2–2.3: CEK and NONCE from HKDF(salt, IKM).
        let cek = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: ikm, salt: salt, info: Array("Content-Encoding: aes128gcm".utf8) + [0], outputByteCount: 16)
        let nonce = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: ikm, salt: salt, info: Array("Content-Encoding: nonce".utf8) + [0], outputByteCount: 12)
        // One record, the last, so its delimiter is 0x02 and it needs no padding (RFC 8188 §2).
        let record = plaintext + [2]
        let sealed: AES.GCM.SealedBox
        do {
            sealed = try AES.GCM.seal(record, using: cek, nonce: try AES.GCM.Nonce(data: nonce.withUnsafeBytes { Array($0) }))
        } catch {
            throw .badSubscriptionKey
        }
        var body = salt
        body += withUnsafeBytes(of: recordSize.bigEndian) { Array($0) }
        body.append(UInt8(asPublic.count))
        body += asPublic
        body += sealed.ciphertext
        body += sealed.tag
        return body
    }

    static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }
}
