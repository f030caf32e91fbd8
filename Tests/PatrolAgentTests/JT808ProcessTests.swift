import Foundation
import PatrolCore
import PatrolTestSupport
import Testing

/// The real `patrol-agent` reporting to a JT/T 808 platform (`JT808TestPlatform`, loopback)
/// through a `TCPProxy` the test cuts: gpsd (gpsfake) feeds the track, a button box on a pty
/// raises a panic while the link is down; after the link is back the alarm and every stored point
/// are at the platform, and the platform's 0x8203 turns the box's LED steady.
@Suite(.serialized) struct JT808ProcessTests {
    /// Starts the agent with `config`, presses and releases panic on `box` once its inputs are
    /// connected, and returns once it has stored 80 track points (its link is cut meanwhile).
    static func startAgentAndPressPanic(config: String, box: PseudoTerminalPair) throws -> ChildProcess {
        let agent = try ChildProcess(BuiltExecutable.agent.path, ["run", "--config", config])
        let ready = waitUntil(timeout: 30) { () -> Bool? in
            let inputs = BuiltExecutable.agentStatus(config: config)["inputs"] as? [[String: Any]] ?? []
            return !inputs.isEmpty && inputs.allSatisfy { $0["state"] as? String == "connected" } ? true : nil
        }
        #expect(ready == true, "agent not ready: \(agent.output)")
        var sequence: UInt16 = 0
        for message in [ButtonBoxMessage.hello(boxID: "box-1", firmware: "test", uptimeSeconds: 5), .buttonDown(button: 1)] {
            try box.write(ButtonBoxFrame(sequence: sequence, message: message).line)
            sequence &+= 1
        }
        usleep(200_000)
        try box.write(ButtonBoxFrame(sequence: sequence, message: .buttonUp(button: 1)).line)
        let stored = waitUntil(timeout: 60) {
            ((BuiltExecutable.agentStatus(config: config)["store"] as? [String: Any])?["trackPoints"] as? Int ?? 0) >= 80 ? true : nil
        }
        #expect(stored == true, "the agent stores the track while the link is cut")
        return agent
    }

    /// Stops the GPS feed (its last points committed within the window), waits until the agent has
    /// delivered everything, stops it, and returns the second of each point its store holds, in order.
    static func drainAndStop(_ agent: ChildProcess, feed gpsd: GPSFake, config: String, timeout: TimeInterval) throws -> [Int64] {
        gpsd.stop()
        usleep(1_500_000)
        let drained = waitUntil(timeout: timeout) { () -> Bool? in
            let uplink = (BuiltExecutable.agentStatus(config: config)["uplinks"] as? [[String: Any]])?.first ?? [:]
            return uplink["trackPending"] as? Int == 0 && uplink["eventPending"] as? Int == 0 ? true : nil
        }
        #expect(drained == true, "the backlog drains once the link is back")
        agent.signal(SIGTERM)
        #expect(agent.waitForExitCode(timeout: 15) == 0)
        let export = try BuiltExecutable.agent.run(["export", "--config", config, "--format", "csv"])
        return export.stdout.split(separator: "\n").dropFirst().compactMap { line in
            UTCTime(iso8601: line.prefix { $0 != "," }).map { $0.millisecondsSinceEpoch / 1000 }
        }
    }

    /// Car 7: gpsd, a box with a panic button, and one JT/T 808 output named `uplink` to `port`.
    static func agentConfig(folder: TemporaryDirectory, gpsdPort: Int, box: PseudoTerminalPair, uplink: String, port: Int) -> String {
        AgentConfigText.text(device: "car-7", folder: folder.path, gps: """
            gpsd_host = "127.0.0.1"
            gpsd_port = \(gpsdPort)
            rollover_pivot = "2017-01-01"
            """, store: "commit_window = 0.5", tables: """
            [track]
            record_every_fix = true
            [[button_box]]
            id = "box-1"
            port = "\(box.devicePath)"
            silence_ms = 600000
            [[button_box.button]]
            number = 1
            id = "panic-1"
            role = "panic"
            [[uplink]]
            name = "\(uplink)"
            kind = "jt808"
            address = "127.0.0.1:\(port)"
            phone = "013912345678"
            auth_code_file = "\(folder.path)/store/jt808.auth"
            heartbeat_s = 1
            retry_max_s = 1
            timeout_s = 3
            batch_points = 30
            """)
    }

    @Test func aPanicDuringACutReachesThePlatformWithTheWholeTrackAndItsConfirmationTheBox() throws {
        let folder = try TemporaryDirectory(prefix: "patrol-jt808")
        defer { folder.remove() }
        let platform = try JT808TestPlatform()
        let proxy = try TCPProxy(targetPort: platform.port)
        defer { proxy.stop() }
        let gpsd = try GPSFake(logPath: Fixtures.path("gpsd-logs/bundg_zeus_9.log"), cycle: 0.004)
        defer { gpsd.stop() }
        let box = try PseudoTerminalPair()
        let config = folder.file("agent.toml")
        try Self.agentConfig(folder: folder, gpsdPort: gpsd.port, box: box, uplink: "district", port: proxy.port)
            .write(toFile: config, atomically: true, encoding: .utf8)
        func status() -> [String: Any] {
            BuiltExecutable.agentStatus(config: config)
        }
        proxy.cut()
        let agent = try Self.startAgentAndPressPanic(config: config, box: box)
        defer { agent.signal(SIGKILL) }
        #expect(platform.received.withLock { $0.isEmpty }, "nothing passes the cut link")
        proxy.restore()

        let alarm = waitUntil(timeout: 30) { platform.reports.first { $0.position.alarm & JT808Position.emergencyAlarm != 0 } }
        let alarmReport = try #require(alarm, "the panic reaches the platform as 0x0200 with alarm bit 0: \(agent.output)")
        platform.confirmAlarm(serial: alarmReport.header.serial)
        #expect(box.waitForSteadyLED(timeout: 15), "the platform's 0x8203 reaches the box as the 'acknowledged' LED")

        // A text from the platform (0x8300) shows in `patrol-agent status`, with its time.
        platform.command(.textMessage(JT808TextMessage(flags: 0x01, text: "return to base")))
        let shown = waitUntil(timeout: 15) { () -> [String: Any]? in
            let uplink = (status()["uplinks"] as? [[String: Any]])?.first ?? [:]
            return (uplink["messages"] as? [[String: Any]])?.first { $0["text"] as? String == "return to base" }
        }
        #expect(UTCTime(iso8601: shown?["time"] as? String ?? "") != nil, "the text and its time in the status JSON")
        let text = try BuiltExecutable.agent.run(["status", "--config", config])
        #expect(text.stdout.contains("message from district at ") && text.stdout.contains(": return to base"), "\(text.stdout)")

        // The feed stops (its last points committed within the window), the backlog drains: then
        // every point the agent stored is at the platform, by its time.
        let storedSeconds = Set(try Self.drainAndStop(agent, feed: gpsd, config: config, timeout: 60))
        let platformSeconds = Set(platform.batchPositions.compactMap { $0.time.map { $0.millisecondsSinceEpoch / 1000 } })
        #expect(storedSeconds.count >= 80)
        #expect(storedSeconds.subtracting(platformSeconds).isEmpty, "every stored point reached the platform")
        #expect(platform.messages(0x0100).count == 1, "registered once")
    }

    /// Both real binaries: the agent as a JT/T 808 terminal of the real centre's `[jt808]`
    /// listener, through a proxy the test cuts (a panic while cut) and stalls (while the backlog
    /// drains). After each fault the alarm is at the centre once; acknowledged there, it reaches
    /// the box LED as 0x8203; at the end the centre's track is the agent's, point for point.
    @Test func thePanicAndTrackReachTheCentresListenerOnceThroughCutsAndStallsAndItsAcknowledgementTheBox() throws {
        let folder = try TemporaryDirectory(prefix: "patrol-jt808c")
        defer { folder.remove() }
        let jt808Port = try FreePort.allocate()
        let centre = try CentreProcess(folder: folder.path, settings: "[jt808]\nport = \(jt808Port)\nidle_timeout_seconds = 10\n")
        #expect(try centre.run(["devices", "add", "car-7", "--jt808", "013912345678"]).status == 0)
        try centre.start()
        defer { centre.stop() }
        let proxy = try TCPProxy(targetPort: jt808Port)
        defer { proxy.stop() }
        let gpsd = try GPSFake(logPath: Fixtures.path("gpsd-logs/bundg_zeus_9.log"), cycle: 0.004)
        defer { gpsd.stop() }
        let box = try PseudoTerminalPair()
        let config = folder.file("agent.toml")
        try Self.agentConfig(folder: folder, gpsdPort: gpsd.port, box: box, uplink: "centre", port: proxy.port)
            .write(toFile: config, atomically: true, encoding: .utf8)
        func status() -> [String: Any] { BuiltExecutable.agentStatus(config: config) }
        func centreAlarms() -> [String] { (try? centre.query("SELECT id, kind FROM events")) ?? [] }

        proxy.cut()
        let agent = try Self.startAgentAndPressPanic(config: config, box: box)
        defer { agent.signal(SIGKILL) }
        #expect(try centre.query("SELECT count(*) FROM track_points") == ["0"], "nothing passes the cut link")

        // Fault 1, the cut, ends: the panic arrives once, ahead of the backlog.
        proxy.restore()
        #expect(waitUntil(timeout: 30) { centreAlarms().isEmpty ? nil : true } == true, "the panic reaches the centre: \(agent.output)")
        // Fault 2: the link stalls while the backlog drains (the agent times out and reconnects).
        #expect(waitUntil(timeout: 30) { proxy.bytes.upstream > 2000 ? true : nil } == true)
        proxy.stall()
        usleep(5_000_000)
        proxy.restore()
        #expect(centreAlarms() == ["1|sos"], "one alarm for the panic after the cut and the stall")

        // Acknowledged at the centre: 0x8203 reaches the agent, the box shows "acknowledged".
        let ack = try centre.run(["alarms", "ack", "1", "--by", "ann"])
        #expect(ack.status == 0, "\(ack.stderr)")
        #expect(box.waitForSteadyLED(timeout: 30), "the centre's acknowledgement reaches the box as the 'acknowledged' LED")

        let stored = try Self.drainAndStop(agent, feed: gpsd, config: config, timeout: 90)
        let storedSeconds = Set(stored)
        let centreSeconds = Set(try centre.query("SELECT time_ms / 1000 FROM track_points WHERE device = 'car-7'").compactMap { Int64($0) })
        #expect(storedSeconds.count >= 80)
        #expect(storedSeconds == centreSeconds, "the centre's track is the agent's: \(storedSeconds.subtracting(centreSeconds).count) missing, \(centreSeconds.subtracting(storedSeconds).count) extra")
        #expect(try centre.query("SELECT count(*) FROM track_points") == ["\(stored.count)"], "each point stored once")
        #expect(centreAlarms() == ["1|sos"], "still one alarm")
        #expect(try centre.query("SELECT count(*) FROM downlink") == ["0"], "the 0x8203 was confirmed by the terminal")
    }
}
