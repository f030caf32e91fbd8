import PatrolCore

/// Device keys and staff tokens: random secrets shown once and never again.
public enum Secrets {
    /// 32 random bytes from the system's cryptographic generator (getrandom on Linux).
    public static func randomBytes(count: Int = 32) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    /// A new staff bearer token; `pst_` makes a leaked one easy to recognise and search for.
    public static func newStaffToken() -> String {
        "pst_" + Hex.encode(randomBytes())
    }

    /// What is stored for a staff token: its SHA-256, so a copy of the database cannot log in.
    /// (A plain hash suffices: the token is 256 random bits, nothing to brute-force.)
    public static func staffTokenHash(_ token: String) -> [UInt8] {
        SHA256.hash(Array(token.utf8))
    }
}
