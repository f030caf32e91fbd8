import NIOSSL

/// The one TLS profile of PatrolLink, offered by the centre and asked for by the agent: Mozilla's
/// "intermediate" (https://wiki.mozilla.org/Security/Server_Side_TLS): TLS 1.2 and 1.3 only, and
/// on TLS 1.2 only ECDHE key exchange (forward secrecy) with AES-GCM or ChaCha20-Poly1305. CBC
/// suites, SHA-1 MACs and static RSA key exchange (`AES128-SHA`) are refused in the handshake.
/// TLS 1.3's suites are all AEAD with forward secrecy; BoringSSL offers exactly those.
///
/// Its own target because both ends build their `TLSConfiguration` with NIOSSL, which the pure
/// core does not import.
public enum TLSProfile {
    /// The TLS 1.2 cipher suites, in BoringSSL's names, strongest preference first as Mozilla lists them.
    public static let tls12CipherSuites = [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    ].joined(separator: ":")

    /// The profile in words, for messages that say why a handshake failed.
    public static let summary = "TLS 1.2 or 1.3 with ECDHE and AES-GCM or ChaCha20-Poly1305"

    /// Restricts `configuration` to the profile.
    public static func apply(to configuration: inout TLSConfiguration) {
        configuration.minimumTLSVersion = .tlsv12
        configuration.cipherSuites = tls12CipherSuites
    }
}
