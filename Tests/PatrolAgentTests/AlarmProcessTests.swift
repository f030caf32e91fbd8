import Foundation
import PatrolCore
import PatrolTestSupport
import Testing

/// Alarms through the real `patrol-agent` process: a button box on a pseudo-terminal, buttons on
/// an RFC 2217 port's modem lines, a tag reader, with gpsd (gpsfake) giving positions. What is
/// stored is checked with `patrol-agent events --json` once the agent has let go of the store.
@Suite(.serialized) struct AlarmProcessTests {
    let folder: TemporaryDirectory
    let gpsd: GPSFake

    init() throws {
        folder = try TemporaryDirectory()
        gpsd = try GPSFake(logPath: Fixtures.path("gpsd-logs/bundg_zeus_9.log"), cycle: 0.02)
    }

    func writeConfig(inputs: String) throws -> String {
        let path = folder.path + "/agent.toml"
        // The log is from 2018: not a rollover date.
        try AgentConfigText.text(device: "test-booth", folder: folder.path, gps: """
            gpsd_host = "127.0.0.1"
            gpsd_port = \(gpsd.port)
            rollover_pivot = "2017-01-01"
            """, tables: inputs).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func boxConfig(_ pty: PseudoTerminalPair) -> String {
        """
        [[button_box]]
        id = "box-1"
        port = "\(pty.devicePath)"
        silence_ms = 600000          # the test box sends no heartbeats
        [[button_box.button]]
        number = 1
        id = "panic-1"
        role = "panic"
        """
    }

    func status(_ config: String) -> [String: Any] {
        BuiltExecutable.agentStatus(config: config)
    }

    /// Starts the agent and waits until it has a fix and every input is connected.
    func startAgent(_ config: String) throws -> ChildProcess {
        let agent = try ChildProcess(BuiltExecutable.agent.path, ["run", "--config", config])
        let ready = waitUntil(timeout: 30) { () -> Bool? in
            if agent.hasExited { return false }
            let s = status(config)
            let inputs = s["inputs"] as? [[String: Any]] ?? []
            return s["lastFix"] != nil && !inputs.isEmpty && inputs.allSatisfy { $0["state"] as? String == "connected" } ? true : nil
        }
        #expect(ready == true, "agent not ready: \(status(config)) \(agent.output)")
        return agent
    }

    func stop(_ agent: ChildProcess) {
        agent.signal(SIGTERM)
        #expect(agent.waitForExitCode(timeout: 15) == 0, "SIGTERM must stop the agent cleanly: \(agent.output)")
    }

    /// The stored events of `kind`, read from the store after the agent stopped.
    func storedEvents(_ config: String, kind: String) throws -> [[String: Any]] {
        let result = try BuiltExecutable.agent.run(["events", "--config", config, "--json"])
        #expect(result.status == 0, "events failed: \(result.stderr)")
        let all = (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]]) ?? []
        return all.filter { $0["kind"] as? String == kind }
    }

    /// Plays the box: hello, then a press held for 200 ms (longer than the default minimum hold).
    func press(on box: PseudoTerminalPair) throws {
        for (sequence, message) in [(0, ButtonBoxMessage.hello(boxID: "box-1", firmware: "test", uptimeSeconds: 5)),
                                    (1, .buttonDown(button: 1))] {
            try box.write(ButtonBoxFrame(sequence: UInt16(sequence), message: message).line)
        }
        usleep(200_000)
        try box.write(ButtonBoxFrame(sequence: 2, message: .buttonUp(button: 1)).line)
    }

    /// Waits for the agent's LED command to the box: it is sent only once the press is committed.
    func waitForLED(on box: PseudoTerminalPair, timeout: TimeInterval = 10) -> IndicatorPattern? {
        box.waitForBoxMessage(timeout: timeout) { message in
            if case .led(1, let pattern) = message { return pattern }
            return nil
        }
    }

    @Test func boxPressIsStoredOnceWithAPosition() throws {
        let box = try PseudoTerminalPair()
        let config = try writeConfig(inputs: boxConfig(box))
        let agent = try startAgent(config)
        try press(on: box)
        #expect(waitForLED(on: box) == .slowBlink, "no 'stored' feedback: \(agent.output)")
        // The status file (rewritten every 0.5 s) shows it among the last events.
        let listed = waitUntil(timeout: 5) { () -> Bool? in
            let recent = status(config)["recentEvents"] as? [[String: Any]] ?? []
            return recent.contains { $0["kind"] as? String == "panic" && $0["input"] as? String == "panic-1" } ? true : nil
        }
        #expect(listed == true)
        // The store is the agent's alone while it runs: `events` shows the status file's list and says so.
        let whileRunning = try BuiltExecutable.agent.run(["events", "--config", config])
        #expect(whileRunning.stderr.contains("the running agent (pid \(agent.pid)) holds"))
        #expect(whileRunning.stdout.contains("panic from panic-1 at "))
        stop(agent)

        let panics = try storedEvents(config, kind: "panic")
        #expect(panics.count == 1, "\(panics)")
        #expect(panics.first?["input"] as? String == "panic-1")
        #expect(panics.first?["fix"] as? String == "current")
        #expect(panics.first?["lat"] is Double && panics.first?["lon"] is Double)
        #expect(agent.output.contains("stored event #"))
    }

    @Test func modemLineButtonOnANetworkPortIsStoredOnce() throws {
        let server = try RFC2217TestServer()
        defer { server.unplug() }
        let config = try writeConfig(inputs: """
            [[modem_buttons]]
            id = "dash"
            port = "\(server.path)"
            led_line = "rts"
            [[modem_buttons.button]]
            id = "dash-panic"
            line = "cts"
            role = "panic"
            """)
        let agent = try startAgent(config)
        _ = waitUntil(timeout: 10) { server.subscribedClients > 0 ? true : nil }
        server.setLine(.cts, asserted: true)
        usleep(300_000)
        server.setLine(.cts, asserted: false)
        let stored = waitUntil(timeout: 10) { server.controlHistory.contains { $0.line == .rts && $0.on } ? true : nil }
        #expect(stored == true, "the LED never lit: \(agent.output)")
        stop(agent)
        let panics = try storedEvents(config, kind: "panic")
        #expect(panics.count == 1, "\(panics)")
        #expect(panics.first?["input"] as? String == "dash-panic")
    }

    @Test func aPressConfirmedBeforeKillNineIsStoredExactlyOnce() throws {
        let box = try PseudoTerminalPair()
        let config = try writeConfig(inputs: boxConfig(box))
        let agent = try startAgent(config)
        try press(on: box)
        #expect(waitForLED(on: box) != nil, "no 'stored' feedback: \(agent.output)")
        agent.signal(SIGKILL)
        _ = agent.waitForExit(timeout: 5)

        let again = try startAgent(config)
        stop(again)
        let panics = try storedEvents(config, kind: "panic")
        #expect(panics.count == 1, "\(panics)")
    }

    /// Found by scripts/soak.sh: a restarted agent's session starts without the box's state, so a
    /// button the first heartbeat shows held is a new press to it, even when the agent stored that
    /// press just before it was killed. Counting it keeps a press made while the agent was down (the
    /// mask is then all that says so) from being lost. This stays protocol 1's documented limit; a
    /// PLBX 2 box numbers its presses and is stored once (ButtonBoxProtocol2ProcessTests).
    @Test func aButtonStillHeldWhenTheAgentRestartsIsStoredAgain() throws {
        let box = try PseudoTerminalPair()
        let config = try writeConfig(inputs: boxConfig(box))
        let agent = try startAgent(config)
        try box.write(ButtonBoxFrame(sequence: 0, message: .hello(boxID: "box-1", firmware: "test", uptimeSeconds: 5)).line)
        try box.write(ButtonBoxFrame(sequence: 1, message: .buttonDown(button: 1)).line)
        #expect(waitForLED(on: box) == .slowBlink, "no 'stored' feedback: \(agent.output)")
        agent.signal(SIGKILL)
        _ = agent.waitForExit(timeout: 5)

        let again = try startAgent(config)
        // The guard still holds the button: the box's next heartbeat says so; then it is released.
        try box.write(ButtonBoxFrame(sequence: 2, message: .heartbeat(uptimeSeconds: 8, buttonsDown: [1])).line)
        usleep(500_000)
        try box.write(ButtonBoxFrame(sequence: 3, message: .buttonUp(button: 1)).line)
        usleep(200_000)
        stop(again)
        let panics = try storedEvents(config, kind: "panic")
        withKnownIssue("the restarted agent stores the held press a second time") {
            #expect(panics.count == 1, "\(panics)")
        }
    }

    @Test func tagReadIsOneCheckIn() throws {
        let reader = try PseudoTerminalPair()
        let config = try writeConfig(inputs: """
            [[tag_reader]]
            id = "gate-reader"
            port = "\(reader.devicePath)"
            format = "em4100-hex"
            """)
        let agent = try startAgent(config)
        // A tag held to the reader repeats its read: one check-in.
        try reader.write("0415AB12CD\r\n0415AB12CD\r\n")
        let seen = waitUntil(timeout: 10) { () -> Bool? in
            (status(config)["recentEvents"] as? [[String: Any]] ?? []).contains { $0["kind"] as? String == "check-in.tag" } ? true : nil
        }
        #expect(seen == true, "no check-in: \(agent.output)")
        stop(agent)
        let checkIns = try storedEvents(config, kind: "check-in.tag")
        #expect(checkIns.count == 1, "\(checkIns)")
        #expect(checkIns.first?["detail"] as? String == "0415AB12CD")
        #expect(checkIns.first?["input"] as? String == "gate-reader")
    }
}
