import Foundation
import PatrolCore
import PatrolTestSupport
import PatrolUplink
import PatrolUplinkCentre
import Testing

/// The agent asks for the same TLS profile the centre offers (`PatrolTLS.TLSProfile`): a server
/// that offers only a weak suite or an old version gets no connection from it. The server is
/// `openssl s_server`, which can be made to offer exactly that.
@Suite struct TLSProfileClientTests {
    @Test(arguments: [["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA"], ["-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"]])
    func theAgentRefusesAServerOfferingOnlyWeakTLS(_ options: [String]) async throws {
        let folder = try TemporaryDirectory(prefix: "agent-tls-profile")
        defer { folder.remove() }
        let certificates = try TestCertificates(in: folder.file("pki"))
        let port = try FreePort.allocate()
        let server = try ChildProcess("openssl", ["s_server", "-accept", String(port), "-cert", certificates.serverCertificate,
                                                  "-key", certificates.serverKey, "-www"] + options)
        defer { server.signal(SIGKILL) }
        #expect(waitUntil(timeout: 20) { FreePort.isAccepting(port) ? true : nil } == true)
        let output = try CentreHTTPOutput(name: "centre", deviceID: "car-12", key: [UInt8](repeating: 7, count: 32),
                                          endpoint: try HTTPEndpoint(url: "https://127.0.0.1:\(port)"),
                                          tls: TLSFiles(caFile: certificates.caCertificate), timeout: .seconds(10),
                                          systemMilliseconds: { Int64(Date().timeIntervalSince1970 * 1000) })
        do {
            let verdict = try await output.send(OutboundBatch())
            Issue.record("the agent talked to a server offering \(options.joined(separator: " ")): \(verdict)")
        } catch {
            // Refused in the handshake (not, say, an answer that is no ingest answer: s_server -www
            // answers any request with a status page).
            #expect("\(error)".contains("TLS with https://127.0.0.1"), "\(error)")
            #expect("\(error)".contains("TLS 1.2 or 1.3 with ECDHE and AES-GCM or ChaCha20-Poly1305"), "\(error)")
        }
        await output.close()
    }
}
