import _CryptoExtras
import Crypto
import PatrolCore

/// Staff passwords, stored as scrypt hashes (swift-crypto's `KDF.Scrypt`, BoringSSL underneath):
/// `scrypt$<log2 N>$<r>$<p>$<salt, hex>$<hash, hex>`, so the parameters travel with each hash and
/// can be raised later without invalidating the ones already stored.
public enum PasswordHash {
    /// Cost parameters: N = 2^15, r = 8, p = 1 takes 32 MiB and about 0.1 s per check on a server
    /// core (the interactive-login figures of RFC 7914 §2), which makes guessing slow for anyone
    /// holding a copy of the database.
    public struct Parameters: Sendable, Equatable {
        public var log2Rounds: Int
        public var blockSize: Int
        public var parallelism: Int

        public static let standard = Parameters(log2Rounds: 15, blockSize: 8, parallelism: 1)

        /// What a stored hash may ask for: a damaged row must not make a check take minutes or gigabytes.
        fileprivate var isReasonable: Bool {
            (10...20).contains(log2Rounds) && (1...32).contains(blockSize) && (1...16).contains(parallelism)
        }
    }

    static let saltCount = 16
    static let hashCount = 32

    /// A new stored form of `password`, with a fresh random salt.
    public static func make(_ password: String, parameters: Parameters = .standard) throws -> String {
        var generator = SystemRandomNumberGenerator()
        let salt = (0..<saltCount).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let hash = try derive(password, salt: salt, parameters: parameters)
        return ["scrypt", String(parameters.log2Rounds), String(parameters.blockSize), String(parameters.parallelism),
                Hex.encode(salt), Hex.encode(hash)].joined(separator: "$")
    }

    /// Whether `password` matches `stored` (compared in constant time); false for a malformed `stored`.
    public static func verify(_ password: String, against stored: String) -> Bool {
        let parts = stored.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "scrypt",
              let log2Rounds = Int(parts[1]), let blockSize = Int(parts[2]), let parallelism = Int(parts[3]),
              parts[4].count <= 256, parts[5].count <= 256,
              let salt = Hex.decode(parts[4]), let expected = Hex.decode(parts[5]), !expected.isEmpty else { return false }
        let parameters = Parameters(log2Rounds: log2Rounds, blockSize: blockSize, parallelism: parallelism)
        guard parameters.isReasonable, let actual = try? derive(password, salt: salt, parameters: parameters, count: expected.count) else {
            return false
        }
        return HMACSHA256.constantTimeEquals(actual, expected)
    }

    /// Spends the time of one check, for a name that has no password: refusing an unknown name
    /// faster than a wrong password would tell a guesser which names exist.
    public static func spendCheckTime(_ password: String) {
        _ = verify(password, against: decoy)
    }

    private static let decoy = (try? make("decoy")) ?? ""

    private static func derive(_ password: String, salt: [UInt8], parameters: Parameters, count: Int = hashCount) throws -> [UInt8] {
        let key = try KDF.Scrypt.deriveKey(from: Array(password.utf8), salt: salt, outputByteCount: count,
                                           rounds: 1 << parameters.log2Rounds, blockSize: parameters.blockSize,
                                           parallelism: parameters.parallelism)
        return key.withUnsafeBytes { Array($0) }
    }
}
