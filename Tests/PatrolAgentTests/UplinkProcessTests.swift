import Foundation
import PatrolCore
import PatrolTestSupport
import Testing

/// The uplink end to end with real processes: `patrol-centre serve` and `patrol-agent run` on
/// 127.0.0.1, gpsd (gpsfake) feeding the track, a button box on a pty raising a panic and a
/// check-in, and a `TCPProxy` between them that the test cuts, stalls and restores. After every
/// fault the centre must hold each event exactly once and every track point the agent stored.
@Suite(.serialized) struct UplinkProcessTests {
    /// One scenario's processes; `finish()` drains, stops everything and checks the centre.
    final class Rig {
        let folder: TemporaryDirectory
        let centre: CentreProcess
        let proxy: TCPProxy
        let gpsd: GPSFake
        let box: PseudoTerminalPair
        let config: String
        /// The centre's certificates when it serves TLS; the agent trusts their CA unless told otherwise.
        let certificates: TestCertificates?
        private let uplinkPort: Int
        var agent: ChildProcess?
        private var boxSequence: UInt16 = 0

        /// - Parameters:
        ///   - uplinkPort: where the agent sends (the proxy unless a test puts something else there).
        ///   - tls: the centre serves TLS with certificates made for the test, and the agent uses https.
        ///   - clientCertificatesRequired: the centre also asks for client certificates (`client_ca`).
        init(uplinkPort: Int? = nil, centrePort: Int? = nil, tls: Bool = false, clientCertificatesRequired: Bool = false) throws {
            folder = try TemporaryDirectory(prefix: "patrol-uplink")
            try FileManager.default.createDirectory(atPath: folder.file("centre"), withIntermediateDirectories: true)
            certificates = tls ? try TestCertificates(in: folder.file("pki")) : nil
            centre = try CentreProcess(folder: folder.file("centre"), port: centrePort, tls: certificates.map {
                CentreProcess.TLS(certificates: $0, requiresClientCertificates: clientCertificatesRequired)
            })
            proxy = try TCPProxy(targetPort: centre.port)
            self.uplinkPort = uplinkPort ?? proxy.port
            gpsd = try GPSFake(logPath: Fixtures.path("gpsd-logs/bundg_zeus_9.log"), cycle: 0.004)
            box = try PseudoTerminalPair()
            try centre.addDevice("test-car").write(toFile: folder.file("device.key"), atomically: true, encoding: .utf8)
            config = folder.file("agent.toml")
            try writeConfig(trusting: certificates?.caCertificate)
        }

        /// Writes the agent's configuration; with a CA file the uplink is https and trusts that CA
        /// only, and shows the test client certificate when `withClientCertificate`.
        func writeConfig(trusting caFile: String?, withClientCertificate: Bool = false) throws {
            var uplink = "url = \"\(caFile == nil ? "http" : "https")://127.0.0.1:\(uplinkPort)\""
            if let caFile { uplink += "\nca_file = \"\(caFile)\"" }
            if withClientCertificate, let certificates {
                uplink += "\nclient_cert = \"\(certificates.clientCertificate)\"\nclient_key = \"\(certificates.clientKey)\""
            }
            try """
            [device]
            id = "test-car"
            [gps]
            gpsd_host = "127.0.0.1"
            gpsd_port = \(gpsd.port)
            rollover_pivot = "2017-01-01"   # the log is from 2018: not a rollover date
            [track]
            record_every_fix = true
            [store]
            path = "\(folder.path)/store/agent.db"
            commit_window = 0.5
            [status]
            runtime_dir = "\(folder.path)/run"
            interval = 0.5
            [[button_box]]
            id = "box-1"
            port = "\(box.devicePath)"
            silence_ms = 600000          # the test box sends no heartbeats
            [[button_box.button]]
            number = 1
            id = "panic-1"
            role = "panic"
            [[button_box.button]]
            number = 2
            id = "check-in-1"
            role = "check-in"
            [[uplink]]
            \(uplink)
            key_file = "\(folder.file("device.key"))"
            heartbeat_s = 1
            retry_max_s = 1
            timeout_s = 3
            batch_points = 10             # many batches, so faults land mid-backlog
            """.write(toFile: config, atomically: true, encoding: .utf8)
        }

        deinit {
            agent?.signal(SIGKILL)
            gpsd.stop()
            proxy.stop()
            centre.stop(SIGKILL)
            folder.remove()
        }

        func status() -> [String: Any] {
            BuiltExecutable.agentStatus(config: config)
        }

        var uplink: [String: Any] { (status()["uplinks"] as? [[String: Any]])?.first ?? [:] }
        var storedPoints: Int { (status()["store"] as? [String: Any])?["trackPoints"] as? Int ?? 0 }

        /// Starts the agent and waits until the box is connected.
        func startAgent() {
            let agent = try? ChildProcess(BuiltExecutable.agent.path, ["run", "--config", config])
            self.agent = agent
            let ready = waitUntil(timeout: 30) { () -> Bool? in
                let inputs = status()["inputs"] as? [[String: Any]] ?? []
                return !inputs.isEmpty && inputs.allSatisfy { $0["state"] as? String == "connected" } ? true : nil
            }
            #expect(ready == true, "agent not ready: \(agent?.output ?? "")")
        }

        /// The stored events as `patrol-agent events --json` lists them (the agent must be stopped).
        func events() throws -> [[String: Any]] {
            let listed = try BuiltExecutable.agent.run(["events", "--config", config, "--json"])
            return (try? JSONSerialization.jsonObject(with: Data(listed.stdout.utf8))) as? [[String: Any]] ?? []
        }

        /// Stops the agent with SIGTERM, as systemd does, and returns what it logged.
        @discardableResult
        func stopAgent() -> String {
            agent?.signal(SIGTERM)
            #expect(agent?.waitForExitCode(timeout: 15) == 0, "SIGTERM must stop the agent cleanly: \(agent?.output ?? "")")
            defer { agent = nil }
            return agent?.output ?? ""
        }

        /// Plays the box: hello, then `button` held for 200 ms.
        func press(_ button: Int) throws {
            for message in [ButtonBoxMessage.hello(boxID: "box-1", firmware: "test", uptimeSeconds: 5), .buttonDown(button: button)] {
                try box.write(ButtonBoxFrame(sequence: boxSequence, message: message).line)
                boxSequence &+= 1
            }
            usleep(200_000)
            try box.write(ButtonBoxFrame(sequence: boxSequence, message: .buttonUp(button: button)).line)
            boxSequence &+= 1
        }

        /// Waits until the agent has committed at least `count` points.
        func waitForPoints(_ count: Int) {
            #expect(waitUntil(timeout: 60) { storedPoints >= count ? true : nil } == true, "the agent stored only \(storedPoints) points")
        }

        /// Stops the GPS, waits until the uplink has delivered everything the agent stored, stops
        /// the agent and the centre, and checks the centre against the agent's store.
        func finish(events expected: [String: Int]) throws {
            gpsd.stop()
            usleep(1_500_000) // the batcher commits what it holds within its 0.5 s window
            // Sequences start at 1 and run on, so delivered through the count stored means all of it.
            let drained = waitUntil(timeout: 90) { () -> Bool? in
                let (uplink, stored) = (uplink, storedPoints)
                return uplink["state"] as? String == "up" && uplink["eventPending"] as? Int == 0
                    && (uplink["trackDelivered"] as? Int ?? 0) >= stored && stored > 0 ? true : nil
            }
            #expect(drained == true, "the uplink did not drain: \(uplink) \(agent?.output ?? "")")
            stopAgent()
            centre.stop()
            let events = try events()
            #expect(!events.isEmpty && events.allSatisfy { $0["delivery"] as? String == "delivered" },
                    "`events` shows every event delivered: \(events)")
            let export = try BuiltExecutable.agent.run(["export", "--config", config, "--format", "csv"])
            let agentPoints = export.stdout.split(separator: "\n").count - 1
            #expect(agentPoints > 0)
            let centrePoints = try centre.query("SELECT count(*) FROM track_points")
            #expect(centrePoints == ["\(agentPoints)"], "every point the agent stored is at the centre")
            // Faults (gps-lost once the log has played) come and go with timing; the presses must not.
            let kinds = try centre.query("SELECT kind || ' ' || count(*) FROM events WHERE kind IN ('panic', 'check-in.button') GROUP BY kind ORDER BY kind")
            #expect(kinds == expected.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }, "each event exactly once")
        }
    }

    @Test func aLinkCutThroughABacklogCatchesUpAndTheAcknowledgementReachesTheBox() throws {
        let rig = try Rig()
        try rig.centre.start()
        rig.proxy.cut()
        rig.startAgent()
        try rig.press(1)
        try rig.press(2)
        rig.waitForPoints(80)
        let down = waitUntil(timeout: 10) { rig.uplink["state"] as? String == "down" ? rig.uplink : nil }
        #expect(down?["eventPending"] as? Int == 2, "status shows the alarm and check-in waiting: \(down ?? [:])")
        rig.proxy.restore()
        let listed = waitUntil(timeout: 30) { () -> String? in
            let alarms = (try? rig.centre.run(["alarms", "--open"]))?.stdout ?? ""
            return alarms.contains("test-car") ? alarms : nil
        }
        #expect(listed != nil, "the panic reaches the centre's open alarms")
        let ack = try rig.centre.run(["alarms", "ack", "1", "--by", "ann"])
        #expect(ack.status == 0, "\(ack.stderr)")
        // The box's LED goes steady once the agent hears of the acknowledgement.
        #expect(rig.box.waitForSteadyLED(timeout: 15), "no 'acknowledged' LED command reached the box")
        let shown = waitUntil(timeout: 5) { () -> Bool? in
            let recent = rig.status()["recentEvents"] as? [[String: Any]] ?? []
            return recent.contains { $0["kind"] as? String == "panic" && $0["delivery"] as? String == "acknowledged" } ? true : nil
        }
        #expect(shown == true, "status shows the panic acknowledged")
        try rig.finish(events: ["panic": 1, "check-in.button": 1])
    }

    @Test func theCentreKilledMidBatchAndRestartedLosesAndDuplicatesNothing() throws {
        let rig = try Rig()
        try rig.centre.start()
        rig.proxy.stall()
        rig.startAgent()
        try rig.press(1)
        rig.waitForPoints(80)
        rig.proxy.restore()
        // Let a few backlog batches through, then crash the centre while batches are in flight.
        #expect(waitUntil(timeout: 30) { rig.proxy.bytes.upstream > 600 ? true : nil } == true)
        rig.centre.stop(SIGKILL)
        try rig.press(2)
        #expect(waitUntil(timeout: 15) { rig.uplink["state"] as? String == "down" ? true : nil } == true)
        try rig.centre.start()
        try rig.finish(events: ["panic": 1, "check-in.button": 1])
    }

    @Test func theAgentKilledMidUploadResendsOnlyWhatWasNotConfirmed() throws {
        let rig = try Rig()
        try rig.centre.start()
        rig.proxy.cut()
        rig.startAgent()
        try rig.press(1)
        rig.waitForPoints(60)
        for round in 1...3 {
            rig.proxy.restore()
            let before = rig.proxy.bytes.upstream
            #expect(waitUntil(timeout: 30) { rig.proxy.bytes.upstream > before + 600 ? true : nil } == true, "round \(round)")
            rig.agent?.signal(SIGKILL)
            _ = rig.agent?.waitForExit(timeout: 5)
            rig.proxy.cut()
            rig.startAgent()
            try rig.press(2)
        }
        rig.proxy.restore()
        try rig.finish(events: ["panic": 1, "check-in.button": 3])
    }

    @Test func aCentreAnswering500sAndGarbageIsRetriedUntilTheRealOneAnswers() throws {
        // A tiny fake HTTP server stands where the centre will be: first 500s, then a 200 whose
        // body is not an ingest answer. Only a real answer may count as delivered.
        let port = try FreePort.allocate()
        let fake = try FakeHTTPServer(port: port, replies: [
            "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 21\r\n\r\n{\"error\":\"internal\"}\n",
            "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 21\r\n\r\n{\"error\":\"internal\"}\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nnot json!",
        ])
        let rig = try Rig(uplinkPort: port, centrePort: port)
        rig.startAgent()
        try rig.press(1)
        rig.waitForPoints(40)
        #expect(waitUntil(timeout: 15) { fake.requests >= 4 ? true : nil } == true, "the agent keeps retrying")
        let down = rig.uplink
        #expect(down["state"] as? String == "down")
        #expect((down["downReason"] as? String)?.contains("HTTP 500") == true || (down["downReason"] as? String)?.contains("not an ingest answer") == true,
                "status says why: \(down)")
        #expect(down["eventPending"] as? Int == 1, "a garbage 200 delivered nothing")
        fake.stop()
        try rig.centre.start()
        try rig.finish(events: ["panic": 1])
    }
}

/// Answers every HTTP request on 127.0.0.1:`port` with the next canned reply (the last one repeats),
/// closing the connection after each.
final class FakeHTTPServer: @unchecked Sendable {
    private let listener: Int32
    private let replies: [String]
    private let lock = NSLock()
    private var served = 0
    private var stopped = false

    init(port: Int, replies: [String]) throws {
        self.replies = replies
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard bound, listen(listener, 8) == 0 else { throw SystemCallError("fake server on \(port)") }
        Thread.detachNewThread { [self] in serve() }
    }

    var requests: Int { lock.withLock { served } }

    func stop() {
        lock.withLock { stopped = true }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func serve() {
        while !lock.withLock({ stopped }) {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            // Read the head and the body the Content-Length announces, then answer and close.
            var request: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(client, $0.baseAddress, $0.count) }
                guard count > 0 else { break }
                request += buffer[0..<count]
                let text = String(decoding: request, as: UTF8.self)
                guard let headEnd = text.range(of: "\r\n\r\n") else { continue }
                let length = text[..<headEnd.lowerBound].split(separator: "\r\n")
                    .first { $0.lowercased().hasPrefix("content-length:") }
                    .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                if request.count >= text.utf8.distance(from: text.startIndex, to: headEnd.upperBound) + length { break }
            }
            let index = lock.withLock { () -> Int in
                defer { served += 1 }
                return min(served, replies.count - 1)
            }
            let reply = Array(replies[index].utf8)
            _ = reply.withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
            close(client)
        }
    }
}
