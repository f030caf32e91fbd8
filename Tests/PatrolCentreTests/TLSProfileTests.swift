import Foundation
import PatrolTestSupport
import Testing

/// The centre offers only the TLS profile of `PatrolTLS.TLSProfile` (Mozilla "intermediate"),
/// checked from outside with `openssl s_client` against the real `patrol-centre serve`.
@Suite struct TLSProfileTests {
    @Test func theCentreRefusesOldVersionsAndWeakSuitesAndTakesCurrentOnes() throws {
        let folder = try TemporaryDirectory(prefix: "centre-tls-profile")
        defer { folder.remove() }
        let certificates = try TestCertificates(in: folder.file("pki"))
        try FileManager.default.createDirectory(atPath: folder.file("centre"), withIntermediateDirectories: true)
        let centre = try CentreProcess(folder: folder.file("centre"), tls: .init(certificates: certificates))
        try centre.start()
        defer { centre.stop() }
        /// Whether a handshake with these `s_client` options succeeds.
        func handshakes(_ options: [String]) throws -> Bool {
            let client = try ChildProcess("/bin/sh", ["-c", "openssl s_client -connect 127.0.0.1:\(centre.port) -servername localhost "
                + options.joined(separator: " ") + " </dev/null"])
            return client.waitForExitCode(timeout: 20) == 0
        }
        // No forward secrecy (static RSA), and CBC with SHA-1 even with ECDHE: refused on TLS 1.2.
        #expect(try !handshakes(["-tls1_2", "-cipher", "AES128-SHA"]))
        #expect(try !handshakes(["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA"]))
        #expect(try !handshakes(["-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-SHA384"]))
        // TLS 1.1 and 1.0 (the client's own security level lowered so that it would offer them).
        #expect(try !handshakes(["-tls1_1", "-cipher", "'DEFAULT:@SECLEVEL=0'"]))
        #expect(try !handshakes(["-tls1", "-cipher", "'DEFAULT:@SECLEVEL=0'"]))
        // The profile: ECDHE with AES-GCM or ChaCha20-Poly1305 on TLS 1.2, and TLS 1.3.
        #expect(try handshakes(["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"]))
        #expect(try handshakes(["-tls1_2", "-cipher", "ECDHE-ECDSA-CHACHA20-POLY1305"]))
        #expect(try handshakes(["-tls1_3"]))
    }
}
