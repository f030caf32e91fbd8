import _CryptoExtras
import Crypto
import FoundationEssentials
import PatrolCore

/// The AES key an account shares with its receiver: 128, 192 or 256 bits.
public struct DC09Key: Sendable, Equatable {
    public let bytes: [UInt8]

    /// nil unless `bytes` is 16, 24 or 32 bytes long.
    public init?(bytes: [UInt8]) {
        guard [16, 24, 32].contains(bytes.count) else { return nil }
        self.bytes = bytes
    }

    /// The key written in hex (32, 48 or 64 digits; whitespace ignored), as receivers print it.
    public init?(hex: String) {
        guard let bytes = Hex.decode(String(hex.filter { !$0.isWhitespace })) else { return nil }
        self.init(bytes: bytes)
    }

    public var bits: Int { bytes.count * 8 }
}

/// DC-09's encryption: AES in CBC mode with an all-zero IV and no padding of its own (the message
/// brings its own pad so that it fills whole 16-byte blocks), ciphertext in upper-case hex.
///
/// The zero IV is the standard's: each message starts with fresh random pad characters, which is
/// what keeps equal messages from encrypting alike. The AES itself is swift-crypto's (BoringSSL).
public enum DC09Cipher {
    static let blockSize = 16

    /// `plaintext` must fill whole blocks (the caller pads it).
    static func encrypt(_ plaintext: [UInt8], key: DC09Key) -> String {
        precondition(plaintext.count % blockSize == 0, "DC-09 plaintext is padded by its builder")
        do {
            let ciphertext = try AES._CBC.encrypt(plaintext, using: SymmetricKey(data: key.bytes), iv: zeroIV(), noPadding: true)
            return Hex.encode(ciphertext).uppercased()
        } catch {
            // Only a key or IV of the wrong size fails, and both sizes are checked by their types.
            preconditionFailure("AES-CBC with a checked key failed: \(error)")
        }
    }

    /// The plaintext of hex ciphertext; nil when it is not hex of whole blocks.
    static func decrypt(_ hex: some StringProtocol, key: DC09Key) -> [UInt8]? {
        guard let ciphertext = Hex.decode(hex), !ciphertext.isEmpty, ciphertext.count % blockSize == 0 else { return nil }
        guard let plaintext = try? AES._CBC.decrypt(ciphertext, using: SymmetricKey(data: key.bytes), iv: zeroIV(), noPadding: true) else {
            return nil
        }
        return [UInt8](plaintext)
    }

    private static func zeroIV() throws -> AES._CBC.IV {
        try AES._CBC.IV(ivBytes: [UInt8](repeating: 0, count: blockSize))
    }
}
