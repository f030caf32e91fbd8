import Foundation
import PatrolCore
import PatrolStore
import PatrolTestSupport
import Testing

/// Alarms stored in a store that is later damaged still reach the centre: a real `patrol-centre
/// serve` and `patrol-agent run` on 127.0.0.1, the store a real SQLite file damaged in its pages.
struct StoreRecoveryProcessTests {
    @Test func anUndeliveredPanicInADamagedStoreReachesTheCentreAfterRestart() throws {
        let folder = try TemporaryDirectory(prefix: "patrol-recovery")
        defer { folder.remove() }
        for directory in ["centre", "store", "run"] {
            try FileManager.default.createDirectory(atPath: folder.file(directory), withIntermediateDirectories: true)
        }
        let centre = try CentreProcess(folder: folder.file("centre"))
        try centre.start()
        defer { centre.stop(SIGKILL) }
        try centre.addDevice("test-car").write(toFile: folder.file("device.key"), atomically: true, encoding: .utf8)

        // What an agent stored while the centre was out of reach: three panics, then a track.
        let storePath = folder.file("store/agent.db")
        let start = UTCTime(year: 2026, month: 11, day: 26, hour: 8)
        var panics: [Int64] = []
        do {
            let store = try AgentStore.open(path: storePath, logger: .init(label: "test"))
            for second in 0..<3 {
                panics.append(try store.appendEvent(EventRecord(
                    deviceID: "test-car", kind: "panic", time: start.adding(milliseconds: Int64(second) * 1000),
                    timeSource: "gnss", buttonID: "panic-1")))
            }
            for batch in 0..<300 {
                try store.append((batch * 10..<batch * 10 + 10).map { second in
                    TrackPoint(time: start.adding(milliseconds: Int64(second) * 1000),
                               coordinate: Coordinate(latitude: 52.5, longitude: 13.4 + Double(second) * 1e-5), hdop: 0.9)
                })
            }
        }
        try DamagedFile.overwriteMiddlePages(of: storePath, pageSize: 512)

        let config = folder.file("agent.toml")
        try """
        [device]
        id = "test-car"
        [gps]
        gpsd_host = "127.0.0.1"
        gpsd_port = \(try FreePort.allocate())   # no gpsd: the store and the uplink are what is tested
        [store]
        path = "\(storePath)"
        [status]
        runtime_dir = "\(folder.file("run"))"
        interval = 0.5
        [[uplink]]
        url = "http://127.0.0.1:\(centre.port)"
        key_file = "\(folder.file("device.key"))"
        retry_max_s = 1
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let agent = try ChildProcess(BuiltExecutable.agent.path, ["run", "--config", config])
        defer { agent.signal(SIGKILL) }

        let delivered = waitUntil(timeout: 60) { () -> [String]? in
            let rows = (try? centre.query("SELECT sequence || ' ' || kind FROM events WHERE device = 'test-car' ORDER BY sequence")) ?? []
            return rows.count >= panics.count ? rows : nil
        }
        #expect(delivered == panics.map { "\($0) panic" }, "each panic once, with its sequence number: \(agent.output)")
        #expect(agent.output.contains("moved aside to \(storePath).corrupt-"), "\(agent.output)")

        let status = waitUntil(timeout: 30) { () -> [String: Any]? in
            guard let result = try? BuiltExecutable.agent.run(["status", "--config", config, "--json"]),
                  let json = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
                  let store = json["store"] as? [String: Any] else { return nil }
            return store
        }
        #expect(status?["salvagedEvents"] as? Int == 3, "\(status ?? [:])")
        #expect(status?["corruptionRecoveries"] as? Int == 1, "\(status ?? [:])")
        let text = try BuiltExecutable.agent.run(["status", "--config", config]).stdout
        #expect(text.contains("store recovered: ") && text.contains("3 events and "), "\(text)")
        agent.signal(SIGTERM)
        #expect(agent.waitForExitCode(timeout: 15) == 0, "\(agent.output)")
    }
}
