import Foundation
import PatrolAgent
import PatrolCore
import PatrolTestSupport
import Testing

/// Two outputs at once with real processes: `patrol-agent run` with a button box on a pty, a real
/// `patrol-centre` (`kind = "centre-http"`) and pysiaalarm as an alarm receiving centre
/// (`kind = "dc09"`), each behind its own `TCPProxy`. One link is cut while the guard presses panic:
/// the live output has the alarm at once, the other once its link is back, each exactly once.
@Suite(.serialized) struct DC09ProcessTests {
    final class Rig {
        let folder: TemporaryDirectory
        let centre: CentreProcess
        let centreLink: TCPProxy
        let receiver: DC09Receiver
        let arcLink: TCPProxy
        let box: PseudoTerminalPair
        let config: String
        var agent: ChildProcess?
        private var boxSequence: UInt16 = 0

        /// - Parameter supervision: `supervision_s` of the DC-09 output.
        init(supervision: Int = 600) throws {
            folder = try TemporaryDirectory(prefix: "patrol-dc09")
            try FileManager.default.createDirectory(atPath: folder.file("centre"), withIntermediateDirectories: true)
            centre = try CentreProcess(folder: folder.file("centre"))
            try centre.start()
            centreLink = try TCPProxy(targetPort: centre.port)
            receiver = try DC09Receiver(account: "12AB", key: "0123456789ABCDEF")
            arcLink = try TCPProxy(targetPort: receiver.port)
            box = try PseudoTerminalPair()
            try centre.addDevice("booth-7").write(toFile: folder.file("device.key"), atomically: true, encoding: .utf8)
            // pysiaalarm's key "0123456789ABCDEF" is these bytes.
            try "30313233343536373839414243444546\n".write(toFile: folder.file("arc.key"), atomically: true, encoding: .utf8)
            config = folder.file("agent.toml")
            // No GPS here: the alarms go without a position.
            try AgentConfigText.text(device: "booth-7", folder: folder.path, gps: "gpsd_port = \(try FreePort.allocate())", tables: """
            [events]
            gps_lost_after_s = 86400
            [[button_box]]
            id = "box-1"
            port = "\(box.devicePath)"
            silence_ms = 600000
            [[button_box.button]]
            number = 1
            id = "front-panic"
            role = "panic"
            [[uplink]]
            name = "centre"
            kind = "centre-http"
            url = "http://127.0.0.1:\(centreLink.port)"
            key_file = "\(folder.file("device.key"))"
            heartbeat_s = 1
            retry_max_s = 1
            timeout_s = 3
            [[uplink]]
            name = "arc"
            kind = "dc09"
            host = "127.0.0.1"
            port = \(arcLink.port)
            account = "12AB"
            receiver = "1"
            line = "2"
            key_file = "\(folder.file("arc.key"))"
            heartbeat_s = 1
            retry_max_s = 1
            timeout_s = 2
            supervision_s = \(supervision)
            [[uplink.zone]]
            id = "front-panic"
            zone = 5
            """).write(toFile: config, atomically: true, encoding: .utf8)
        }

        deinit {
            agent?.signal(SIGKILL)
            centreLink.stop()
            arcLink.stop()
            receiver.stop()
            centre.stop(SIGKILL)
            folder.remove()
        }

        func status() -> [String: Any] {
            BuiltExecutable.agentStatus(config: config)
        }

        func uplink(_ name: String) -> [String: Any] {
            (status()["uplinks"] as? [[String: Any]])?.first { $0["name"] as? String == name } ?? [:]
        }

        func startAgent() {
            let agent = try? ChildProcess(BuiltExecutable.agent.path, ["run", "--config", config])
            self.agent = agent
            let ready = waitUntil(timeout: 30) { () -> Bool? in
                let inputs = status()["inputs"] as? [[String: Any]] ?? []
                return !inputs.isEmpty && inputs.allSatisfy { $0["state"] as? String == "connected" } ? true : nil
            }
            #expect(ready == true, "agent not ready: \(agent?.output ?? "")")
        }

        func press() throws {
            for message in [ButtonBoxMessage.hello(boxID: "box-1", firmware: "test", uptimeSeconds: 5), .buttonDown(button: 1)] {
                try box.write(ButtonBoxFrame(sequence: boxSequence, message: message).line)
                boxSequence &+= 1
            }
            usleep(200_000)
            try box.write(ButtonBoxFrame(sequence: boxSequence, message: .buttonUp(button: 1)).line)
            boxSequence &+= 1
        }

        var panicsAtCentre: Int { Int((try? centre.query("SELECT count(*) FROM events WHERE kind = 'panic'"))?.first ?? "") ?? -1 }
        var panicsAtARC: [DC09Receiver.Block] { receiver.blocks.filter { $0.code == "PA" && $0.acknowledged } }

        /// Stops the agent and checks that `patrol-agent events` shows the panic delivered to both outputs.
        func finish() throws {
            agent?.signal(SIGTERM)
            #expect(agent?.waitForExitCode(timeout: 15) == 0, "\(agent?.output ?? "")")
            agent = nil
            let listed = try BuiltExecutable.agent.run(["events", "--config", config, "--json"])
            let events = (try? JSONSerialization.jsonObject(with: Data(listed.stdout.utf8))) as? [[String: Any]] ?? []
            let panic = events.first { $0["kind"] as? String == "panic" }
            #expect(panic?["outputs"] as? [String: String] == ["centre": "delivered", "arc": "delivered"], "\(events)")
            #expect(panicsAtCentre == 1, "the centre holds the panic once")
            let atARC = panicsAtARC
            #expect(atARC.count == 1, "the ARC acknowledged the panic once: \(atARC.map(\.raw))")
            #expect(atARC.first?.message == "005" && atARC.first?.encrypted == true)
        }
    }

    @Test func theARCCutGetsTheAlarmOnceItIsBackWhileTheCentreHasItAtOnce() throws {
        let rig = try Rig()
        rig.arcLink.cut()
        rig.startAgent()
        try rig.press()
        #expect(waitUntil(timeout: 15) { rig.panicsAtCentre == 1 ? true : nil } == true, "the centre has the panic at once")
        let waiting = waitUntil(timeout: 15) { () -> [String: Any]? in
            let arc = rig.uplink("arc")
            return arc["state"] as? String == "down" && arc["eventPending"] as? Int == 1 ? arc : nil
        }
        #expect(waiting != nil, "status shows the panic waiting for the ARC: \(rig.uplink("arc"))")
        #expect(rig.panicsAtARC.isEmpty)
        rig.arcLink.restore()
        #expect(waitUntil(timeout: 20) { rig.panicsAtARC.count >= 1 ? true : nil } == true, "the ARC gets the panic once the link is back: \(rig.receiver.output)")
        usleep(1_500_000) // time for a duplicate to show, if there were one
        try rig.finish()
    }

    @Test func theCentreCutGetsTheAlarmOnceItIsBackWhileTheARCHasItAtOnce() throws {
        let rig = try Rig()
        rig.centreLink.cut()
        rig.startAgent()
        try rig.press()
        #expect(waitUntil(timeout: 15) { rig.panicsAtARC.count >= 1 ? true : nil } == true, "the ARC has the panic at once: \(rig.receiver.output)")
        let waiting = waitUntil(timeout: 15) { () -> [String: Any]? in
            let centre = rig.uplink("centre")
            return centre["state"] as? String == "down" && centre["eventPending"] as? Int == 1 ? centre : nil
        }
        #expect(waiting != nil, "status shows the panic waiting for the centre: \(rig.uplink("centre"))")
        #expect(rig.panicsAtCentre == 0)
        rig.centreLink.restore()
        #expect(waitUntil(timeout: 20) { rig.panicsAtCentre == 1 ? true : nil } == true, "the centre gets the panic once the link is back")
        usleep(1_500_000)
        try rig.finish()
    }

    /// An ARC that stops answering is a fault on the board: `uplink-down` (input: the output's name)
    /// reaches the centre, its restore follows when the ARC answers again, and the ARC gets both
    /// too (communications fail YC and restoral YK) once it is back.
    @Test func anARCThatStopsAnsweringIsAnUplinkDownFaultOnTheBoard() throws {
        let rig = try Rig(supervision: 2)
        rig.arcLink.cut()
        rig.startAgent()
        let faults = "SELECT count(*) FROM events WHERE kind = 'fault.uplink-down'"
        #expect(waitUntil(timeout: 20) { (try? rig.centre.query(faults)) == ["1"] ? true : nil } == true,
                "the centre gets the board's uplink-down fault: \(rig.agent?.output ?? "")")
        rig.arcLink.restore()
        let restores = "SELECT count(*) FROM events WHERE kind = 'fault.uplink-down.restore'"
        #expect(waitUntil(timeout: 20) { (try? rig.centre.query(restores)) == ["1"] ? true : nil } == true, "and its restore")
        let atARC = waitUntil(timeout: 20) { () -> [String]? in
            let codes = rig.receiver.blocks.filter(\.acknowledged).compactMap(\.code).filter { $0 == "YC" || $0 == "YK" }
            return codes.count >= 2 ? codes : nil
        }
        #expect(atARC == ["YC", "YK"], "\(rig.receiver.output)")
    }

    /// The commented DC-09 table in Config/booth.toml is a working one once uncommented.
    @Test func theBoothExamplesDC09TableReadsAsWritten() throws {
        let text = try String(contentsOfFile: Fixtures.repositoryRoot + "/Config/booth.toml", encoding: .utf8)
        let start = try #require(text.range(of: "# [[uplink]]\n# name = \"arc\""))
        let table = text[start.lowerBound...].split(separator: "\n").map { $0.hasPrefix("# ") ? String($0.dropFirst(2)) : String($0) }
        let config = try AgentConfig.parse(String(text[..<start.lowerBound]) + table.joined(separator: "\n"), file: "booth.toml")
        let arc = try #require(config.uplinks.first)
        #expect(arc.name == "arc" && arc.kind == "dc09" && arc.destination == "tcp://arc.example:3061")
        #expect(arc.settings.supervisionLimit == .seconds(90))
    }

    /// `config check` names the file, line and key of each problem in a DC-09 table.
    @Test func aBadDC09TableIsReportedByLineAndKey() throws {
        let folder = try TemporaryDirectory(prefix: "patrol-dc09-config")
        defer { folder.remove() }
        let path = folder.file("agent.toml")
        try """
        [device]
        id = "booth-7"
        [[uplink]]
        name = "arc"
        kind = "dc09"
        host = "127.0.0.1"
        port = 3061
        account = "12-AB"
        token = "CID"
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try BuiltExecutable.agent.run(["config", "check", path])
        #expect(result.status == 78)
        #expect(result.stderr.contains("agent.toml:8: uplink[0].account: '12-AB' is not an account number"), "\(result.stderr)")
        #expect(result.stderr.contains("agent.toml:9: uplink[0].token: 'CID' is not one of: SIA-DCS, ADM-CID"), "\(result.stderr)")
    }
}
