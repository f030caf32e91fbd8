import Foundation
import PatrolTestSupport
import Testing

/// The uplink over TLS with real processes: certificates made by `openssl` for the test, the centre
/// serving `[tls]` (and asking for client certificates with `client_ca`), the agent using https
/// with `ca_file` (and `client_cert`/`client_key`). What an installer would see: the alarm at the
/// centre exactly once, or, when trust is misconfigured, the alarm kept on the board, status saying
/// why and one log line saying which certificate is at fault.
extension UplinkProcessTests {
    @Test func aPanicOverHTTPSReachesTheCentreOnce() throws {
        let rig = try Rig(tls: true)
        try rig.centre.start()
        rig.startAgent()
        try rig.press(1)
        rig.waitForPoints(40) // the track goes over https too
        let listed = waitUntil(timeout: 30) { () -> String? in
            let alarms = (try? rig.centre.run(["alarms", "--open"]))?.stdout ?? ""
            return alarms.contains("test-car") ? alarms : nil
        }
        #expect(listed != nil, "the panic reaches the centre's open alarms over https: \(rig.agent?.output ?? "")")
        try rig.finish(events: ["panic": 1])
    }

    @Test func aCentreCertificateFromAnotherCAIsRefusedUntilTheRightCAIsConfigured() throws {
        let rig = try Rig(tls: true)
        let stranger = try TestCertificates(in: rig.folder.file("stranger"), authority: "Some other CA")
        try rig.writeConfig(trusting: stranger.caCertificate)
        try rig.centre.start()
        rig.startAgent()
        try rig.press(1)
        let down = linkDownWithThePanicPending(rig)
        #expect((down?["downReason"] as? String)?.contains("certificate is not trusted") == true, "status says why: \(down ?? [:])")
        // retry_max_s = 1: a few seconds are several attempts, yet the log has one line for the outage.
        #expect(waitUntil(timeout: 10) { rig.proxy.connections >= 4 ? true : nil } == true, "the agent keeps retrying")
        let log = rig.stopAgent()
        let downLines = log.split(separator: "\n").filter { $0.contains("is down") }
        #expect(downLines.count == 1, "one line per outage, not per attempt: \(log)")
        #expect(downLines.first?.contains("the centre's certificate is not trusted: it does not chain to a CA in ca_file \(stranger.caCertificate)") == true,
                "the log names the problem and the file: \(log)")
        #expect(!log.contains("CERTIFICATE_VERIFY_FAILED"), "no BoringSSL error stack in the log: \(log)")
        let events = try rig.events()
        #expect(events.contains { $0["kind"] as? String == "panic" && $0["delivery"] as? String == "undelivered" },
                "the panic stays on the board, undelivered: \(events)")
        #expect(try rig.centre.query("SELECT count(*) FROM events") == ["0"], "nothing reaches a centre the agent does not trust")

        try rig.writeConfig(trusting: rig.certificates?.caCertificate)
        rig.startAgent()
        try rig.finish(events: ["panic": 1])
    }

    @Test func aCentreAskingForClientCertificatesTakesOnlyAnAgentThatShowsOne() throws {
        let rig = try Rig(tls: true, clientCertificatesRequired: true)
        try rig.centre.start()
        rig.startAgent()
        try rig.press(1)
        let down = linkDownWithThePanicPending(rig)
        // The centre's alert says so, or (TLS 1.3) is lost to the reset: either way the reason points at client_cert.
        let reason = down?["downReason"] as? String ?? ""
        #expect(reason.contains("a client certificate") && reason.contains("(set client_cert and client_key)"), "status says why: \(down ?? [:])")
        let log = rig.stopAgent()
        let downLines = log.split(separator: "\n").filter { $0.contains("is down") }
        #expect(downLines.count == 1 && downLines[0].contains("set client_cert and client_key"), "one clear line: \(log)")
        #expect(try rig.centre.query("SELECT count(*) FROM events") == ["0"], "refused in the handshake, before any request")
        let centreLog = rig.centre.process?.output ?? ""
        #expect(centreLog.contains("refused the TLS handshake with") && centreLog.contains("the client sent no certificate"),
                "the centre's log says why too: \(centreLog)")

        try rig.writeConfig(trusting: rig.certificates?.caCertificate, withClientCertificate: true)
        rig.startAgent()
        try rig.finish(events: ["panic": 1])
    }

    /// The uplink's status once it is down and holding the one panic; nil when that never happens.
    private func linkDownWithThePanicPending(_ rig: Rig) -> [String: Any]? {
        waitUntil(timeout: 15) { () -> [String: Any]? in
            let uplink = rig.uplink
            return uplink["state"] as? String == "down" && uplink["eventPending"] as? Int == 1 ? uplink : nil
        }
    }
}
