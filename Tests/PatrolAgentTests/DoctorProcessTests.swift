import Foundation
import PatrolCore
import PatrolStore
import PatrolTestSupport
import Testing

/// `patrol-agent doctor` against real parts: gpsd under gpsfake, a button box on a pseudo-terminal
/// that answers doctor's QUERY, a pseudo-terminal with nothing on it, a device that does not exist,
/// and devices the service user may not open. Not real: the service user. Tests run as root, which
/// may open anything, so the healthy board is examined as `--user root` and the unreadable devices
/// as `--user nobody` (the pseudo-terminals are root's, mode 0600 or 0620).
@Suite(.serialized) struct DoctorProcessTests {
    let folder: TemporaryDirectory

    init() throws {
        folder = try TemporaryDirectory()
    }

    func writeConfig(gps: String, inputs: String = "") throws -> String {
        let path = folder.path + "/agent.toml"
        try AgentConfigText.text(device: "car-7", folder: folder.path, gps: gps, tables: inputs)
            .write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func boxInput(_ port: String) -> String {
        """
        [[button_box]]
        id = "dash-box"
        port = "\(port)"
        [[button_box.button]]
        number = 1
        id = "panic-1"
        role = "panic"
        """
    }

    /// Starts `doctor --json`; `result` waits for it and reads what it found.
    func startDoctor(_ config: String, user: String, listen: Double) throws -> ChildProcess {
        try ChildProcess(BuiltExecutable.agent.path, ["doctor", "--config", config, "--user", user, "--listen", String(listen), "--json"])
    }

    func result(of doctor: ChildProcess) -> (status: Int32?, checks: [String: (verdict: String, found: String)], text: String) {
        let status = doctor.waitForExitCode(timeout: 60)
        let document = (try? JSONSerialization.jsonObject(with: Data(doctor.standardOutput.utf8))) as? [String: Any]
        var checks: [String: (String, String)] = [:]
        for check in document?["checks"] as? [[String: Any]] ?? [] {
            checks[check["check"] as? String ?? "?"] = (check["verdict"] as? String ?? "?", check["found"] as? String ?? "")
        }
        return (status, checks, doctor.output)
    }

    func doctor(_ config: String, user: String, listen: Double = 2) throws -> (status: Int32?, checks: [String: (verdict: String, found: String)], text: String) {
        result(of: try startDoctor(config, user: user, listen: listen))
    }

    @Test func aHealthyBoardPassesWithWhatIsOnEachLine() throws {
        let gpsd = try GPSFake(logPath: Fixtures.path("gpsd-logs/bundg_zeus_9.log"), cycle: 0.01, once: false)
        let box = try PseudoTerminalPair()
        let config = try writeConfig(gps: "source = \"gpsd\"\ngpsd_host = \"127.0.0.1\"\ngpsd_port = \(gpsd.port)", inputs: boxInput(box.devicePath))

        let doctor = try startDoctor(config, user: "root", listen: 3)
        // The box answers doctor's QUERY with its HELLO, as the firmware does.
        #expect(String(decoding: box.read(timeout: 20), as: UTF8.self).contains(",QUERY*"), "\(doctor.output)")
        try box.write(ButtonBoxFrame(sequence: 7, message: .hello(boxID: "BX-0042", firmware: "1.3.0", uptimeSeconds: 99)).line)
        let result = result(of: doctor)
        #expect(result.status == 0, "\(result.text)")
        #expect(result.checks["config"]?.verdict == "ok")
        #expect(result.checks["gpsd"]?.verdict == "ok" && result.checks["gpsd"]?.found.contains("3D fix") == true, "\(result.text)")
        #expect(result.checks["button box dash-box"]?.found.contains("box BX-0042, firmware 1.3.0") == true, "\(result.text)")
        #expect(result.checks["store"]?.verdict == "ok" && result.checks["store folder"] != nil, "\(result.text)")
        #expect(result.checks["clock"]?.verdict != "fail")
    }

    @Test func aMiswiredBoardFailsNamingEachDeviceAndWhatToDo() throws {
        let silent = try PseudoTerminalPair()
        let config = try writeConfig(gps: "source = \"serial\"\nserial_port = \"\(silent.devicePath)\"", inputs: boxInput("/dev/patrol-no-such-box"))

        let result = try doctor(config, user: "root", listen: 1)
        #expect(result.status == 1, "any failure exits non-zero: \(result.text)")
        #expect(result.checks["gps receiver"]?.verdict == "fail"
                && result.checks["gps receiver"]?.found == "\(silent.devicePath): nothing received in 1 s at 9600 baud", "\(result.text)")
        #expect(result.checks["button box dash-box"]?.verdict == "fail"
                && result.checks["button box dash-box"]?.found == "/dev/patrol-no-such-box does not exist", "\(result.text)")
        let text = try BuiltExecutable.agent.run(["doctor", "--config", config, "--user", "root", "--listen", "1"]).stdout
        #expect(text.contains("FAIL  button box dash-box: /dev/patrol-no-such-box does not exist → plug the device in"), "\(text)")

        // The same devices as a user outside their group: doctor says so before listening.
        let unprivileged = try doctor(config, user: "nobody", listen: 1)
        let gps = unprivileged.checks["gps receiver"]
        #expect(gps?.verdict == "fail" && gps?.found.hasPrefix("\(silent.devicePath) (root:") == true
                && gps?.found.hasSuffix(") is not readable and writable by nobody") == true, "\(unprivileged.text)")
        #expect(unprivileged.checks["store folder"]?.verdict == "warn" || unprivileged.checks["store folder"]?.verdict == "fail")
    }

    @Test func whileTheAgentRunsItsDevicesAreLeftAlone() throws {
        let box = try PseudoTerminalPair()
        let config = try writeConfig(gps: "source = \"gpsd\"\ngpsd_host = \"127.0.0.1\"\ngpsd_port = \(try FreePort.allocate())",
                                     inputs: boxInput(box.devicePath))
        let agent = try ChildProcess(BuiltExecutable.agent.path, ["run", "--config", config])
        defer { agent.signal(SIGKILL) }
        let running = waitUntil(timeout: 15) { () -> Bool? in
            BuiltExecutable.agentStatus(config: config)["running"] as? Bool == true ? true : nil
        }
        #expect(running == true, "\(agent.output)")

        let result = try doctor(config, user: "root", listen: 1)
        #expect(result.checks["agent"]?.found.hasPrefix("running (pid \(agent.pid))") == true, "\(result.text)")
        #expect(result.checks["button box dash-box"]?.verdict == "skipped"
                && result.checks["button box dash-box"]?.found.contains("in use by the running agent") == true, "\(result.text)")
        #expect(result.checks["gpsd"]?.verdict == "fail", "nothing listens on that gpsd port: \(result.text)")
    }

    @Test func eachUplinkIsAskedWithASignedHeartbeatAndAWrongKeyOrAnUntrustedCentreIsNamed() throws {
        let certificates = try TestCertificates(in: folder.file("tls"))
        let stranger = try TestCertificates(in: folder.file("stranger"), authority: "Some other CA")
        try FileManager.default.createDirectory(atPath: folder.file("centre"), withIntermediateDirectories: true)
        let centre = try CentreProcess(folder: folder.file("centre"), tls: CentreProcess.TLS(certificates: certificates))
        defer { centre.stop() }
        try centre.start()
        try centre.addDevice("car-7").write(toFile: folder.file("device.key"), atomically: true, encoding: .utf8)
        try centre.addDevice("car-8").write(toFile: folder.file("other.key"), atomically: true, encoding: .utf8)
        func uplink(_ name: String, key: String, ca: String) -> String {
            """
            [[uplink]]
            name = "\(name)"
            kind = "centre-http"
            url = "https://127.0.0.1:\(centre.port)"
            key_file = "\(folder.file(key))"
            ca_file = "\(ca)"
            """
        }
        let config = try writeConfig(gps: "source = \"gpsd\"\ngpsd_host = \"127.0.0.1\"\ngpsd_port = \(try FreePort.allocate())", inputs: [
            uplink("right", key: "device.key", ca: certificates.caCertificate),
            uplink("wrong-key", key: "other.key", ca: certificates.caCertificate),
            uplink("untrusted", key: "device.key", ca: stranger.caCertificate),
        ].joined(separator: "\n"))

        let result = try doctor(config, user: "root", listen: 1)
        #expect(result.checks["uplink right"]?.verdict == "ok"
                && result.checks["uplink right"]?.found.hasSuffix("TLS trusted, the receiver answered a heartbeat from car-7: key accepted") == true,
                "\(result.text)")
        #expect(result.checks["uplink wrong-key"]?.verdict == "fail" && result.checks["uplink wrong-key"]?.found.contains("HTTP 401") == true,
                "\(result.text)")
        #expect(result.text.contains("patrol-centre devices add car-7"), "the remedy says what to run: \(result.text)")
        #expect(result.checks["uplink untrusted"]?.verdict == "fail"
                && result.checks["uplink untrusted"]?.found.contains("certificate is not trusted") == true, "\(result.text)")
        #expect(try centre.query("SELECT count(*) FROM events") == ["0"], "a heartbeat stores no event")
    }

    @Test func contactButtonsShowTheirLineStatesAndAClosedLineIsAWarning() throws {
        // The buttons' port behind an RFC 2217 serial server: real modem line states over the
        // protocol the agent uses for network serial ports (a pseudo-terminal has no modem lines).
        let server = try RFC2217TestServer()
        server.setLine(.cts, asserted: true)
        let config = try writeConfig(gps: "source = \"gpsd\"\ngpsd_host = \"127.0.0.1\"\ngpsd_port = \(try FreePort.allocate())", inputs: """
            [[modem_buttons]]
            id = "dash-port"
            port = "\(server.path)"
            supply_lines = ["dtr"]
            [[modem_buttons.button]]
            id = "panic-dash"
            line = "cts"
            role = "panic"
            [[modem_buttons.button]]
            id = "duress-seat"
            line = "dsr"
            role = "duress"
            active = "low"
            """)

        let held = try doctor(config, user: "root", listen: 1)
        #expect(held.checks["modem buttons dash-port"]?.verdict == "warn", "\(held.text)")
        #expect(held.checks["modem buttons dash-port"]?.found
                == "\(server.path): CTS closed: panic-dash pressed or wiring shorted, DSR open: duress-seat pressed or its loop cut", "\(held.text)")

        server.setLine(.cts, asserted: false)
        server.setLine(.dsr, asserted: true)
        let released = try doctor(config, user: "root", listen: 1)
        #expect(released.checks["modem buttons dash-port"]?.verdict == "ok"
                && released.checks["modem buttons dash-port"]?.found
                    == "\(server.path): CTS open (panic-dash released), DSR closed (duress-seat released)", "\(released.text)")
    }

    @Test func aDamagedStoreFailsItsCheckAndIsLeftForTheAgentToRecover() throws {
        let storePath = folder.path + "/store/agent.db"
        try FileManager.default.createDirectory(atPath: folder.path + "/store", withIntermediateDirectories: true)
        do {
            let store = try AgentStore.open(path: storePath, logger: .init(label: "test"))
            let start = UTCTime(year: 2026, month: 11, day: 26, hour: 8)
            for second in stride(from: 0, to: 3000, by: 10) { // a commit every 10 s, as the agent makes them
                try store.append((second..<second + 10).map {
                    TrackPoint(time: start.adding(milliseconds: Int64($0) * 1000), coordinate: Coordinate(latitude: 52.5, longitude: 13.4), hdop: 0.9)
                })
            }
        }
        try DamagedFile.overwriteMiddlePages(of: storePath, pageSize: 512)
        let config = try writeConfig(gps: "source = \"gpsd\"\ngpsd_host = \"127.0.0.1\"\ngpsd_port = \(try FreePort.allocate())")

        let result = try doctor(config, user: "root", listen: 1)
        #expect(result.status == 1)
        #expect(result.checks["store"]?.verdict == "fail" && result.checks["store"]?.found.contains("quick_check") == true, "\(result.text)")
        #expect(result.text.contains("start the agent: it moves a damaged store aside"), "\(result.text)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path + "/store").allSatisfy { !$0.contains(".corrupt-") },
                "doctor leaves the recovery to the agent")
    }
}
