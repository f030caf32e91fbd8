import Foundation
import PatrolCore
import PatrolStore
import PatrolTestSupport
import Testing

/// Alarms stored in a store that is later damaged still reach the centre: a real `patrol-centre
/// serve` and `patrol-agent run` on 127.0.0.1, the store a real SQLite file damaged in its pages.
struct StoreRecoveryProcessTests {
    @Test func anUndeliveredPanicInADamagedStoreReachesTheCentreAfterRestart() throws {
        let world = try RecoveryWorld()
        defer { world.remove() }
        let centre = world.centre

        // What an agent stored while the centre was out of reach: three panics, then a track.
        let storePath = world.storePath
        let start = UTCTime(year: 2026, month: 11, day: 26, hour: 8)
        var panics: [Int64] = []
        do {
            let store = try AgentStore.open(path: storePath, logger: .init(label: "test"))
            for second in 0..<3 {
                panics.append(try store.appendEvent(.sample(.panic(silent: false), deviceID: "test-car",
                                                            time: start.adding(milliseconds: Int64(second) * 1000))))
            }
            try RecoveryWorld.appendTrack(to: store, seconds: 3000, from: start)
        }
        try DamagedFile.overwriteMiddlePages(of: storePath, pageSize: 512)

        // No gpsd: the store and the uplink are what is tested.
        let config = try world.writeConfig(gpsdPort: try FreePort.allocate())
        let agent = try ChildProcess(BuiltExecutable.agent.path, ["run", "--config", config])
        defer { agent.signal(SIGKILL) }

        let delivered = waitUntil(timeout: 60) { () -> [String]? in
            let rows = (try? centre.query("SELECT sequence || ' ' || kind FROM events WHERE device = 'test-car' ORDER BY sequence")) ?? []
            return rows.count >= panics.count ? rows : nil
        }
        #expect(delivered == panics.map { "\($0) panic" }, "each panic once, with its sequence number: \(agent.output)")
        #expect(agent.output.contains("moved aside to \(storePath).corrupt-"), "\(agent.output)")

        let status = waitUntil(timeout: 30) { () -> [String: Any]? in
            BuiltExecutable.agentStatus(config: config)["store"] as? [String: Any]
        }
        #expect(status?["salvagedEvents"] as? Int == 3, "\(status ?? [:])")
        #expect(status?["corruptionRecoveries"] as? Int == 1, "\(status ?? [:])")
        let text = try BuiltExecutable.agent.run(["status", "--config", config]).stdout
        #expect(text.contains("store recovered: ") && text.contains("3 events and "), "\(text)")
        agent.signal(SIGTERM)
        #expect(agent.waitForExitCode(timeout: 15) == 0, "\(agent.output)")
    }
}

/// The track a car records after its store was salvaged reaches the centre, although the centre
/// already holds the numbers the lost part of the store used: a real `patrol-centre serve`, a real
/// `patrol-agent run` with gpsd (gpsfake) giving fixes, the store a real SQLite file damaged where
/// its newest rows are.
struct TrackAfterSalvageProcessTests {
    @Test func theTrackRecordedAfterADamagedStoreWasSalvagedReachesTheCentre() throws {
        let world = try RecoveryWorld()
        defer { world.remove() }
        let (folder, centre) = (world.folder, world.centre)

        // A day's track, stored and delivered: the centre holds every number it used.
        let storePath = world.storePath
        let earlier = UTCTime(year: 2026, month: 11, day: 26, hour: 8)
        do {
            let store = try AgentStore.open(path: storePath, logger: .init(label: "test"))
            try RecoveryWorld.appendTrack(to: store, seconds: 3000, from: earlier)
        }
        func writeConfig(gpsdPort: Int) throws -> String {
            // The log is from 2020: not rollover dates. Every fix recorded and committed at once.
            try world.writeConfig(gpsdPort: gpsdPort, gps: #"rollover_pivot = "2017-01-01""#, track: "record_every_fix = true",
                                  store: "commit_window = 1")
        }
        func centrePoints(before time: UTCTime? = nil) -> Int {
            let condition = time.map { " AND time_ms < \($0.millisecondsSinceEpoch)" } ?? ""
            return Int((try? centre.query("SELECT count(*) FROM track_points WHERE device = 'test-car'\(condition)"))?.first ?? "") ?? -1
        }
        do {
            let agent = try ChildProcess(BuiltExecutable.agent.path, ["run", "--config", try writeConfig(gpsdPort: try FreePort.allocate())])
            defer { agent.signal(SIGKILL) }
            #expect(waitUntil(timeout: 60) { centrePoints() == 3000 ? true : nil } == true, "\(agent.output)")
            agent.signal(SIGTERM)
            #expect(agent.waitForExitCode(timeout: 15) == 0, "\(agent.output)")
        }
        try DamagedFile.overwriteLastPages(of: storePath, pageSize: 512)

        // The car drives on: gpsd replays a 2020 log, so its points are told apart by time.
        let gpsd = try GPSFake(logPath: Fixtures.path("gpsd-logs/nmea-rtk.log"), cycle: 0.02)
        let agent = try ChildProcess(BuiltExecutable.agent.path, ["run", "--config", try writeConfig(gpsdPort: gpsd.port)])
        defer { agent.signal(SIGKILL) }
        let config = folder.file("agent.toml")
        func status() -> [String: Any] {
            BuiltExecutable.agentStatus(config: config)
        }
        let driving = waitUntil(timeout: 60) { (status()["pointsRecorded"] as? Int ?? 0) >= 40 ? true : nil }
        #expect(driving == true, "\(agent.output)")
        gpsd.stop() // the car parks: what it recorded is committed and sent
        let settled = waitUntil(timeout: 60) { () -> Bool? in
            let now = status()
            guard now["pointsPendingCommit"] as? Int == 0, let recorded = now["pointsRecorded"] as? Int else { return nil }
            return centrePoints(before: earlier) == recorded ? true : nil
        }
        #expect(settled == true, "the centre has \(centrePoints(before: earlier)) of the points recorded: \(status()) \(agent.output)")
        #expect(agent.output.contains("moved aside to \(storePath).corrupt-"), "\(agent.output)")
        agent.signal(SIGTERM)
        #expect(agent.waitForExitCode(timeout: 15) == 0, "\(agent.output)")

        // Whatever gpsd still sent as it went is stored; an agent started again sends it too.
        var recorded = 0
        try AgentStore.open(path: storePath, logger: .init(label: "test")).forEachTrackPoint(to: earlier) { _ in recorded += 1 }
        #expect(recorded >= 40, "gpsd's fixes were recorded")
        let restarted = try ChildProcess(BuiltExecutable.agent.path, ["run", "--config", try writeConfig(gpsdPort: try FreePort.allocate())])
        defer { restarted.signal(SIGKILL) }
        let delivered = waitUntil(timeout: 30) { centrePoints(before: earlier) == recorded ? true : nil }
        #expect(delivered == true, "every point recorded after the salvage is at the centre: \(centrePoints(before: earlier)) of \(recorded)")
        #expect(centrePoints() == 3000 + recorded)
        // Everything may have been at the centre before the agent was even up.
        #expect(waitUntil(timeout: 30) { BuiltExecutable.agentIsRunning(config: config, pid: restarted.pid) ? true : nil } == true)
        restarted.signal(SIGTERM)
        #expect(restarted.waitForExitCode(timeout: 15) == 0, "\(restarted.output)")
    }
}

/// What both recovery process tests start from: a folder with a real `patrol-centre serve` (the
/// device `test-car` registered, its key in `device.key`) and the place of the agent's store.
private struct RecoveryWorld {
    let folder: TemporaryDirectory
    let centre: CentreProcess
    var storePath: String { folder.file("store/agent.db") }

    init() throws {
        folder = try TemporaryDirectory(prefix: "patrol-recovery")
        for directory in ["centre", "store", "run"] {
            try FileManager.default.createDirectory(atPath: folder.file(directory), withIntermediateDirectories: true)
        }
        centre = try CentreProcess(folder: folder.file("centre"))
        try centre.start()
        try centre.addDevice("test-car").write(toFile: folder.file("device.key"), atomically: true, encoding: .utf8)
    }

    func remove() {
        centre.stop(SIGKILL)
        folder.remove()
    }

    /// A track of one point a second for `seconds`, moving east, committed ten points at a time.
    static func appendTrack(to store: AgentStore, seconds: Int, from start: UTCTime) throws {
        for batch in stride(from: 0, to: seconds, by: 10) {
            try store.append((batch..<min(batch + 10, seconds)).map { second in
                TrackPoint(time: start.adding(milliseconds: Int64(second) * 1000),
                           coordinate: Coordinate(latitude: 52.5, longitude: 13.4 + Double(second) * 1e-5), hdop: 0.9)
            })
        }
    }

    /// Writes `agent.toml` for the store and the centre, with `gps`, `track` and `store` lines
    /// added to those tables; returns its path.
    func writeConfig(gpsdPort: Int, gps: String = "", track: String = "", store: String = "") throws -> String {
        let config = folder.file("agent.toml")
        try """
        [device]
        id = "test-car"
        [gps]
        gpsd_host = "127.0.0.1"
        gpsd_port = \(gpsdPort)
        \(gps)
        [track]
        \(track)
        [store]
        path = "\(storePath)"
        \(store)
        [status]
        runtime_dir = "\(folder.file("run"))"
        interval = 0.5
        [[uplink]]
        url = "http://127.0.0.1:\(centre.port)"
        key_file = "\(folder.file("device.key"))"
        retry_max_s = 1
        """.write(toFile: config, atomically: true, encoding: .utf8)
        return config
    }
}
