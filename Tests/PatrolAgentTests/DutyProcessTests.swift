import Foundation
import PatrolCore
import PatrolTestSupport
import Testing

/// From a badge held to the board's duty reader to the centre's duty report, with real processes:
/// `patrol-agent run` with a tag reader on a pseudo-terminal (role "duty") and gpsd (gpsfake)
/// giving the demo boat's positions, uploading to `patrol-centre serve` on 127.0.0.1. The board
/// loses power between the sign-on and the sign-off.
@Suite(.serialized) struct DutyProcessTests {
    @Test func aBadgeReadOnTheBoardSignsOnAndOffAcrossAPowerCutInTheCentresDutyReport() throws {
        let folder = try TemporaryDirectory(prefix: "patrol-duty")
        defer { folder.remove() }
        try FileManager.default.createDirectory(atPath: folder.file("centre"), withIntermediateDirectories: true)
        let centre = try CentreProcess(folder: folder.file("centre"))
        defer { centre.stop(SIGKILL) }
        try centre.addDevice("test-car").write(toFile: folder.file("device.key"), atomically: true, encoding: .utf8)
        try centre.start()
        let gpsd = try GPSFake(logPath: Fixtures.path("gpsd-logs/bundg_zeus_9.log"), cycle: 0.02)
        defer { gpsd.stop() }
        let reader = try PseudoTerminalPair()
        let config = folder.file("agent.toml")
        try AgentConfigText.text(device: "test-car", folder: folder.path, gps: """
            gpsd_host = "127.0.0.1"
            gpsd_port = \(gpsd.port)
            rollover_pivot = "2017-01-01"   # the log is from 2018: not a rollover date
            """, tables: """
            [[tag_reader]]
            id = "duty-reader"
            port = "\(reader.devicePath)"
            role = "duty"
            repeat_window_s = 1
            [[uplink]]
            url = "http://127.0.0.1:\(centre.port)"
            key_file = "\(folder.file("device.key"))"
            heartbeat_s = 1
            retry_max_s = 1
            """).write(toFile: config, atomically: true, encoding: .utf8)
        func status() -> [String: Any] { BuiltExecutable.agentStatus(config: config) }
        func kinds() -> [String] { (status()["recentEvents"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String } }
        func startAgent() throws -> ChildProcess {
            let agent = try ChildProcess(BuiltExecutable.agent.path, ["run", "--config", config])
            let ready = waitUntil(timeout: 30) { () -> Bool? in
                let inputs = status()["inputs"] as? [[String: Any]] ?? []
                return BuiltExecutable.agentIsRunning(config: config, pid: agent.pid) && status()["lastFix"] != nil && !inputs.isEmpty
                    && inputs.allSatisfy { $0["state"] as? String == "connected" } ? true : nil
            }
            #expect(ready == true, "agent not ready: \(status()) \(agent.output)")
            return agent
        }

        // Held to the reader, the badge repeats: one sign-on.
        let poweredOff = try startAgent()
        defer { poweredOff.signal(SIGKILL) }
        try reader.write("62E3086CED\r\n62E3086CED\r\n")
        #expect(waitUntil(timeout: 10) { kinds().contains("duty.sign-on") ? true : nil } == true, "no sign-on: \(poweredOff.output)")
        // The ignition cuts the board's power; it boots again. Read again later: the sign-off.
        poweredOff.signal(SIGKILL)
        _ = poweredOff.waitForExitCode(timeout: 15)
        let agent = try startAgent()
        defer { agent.signal(SIGKILL) }
        usleep(3_000_000)
        try reader.write("62E3086CED\r\n")
        #expect(waitUntil(timeout: 10) { kinds().contains("duty.sign-off") ? true : nil } == true, "no sign-off: \(agent.output)")
        let delivered = waitUntil(timeout: 30) { () -> Bool? in
            let uplink = (status()["uplinks"] as? [[String: Any]])?.first ?? [:]
            return uplink["state"] as? String == "up" && uplink["eventPending"] as? Int == 0 ? true : nil
        }
        #expect(delivered == true, "events not delivered: \(status())")
        agent.signal(SIGTERM)
        _ = agent.waitForExitCode(timeout: 15)

        // The plan example, its boat renamed to this board.
        let plan = folder.file("plan.toml")
        try String(contentsOfFile: Fixtures.repositoryRoot + "/Config/plan.example.toml", encoding: .utf8)
            .replacing("\"demo-car\"", with: "\"test-car\"")
            .replacing("\"areas/harbour-east.geojson\"", with: "\"\(Fixtures.repositoryRoot)/Config/areas/harbour-east.geojson\"")
            .write(toFile: plan, atomically: true, encoding: .utf8)
        // The log's fixes, and so the events' GNSS times, are from 2018.
        let report = try centre.run(["duty", "report", "--plan", plan, "--from", "2018-01-01", "--to", "2019-01-01",
                                     "--person", "p-017", "--format", "json"])
        #expect(report.status == 0, "\(report.stderr)")
        let json = try #require(JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any])
        let sessions = try #require(json["sessions"] as? [[String: Any]])
        #expect(sessions.count == 1, "\(report.stdout)")
        #expect(sessions.first?["device"] as? String == "test-car")
        #expect(sessions.first?["open"] as? Bool == false)
        #expect((sessions.first?["sign_on_evidence"] as? String)?.hasPrefix("badge read at reader duty-reader (event #") == true)
        #expect((sessions.first?["sign_off_evidence"] as? String)?.hasPrefix("badge read at reader duty-reader (event #") == true)
        let from = try #require(sessions.first?["counted_from"] as? String), to = try #require(sessions.first?["counted_to"] as? String)
        #expect(from < to, "signed on from the first read to the second")
    }
}
