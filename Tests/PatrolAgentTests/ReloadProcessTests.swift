import Foundation
import PatrolCore
import PatrolTestSupport
import Testing

/// SIGHUP to the real `patrol-agent`: the configuration file is read again and applied without a
/// restart, or refused with the old one still running. A PLBX 2 box (``PLBX2TestBox``) on a
/// pseudo-terminal, through a ``SerialInterposer``, shows whether its port was reopened: every
/// opening starts with the agent's QUERY, so an input kept running sends none.
@Suite(.serialized) struct ReloadProcessTests {
    let folder: TemporaryDirectory
    let box: PLBX2TestBox
    let rig: BoxRig

    init() throws {
        folder = try TemporaryDirectory()
        box = try PLBX2TestBox()
        rig = try BoxRig(folder: folder, box: box)
    }

    /// The QUERY frames the agent has sent the box: one per opening of its port.
    var queriesToBox: Int {
        rig.line.frames.count { $0.0 == .agentToBox && $0.1.message == .query }
    }

    /// The agent's status once `condition` holds, or the last one read when it did not within 15 s
    /// (the status file is rewritten every 5 s). `status` reads `config` to find the agent's
    /// status file, so a test whose agent's file is now invalid passes a valid copy.
    func status(config: String? = nil, until condition: ([String: Any]) -> Bool) -> [String: Any] {
        var last: [String: Any] = [:]
        _ = waitUntil(timeout: 15) { () -> Bool? in
            last = BuiltExecutable.agentStatus(config: config ?? rig.config)
            return condition(last) ? true : nil
        }
        return last
    }

    /// Rewrites the configuration, sends SIGHUP and waits until the agent has logged `outcome`.
    func reload(_ text: String, expecting outcome: String) throws {
        let before = rig.agentOutput.components(separatedBy: outcome).count
        try text.write(toFile: rig.config, atomically: true, encoding: .utf8)
        rig.signalAgent(SIGHUP)
        let logged = waitUntil(timeout: 20) { rig.agentOutput.components(separatedBy: outcome).count > before ? true : nil }
        #expect(logged == true, "no '\(outcome)' after SIGHUP: \(rig.agentOutput)")
    }

    /// A second output is added while the guard holds the panic button: the box's port stays open
    /// (no new session), the press is stored once, and the new uplink delivers it to the centre
    /// once. Removed again, its delivery progress is forgotten.
    @Test func aReloadAddingAnUplinkKeepsTheBoxSessionAndAPressAroundItArrivesOnce() throws {
        defer { box.stop() }
        try FileManager.default.createDirectory(atPath: folder.file("centre"), withIntermediateDirectories: true)
        let centre = try CentreProcess(folder: folder.file("centre"))
        try centre.start()
        defer { centre.stop() }
        try centre.addDevice("test-booth").write(toFile: folder.file("device.key"), atomically: true, encoding: .utf8)
        let original = try String(contentsOfFile: rig.config, encoding: .utf8)
        try rig.startAgent()
        let sessions = queriesToBox

        box.press(1)
        usleep(200_000)
        try reload(original + """

            [[uplink]]
            url = "http://127.0.0.1:\(centre.port)"
            key_file = "\(folder.file("device.key"))"
            heartbeat_s = 1
            retry_max_s = 1
            """, expecting: "configuration reloaded from \(rig.config): uplink centre started")
        usleep(200_000)
        box.release(1)
        #expect(rig.waitUntilAllStored(presses: 1), "box holds \(box.unconfirmedPresses): \(rig.agentOutput)")

        let delivered = waitUntil(timeout: 20) { () -> Bool? in
            (try? centre.query("SELECT count(*) FROM events WHERE kind = 'panic'")) == ["1"] ? true : nil
        }
        #expect(delivered == true, "the centre has no panic: \(rig.agentOutput)")
        let status = status { ($0["uplinks"] as? [[String: Any]])?.first?["state"] as? String == "up" }
        let uplinks = status["uplinks"] as? [[String: Any]] ?? []
        #expect(uplinks.map { $0["name"] as? String } == ["centre"] && uplinks.first?["state"] as? String == "up", "\(status)")
        #expect(status["reloadRefused"] == nil && status["configLoadedSecondsAgo"] as? Double ?? 99 < 20, "\(status)")
        #expect(queriesToBox == sessions, "the box's port was reopened by the reload: \(rig.agentOutput)")
        #expect(box.unconfirmedPresses.isEmpty)
        #expect(waitUntil(timeout: 5) { establishedConnections(toPort: centre.port) == 1 ? true : nil } == true,
                "the uplink keeps no connection to the centre")

        // Removed again: the output stops, its progress is forgotten as at start, and it closes its
        // kept-alive connection at once (the centre would drop it only after 10 s without a request).
        try reload(original, expecting: "configuration reloaded from \(rig.config): uplink centre stopped")
        #expect(rig.agentOutput.contains("uplink centre is no longer configured"), "\(rig.agentOutput)")
        #expect(waitUntil(timeout: 2) { establishedConnections(toPort: centre.port) == 0 ? true : nil } == true,
                "the removed uplink's connection is still open")
        #expect(queriesToBox == sessions)

        rig.stopAgent()
        #expect(try centre.query("SELECT count(*) FROM events WHERE kind = 'panic'") == ["1"])
        #expect(try rig.storedEvents().count == 1)
    }

    /// Established TCP connections whose far end is 127.0.0.1:`port`, from /proc/net/tcp (read to
    /// its end: it is longer than one read on a busy machine).
    func establishedConnections(toPort port: Int) -> Int {
        let data = FileHandle(forReadingAtPath: "/proc/net/tcp")?.readDataToEndOfFile() ?? Data()
        let remote = "0100007F:" + String(format: "%04X", port)
        return String(decoding: data, as: UTF8.self).split(separator: "\n").dropFirst().count { line in
            let fields = line.split(separator: " ")
            return fields.count > 3 && fields[2] == remote && fields[3] == "01"
        }
    }

    /// The box moves to another port: the input is reopened there, and its presses are stored.
    @Test func aReloadMovingTheBoxToAnotherPortOpensTheNewPort() throws {
        let moved = try PLBX2TestBox(boxID: "BX-8")
        defer { box.stop(); moved.stop() }
        let original = try String(contentsOfFile: rig.config, encoding: .utf8)
        try rig.startAgent()
        #expect(!moved.speaksProtocol2)

        try reload(original.replacingOccurrences(of: rig.line.agentPath, with: moved.line.devicePath),
                   expecting: "configuration reloaded from \(rig.config): input box-1 stopped, input box-1 started")
        #expect(waitUntil(timeout: 15) { moved.speaksProtocol2 ? true : nil } == true,
                "the agent never opened the new port: \(rig.agentOutput)")
        moved.press(1)
        usleep(300_000)
        moved.release(1)
        #expect(waitUntil(timeout: 15) { moved.storedPresses.count == 1 ? true : nil } == true, "\(rig.agentOutput)")
        let inputs = status { ($0["inputs"] as? [[String: Any]])?.first?["state"] as? String == "connected" }["inputs"]
            as? [[String: Any]] ?? []
        #expect(inputs.count == 1 && inputs.first?["name"] as? String == "button box box-1 \(moved.line.devicePath)"
                && inputs.first?["state"] as? String == "connected", "\(inputs)")
        rig.stopAgent()
        #expect(try rig.storedEvents().count == 1)
    }

    /// A file with a bad value is refused with the lines `config check` prints, and a change of the
    /// store's path with "restart to apply"; the old configuration keeps delivering presses.
    @Test func anInvalidConfigurationIsRefusedAndTheOldOneKeepsRunning() throws {
        defer { box.stop() }
        let original = try String(contentsOfFile: rig.config, encoding: .utf8)
        try rig.startAgent()
        let sessions = queriesToBox

        let invalid = original + "\n[track]\nprofile = \"bicycle\"\n"
        try invalid.write(toFile: folder.file("invalid.toml"), atomically: true, encoding: .utf8)
        let check = try BuiltExecutable.agent.run(["config", "check", folder.file("invalid.toml")])
        let problems = check.stderr.split(separator: "\n").map { $0.replacingOccurrences(of: folder.file("invalid.toml"), with: rig.config) }
        #expect(check.status == 78 && problems.count == 1 && problems[0].contains("profile"), "\(check)")
        try reload(invalid, expecting: "configuration reload refused")
        for problem in problems {
            #expect(rig.agentOutput.contains(problem), "the log lacks '\(problem)': \(rig.agentOutput)")
        }
        try original.write(toFile: folder.file("valid.toml"), atomically: true, encoding: .utf8)
        let refused = status(config: folder.file("valid.toml")) { $0["reloadRefused"] != nil }["reloadRefused"] as? String
        #expect(refused.map { problems.contains($0) } == true, "\(refused ?? "no refusal in status")")

        try reload(original.replacingOccurrences(of: "/store/agent.db", with: "/elsewhere/agent.db"),
                   expecting: "\(rig.config): [store] path changed: restart to apply")

        box.press(1)
        usleep(300_000)
        box.release(1)
        #expect(rig.waitUntilAllStored(presses: 1), "box holds \(box.unconfirmedPresses): \(rig.agentOutput)")
        #expect(queriesToBox == sessions, "a refused reload reopened the box's port: \(rig.agentOutput)")
        rig.stopAgent()
        #expect(!FileManager.default.fileExists(atPath: folder.file("elsewhere")))
        try original.write(toFile: rig.config, atomically: true, encoding: .utf8)
        #expect(try rig.storedEvents().count == 1)
    }

    /// Under a stand-in for systemd: RELOADING=1 with the CLOCK_MONOTONIC time of the reload, then
    /// READY=1, for a reload applied and for one refused.
    @Test func systemdIsToldReloadingThenReady() throws {
        defer { box.stop() }
        let notify = try NotifySocket(path: folder.file("notify"))
        let config = folder.file("notify-agent.toml")
        // The box's agent is not started: this one has the folder's store.
        let text = AgentConfigText.text(device: "test-car", folder: folder.path,
                                        gps: "gpsd_host = \"127.0.0.1\"\ngpsd_port = \(try FreePort.allocate())", tables: "")
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        let agent = try ChildProcess(BuiltExecutable.agent.path, ["run", "--config", config], environment: ["NOTIFY_SOCKET": notify.name])
        defer { agent.signal(SIGKILL) }
        #expect(notify.receive(timeout: 15)?.hasPrefix("READY=1\n") == true, "\(agent.output)")

        for (change, outcome) in [("\n[track]\nprofile = \"foot\"\n", "STATUS=configuration reloaded"),
                                  ("\n[track]\nprofile = \"bicycle\"\n", "STATUS=reload refused")] {
            try (text + change).write(toFile: config, atomically: true, encoding: .utf8)
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            let sentAt = Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000
            agent.signal(SIGHUP)
            // Without WATCHDOG_USEC the agent refreshes STATUS= alone every 0.5 s; those are left out.
            let messages = notify.receive(for: 3).filter { $0.hasPrefix("RELOADING=1") || $0.hasPrefix("READY=1") }
            #expect(messages.count == 2, "\(messages)\n\(agent.output)")
            let reloading = messages.first?.split(separator: "\n") ?? []
            let stamp = reloading.first { $0.hasPrefix("MONOTONIC_USEC=") }.flatMap { Int64($0.dropFirst("MONOTONIC_USEC=".count)) }
            #expect(reloading.first == "RELOADING=1" && stamp.map { $0 >= sentAt && $0 - sentAt < 3_000_000 } == true, "\(messages)")
            #expect(messages.last?.hasPrefix("READY=1\n" + outcome) == true, "\(messages)")
        }
        agent.signal(SIGTERM)
        #expect(agent.waitForExitCode(timeout: 15) == 0, "\(agent.output)")
    }
}
