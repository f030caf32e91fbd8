import Foundation
import PatrolTestSupport
import Testing

/// The real `patrol-agent` process against a real gpsd (gpsfake) and a real SQLite file.
@Suite(.serialized) struct AgentProcessTests {
    let folder: TemporaryDirectory

    init() throws {
        folder = try TemporaryDirectory()
    }

    /// Writes a configuration for a gpsd on `port`, recording every fix, committing every `window` s.
    func writeConfig(port: Int, window: Double = 1, extra: String = "") throws -> String {
        let path = folder.path + "/agent.toml"
        try """
        [device]
        id = "test-car"
        [gps]
        source = "gpsd"
        gpsd_host = "127.0.0.1"
        gpsd_port = \(port)
        rollover_pivot = "2017-01-01"   # the logs are from 2018-2020: not rollover dates
        [track]
        record_every_fix = true
        [store]
        path = "\(folder.path)/store/agent.db"
        commit_window = \(window)
        [status]
        runtime_dir = "\(folder.path)/run"
        interval = 0.5
        \(extra)
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func exportCSV(_ config: String, _ extra: [String] = []) throws -> [String] {
        let result = try BuiltExecutable.agent.run(["export", "--config", config, "--format", "csv"] + extra)
        #expect(result.status == 0, "export failed: \(result.stderr)")
        return result.stdout.split(separator: "\n").dropFirst().map(String.init)
    }

    func status(_ config: String) throws -> [String: Any] {
        let result = try BuiltExecutable.agent.run(["status", "--config", config, "--json"])
        return (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]) ?? [:]
    }

    /// The fixes gpsd reports for a log (its .chk): time → (lat, lon).
    func gpsdFixes(_ log: String) throws -> [String: (Double, Double)] {
        struct Report: Decodable {
            var `class`: String
            var time: String?
            var lat: Double?
            var lon: Double?
        }
        var fixes: [String: (Double, Double)] = [:]
        for line in try String(contentsOfFile: Fixtures.path("gpsd-logs/\(log).chk"), encoding: .utf8).split(whereSeparator: \.isNewline) {
            guard line.hasPrefix("{"), let report = try? JSONDecoder().decode(Report.self, from: Data(line.utf8)),
                  report.class == "TPV", let time = report.time, let lat = report.lat, let lon = report.lon else { continue }
            fixes[time] = (lat, lon)
        }
        return fixes
    }

    @Test func recordsGpsdFixesAndStopsCleanlyOnSigterm() throws {
        let gpsd = try GPSFake(logPath: Fixtures.path("gpsd-logs/nmea-rtk.log"), cycle: 0.02)
        let config = try writeConfig(port: gpsd.port)
        let agent = try ChildProcess(BuiltExecutable.agent.path, ["run", "--config", config])
        let recorded = waitUntil(timeout: 30) { () -> Int? in
            let points = (try? status(config))?["pointsRecorded"] as? Int ?? 0
            return points >= 40 ? points : nil
        }
        #expect(recorded != nil, "agent recorded too little: \(agent.output)")
        agent.signal(SIGTERM)
        #expect(agent.waitForExitCode(timeout: 15) == 0, "SIGTERM must commit and exit 0: \(agent.output)")

        let final = try status(config)
        #expect(final["running"] as? Bool == false)
        #expect(final["pointsPendingCommit"] as? Int == 0)
        let rows = try exportCSV(config)
        #expect(rows.count == final["pointsRecorded"] as? Int, "every recorded point was committed before exit")
        // Every stored point is one of gpsd's fixes for this log, in order, none twice.
        let reference = try gpsdFixes("nmea-rtk.log")
        let times = rows.map { String($0.split(separator: ",")[0]) }
        #expect(times == times.sorted() && Set(times).count == times.count)
        for row in rows {
            let fields = row.split(separator: ",", omittingEmptySubsequences: false)
            guard let fix = reference[String(fields[0])] else {
                Issue.record("point at \(fields[0]) is not among gpsd's \(reference.count) fixes")
                continue
            }
            #expect(abs(Double(fields[1])! - fix.0) < 2e-7 && abs(Double(fields[2])! - fix.1) < 2e-7)
        }
    }

    @Test func killNineLosesNothingCommittedAndTheTrackContinues() throws {
        let gpsd = try GPSFake(logPath: Fixtures.path("gpsd-logs/bundg_zeus_9.log"), cycle: 0.01)
        let config = try writeConfig(port: gpsd.port, window: 0.5)
        var before = 0
        for round in 1...3 {
            let agent = try ChildProcess(BuiltExecutable.agent.path, ["run", "--config", config])
            // Wait until this run has committed more points (the store count the agent publishes),
            // then kill it while it keeps writing.
            let committed = waitUntil(timeout: 30) { () -> Int? in
                let stored = ((try? status(config))?["store"] as? [String: Any])?["trackPoints"] as? Int ?? 0
                return stored >= before + 5 ? stored : nil
            }
            #expect(committed != nil, "round \(round): no new points committed: \(agent.output)")
            agent.signal(SIGKILL)
            _ = agent.waitForExit(timeout: 5)
            let after = try exportCSV(config)
            #expect(after.count >= committed ?? 0, "round \(round): committed points were lost")
            let times = after.map { String($0.split(separator: ",")[0]) }
            #expect(times == times.sorted() && Set(times).count == times.count, "round \(round): the track goes on without repeats")
            before = after.count
        }
        let check = try ChildProcess("sqlite3", [folder.path + "/store/agent.db", "PRAGMA integrity_check"])
        #expect(check.waitForExitCode(timeout: 10) == 0)
        #expect(check.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines) == "ok")
    }

    @Test func exportWhileRunningSaysTheAgentHoldsTheStore() throws {
        let gpsd = try GPSFake(logPath: Fixtures.path("gpsd-logs/nmea-rtk.log"), cycle: 0.02)
        let config = try writeConfig(port: gpsd.port)
        let agent = try ChildProcess(BuiltExecutable.agent.path, ["run", "--config", config])
        defer { agent.signal(SIGKILL) }
        _ = waitUntil(timeout: 15) { (try? status(config))?["running"] as? Bool == true ? true : nil }
        let result = try BuiltExecutable.agent.run(["export", "--config", config])
        #expect(result.status == 1)
        #expect(result.stderr.contains("the running agent (pid \(agent.pid)) holds"))
    }

    @Test func exportFiltersByTimeAndSpeaksEveryFormat() throws {
        let gpsd = try GPSFake(logPath: Fixtures.path("gpsd-logs/nmea-rtk.log"), cycle: 0.01)
        let config = try writeConfig(port: gpsd.port, window: 0.2)
        let agent = try ChildProcess(BuiltExecutable.agent.path, ["run", "--config", config])
        _ = waitUntil(timeout: 30) { ((try? status(config))?["pointsRecorded"] as? Int ?? 0) >= 20 ? true : nil }
        agent.signal(SIGTERM)
        _ = agent.waitForExit(timeout: 15)
        let rows = try exportCSV(config)
        let middle = String(rows[rows.count / 2].split(separator: ",")[0])
        let later = try exportCSV(config, ["--since", middle])
        #expect(later.count == rows.count - rows.count / 2)
        let earlier = try exportCSV(config, ["--until", middle])
        #expect(earlier.count == rows.count / 2)

        let gpx = try BuiltExecutable.agent.run(["export", "--config", config, "--format", "gpx"])
        #expect(gpx.stdout.components(separatedBy: "<trkpt ").count - 1 == rows.count)
        let geojson = try BuiltExecutable.agent.run(["export", "--config", config, "--format", "geojson"])
        let features = (try JSONSerialization.jsonObject(with: Data(geojson.stdout.utf8)) as? [String: Any])?["features"] as? [Any]
        #expect(features?.count == rows.count)
        let bad = try BuiltExecutable.agent.run(["export", "--config", config, "--since", "last tuesday"])
        #expect(bad.status != 0 && bad.stderr.contains("--since 'last tuesday' is not a time"))
    }

    @Test func statusTellsGpsdIsDownAndTheClockIsUntrusted() throws {
        let port = try FreePort.allocate()
        let config = try writeConfig(port: port)
        let agent = try ChildProcess(BuiltExecutable.agent.path, ["run", "--config", config])
        defer { agent.signal(SIGKILL) }
        let state = waitUntil(timeout: 15) { (try? status(config))?["gpsState"] as? String == "down" ? true : nil }
        #expect(state == true, "status: \((try? status(config)) ?? [:])")
        let text = try BuiltExecutable.agent.run(["status", "--config", config]).stdout
        #expect(text.contains("GPS: gpsd 127.0.0.1:\(port), down"))
        #expect(text.contains("last fix: none yet"))
        // A replayed 2020 log: the system clock (now) disagrees with GNSS time by years.
        let gpsd = try GPSFake(logPath: Fixtures.path("gpsd-logs/nmea-rtk.log"), port: port, cycle: 0.02)
        let trusted = waitUntil(timeout: 30) { () -> Bool? in
            guard let s = try? status(config), s["lastFix"] != nil else { return nil }
            return s["clockTrusted"] as? Bool
        }
        #expect(trusted == false)
        #expect(try BuiltExecutable.agent.run(["status", "--config", config]).stdout.contains("clock: untrusted (system clock is"))
        _ = gpsd
    }

    @Test func exportBeforeAnyRunSaysSo() throws {
        let config = try writeConfig(port: 1)
        let result = try BuiltExecutable.agent.run(["export", "--config", config])
        #expect(result.status == 1)
        #expect(result.stderr.contains("no track stored yet: \(folder.path)/store/agent.db does not exist"))
    }

    @Test func badConfigurationIsRefusedNamingLineAndKey() throws {
        let path = folder.path + "/bad.toml"
        try """
        [device]
        id = "car 12"
        [gps]
        gpsd_prot = 2947
        [store]
        commit_window = "ten"
        """.write(toFile: path, atomically: true, encoding: .utf8)
        for command in [["config", "check", path], ["run", "--config", path]] {
            let result = try BuiltExecutable.agent.run(command)
            #expect(result.status == 78)
            #expect(result.stderr.contains("\(path):2: device.id: set a device id"))
            #expect(result.stderr.contains("\(path):4: gps.gpsd_prot: unknown key"))
            #expect(result.stderr.contains("\(path):6: store.commit_window: expected a number, found a string"))
        }
        let ok = try BuiltExecutable.agent.run(["config", "check", Fixtures.repositoryRoot + "/Config/patrol-car.toml"])
        #expect(ok.status == 0)
    }
}
