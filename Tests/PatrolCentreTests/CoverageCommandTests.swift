import Foundation
import PatrolCentre
import PatrolCore
import PatrolTestSupport
import Testing

/// The centre's coverage commands as staff run them: the real `patrol-centre` executable on a real
/// store holding the demo log's track (the boat of Tests/Fixtures/gpsd-logs/bundg_zeus_9.log as
/// "demo-car") and Config/plan.example.toml.
@Suite struct CoverageCommandTests {
    static let day = (year: 2038, month: 4, day: 5)
    static func at(_ hour: Int, _ minute: Int, _ second: Int = 0) -> UTCTime {
        UTCTime(year: day.year, month: day.month, day: day.day, hour: hour, minute: minute, second: second)
    }

    /// A centre store with the demo track, heartbeats 09:40–09:55 and a fuel-dock tag read at 10:20.
    static func centreWithDemoTrack() async throws -> (CentreHarness, config: String) {
        let centre = try CentreHarness()
        _ = try await centre.addDevice("demo-car")
        let fixes = try Fixtures.positionedFixes(inLog: "bundg_zeus_9")
        // Sequences run against time in the second half: the store must order by time, not sequence.
        let points = fixes.enumerated().map { index, fix in
            let sequence = index < 74 ? UInt64(index + 1) : UInt64(1000 - index)
            return TrackRecord(sequence: sequence, point: TrackPoint(time: fix.time!, coordinate: fix.coordinate!, mode: fix.mode,
                                                                         speed: fix.speed, hdop: fix.hdop))
        }
        let heartbeats = stride(from: 0, through: 15 * 60, by: 10).enumerated().map { index, offset in
            UplinkHeartbeat(sequence: UInt64(index + 1), time: at(9, 40).adding(seconds: Double(offset)), timeSource: "gnss")
        }
        let tag = UplinkEvent(sequence: 1, kind: EventKind.checkIn(.tag(id: "04A1B2C3")).code, time: at(10, 20), timeSource: "gnss",
                              payloadJSON: #"{"kind":"check-in.tag","tag":"04A1B2C3"}"#)
        _ = try await centre.storage.ingest(UplinkBatch(deviceID: "demo-car", trackPoints: points, events: [tag], heartbeats: heartbeats),
                                            at: centre.now)
        return (centre, try centre.writeConfig())
    }

    static let plan = Fixtures.repositoryRoot + "/Config/plan.example.toml"

    func coverage(_ config: String, _ format: String, unit: String = "demo-car") throws -> (status: Int32?, stdout: String, stderr: String) {
        try BuiltExecutable.centre.run(["coverage", "--config", config, "--plan", Self.plan, "--from", "2038-04-05T09:00:00Z",
                                        "--to", "2038-04-05T12:00:00Z", "--unit", unit, "--format", format])
    }

    @Test func cellHistorySaysWhoWasInACellAndWhen() async throws {
        let (centre, config) = try await Self.centreWithDemoTrack()
        let report = try BuiltExecutable.centre.run(["coverage", "--config", config, "--plan", Self.plan, "--from", "2038-04-05T09:00:00Z",
                                                     "--to", "2038-04-05T12:00:00Z", "--unit", "demo-car", "--format", "json"])
        let json = try #require(JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any])
        let shift = try #require((json["shifts"] as? [[String: Any]])?.first)
        let uncovered = Set(shift["uncovered_cells"] as? [String] ?? [])
        // A cell the report counts covered: a cell of the plan it does not list uncovered.
        let covered = try #require(try PlanFile.load(path: Self.plan).cells().map(\.description).sorted().first { !uncovered.contains($0) })
        let result = try BuiltExecutable.centre.run(["cell-history", covered, "--config", config, "--plan", Self.plan,
                                                     "--from", "2038-04-05T09:00:00Z", "--to", "2038-04-05T12:00:00Z", "--format", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        let history = try #require(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let visits = try #require(history["visits"] as? [[String: Any]])
        #expect(!visits.isEmpty && visits.allSatisfy { $0["device"] as? String == "demo-car" }, "\(result.stdout)")
        let first = try #require(visits.first?["start"] as? String)
        #expect(first >= "2038-04-05T09:00:00" && first < "2038-04-05T11:00:00")
        let bad = try BuiltExecutable.centre.run(["cell-history", "X1", "--config", config, "--plan", Self.plan,
                                                  "--from", "2038-04-05T09:00:00Z", "--to", "2038-04-05T12:00:00Z"])
        #expect(bad.status != 0 && bad.stderr.contains("'X1' is not a cell id"))
    }

    @Test func coverageJSONGivesCellsCheckpointsAndBothKindsOfGap() async throws {
        let (centre, config) = try await Self.centreWithDemoTrack()
        let result = try coverage(config, "json")
        #expect(result.status == 0, "\(result.stderr)")
        let json = try #require(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let shifts = try #require(json["shifts"] as? [[String: Any]])
        #expect(shifts.count == 1, "only the 09:00–11:00 shift overlaps")
        let shift = shifts[0]
        #expect(shift["assigned_cells"] as? Int == 20)
        #expect((shift["covered_cells"] as? Int ?? 0) >= 5)
        #expect(shift["fixes"] as? Int == 148)
        let visits = try #require(shift["checkpoints"] as? [[String: Any]])
        #expect(visits.map { "\($0["id"]!) \($0["status"]!)" } == ["jetty on-time", "fuel-dock late", "fuel-dock on-time"])
        #expect((visits[1]["evidence"] as? [String: Any])?["tag"] as? String == "04A1B2C3")
        let gaps = try #require(shift["gaps"] as? [[String: Any]])
        #expect(gaps.map { "\($0["kind"]!) \($0["start"]!)" } == [
            "device-silent 2038-04-05T09:00:00.000Z",
            "no-fix 2038-04-05T09:40:00.000Z",
            "no-fix 2038-04-05T09:50:04.000Z",
            "device-silent 2038-04-05T09:55:00.000Z",
            "device-silent 2038-04-05T10:20:00.000Z", // the tag read at 10:20 proves the device alive then
        ])
        _ = centre
    }

    @Test func theHTMLPageHoldsTheMapAndTheSummary() async throws {
        let (centre, config) = try await Self.centreWithDemoTrack()
        let result = try coverage(config, "html")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("<!DOCTYPE html>"))
        #expect(result.stdout.contains("<svg"))
        #expect(result.stdout.contains("demo-car (Harbour boat)"))
        _ = centre
    }

    @Test func anUnknownUnitIsRefused() async throws {
        let (centre, config) = try await Self.centreWithDemoTrack()
        let result = try coverage(config, "table", unit: "car-99")
        #expect(result.status != 0)
        #expect(result.stderr.contains("the plan has no unit with device 'car-99'"))
        _ = centre
    }

    @Test func tracksExportInTimeOrderAsGPXAndGeoJSON() async throws {
        let (centre, config) = try await Self.centreWithDemoTrack()
        let gpx = try BuiltExecutable.centre.run(["tracks", "export", "--config", config, "--unit", "demo-car",
                                                  "--from", "2038-04-05", "--to", "2038-04-06", "--format", "gpx"])
        #expect(gpx.status == 0, "\(gpx.stderr)")
        let times = gpx.stdout.components(separatedBy: "<time>").dropFirst().map { String($0.prefix(24)) }
        #expect(times.count == 148)
        #expect(times == times.sorted())
        #expect(times.first == "2038-04-05T09:47:37.000Z")
        let geojson = try BuiltExecutable.centre.run(["tracks", "export", "--config", config, "--unit", "demo-car",
                                                      "--from", "2038-04-05T09:48:00Z", "--to", "2038-04-05T09:49:00Z", "--format", "geojson"])
        let object = try #require(JSONSerialization.jsonObject(with: Data(geojson.stdout.utf8)) as? [String: Any])
        #expect((object["features"] as? [Any])?.count == 60, "the range is half-open: 09:48:00 to 09:48:59")
        _ = centre
    }

    @Test func planCheckNamesFileLineAndKeyAndExits78() throws {
        let folder = try TemporaryDirectory()
        let bad = folder.path + "/bad.toml"
        try """
        [grid]
        cell_sise = 100
        [[area]]
        id = "a"
        geojson = '{"type":"Polygon","coordinates":[[[5.0,52.0],[5.01,52.01],[5.01,52.0],[5.0,52.01]]]}'
        [[unit]]
        device = "car-1"
        """.write(toFile: bad, atomically: true, encoding: .utf8)
        let result = try BuiltExecutable.centre.run(["plan", "check", bad])
        #expect(result.status == 78)
        let lines = result.stderr.split(separator: "\n").map(String.init)
        #expect(lines.contains("\(bad):2: grid.cell_sise: unknown key; check the spelling against Config/*.toml"))
        #expect(lines.contains { $0.hasPrefix("\(bad):5: area[0].geojson: polygon 1 of area 'a' intersects itself") })
        #expect(lines.contains("\(bad):7: unit[0].device: unit 'car-1' has no [[unit.shift]]"))
        let good = try BuiltExecutable.centre.run(["plan", "check", Self.plan])
        #expect(good.status == 0)
        #expect(good.stdout.contains("ok: 2 areas (20 cells of 100 m), 2 checkpoints, 1 units, 2 shifts, 2 posts, 2 persons"))
    }

    @Test func pagesOfTrackPointsFollowTimeAcrossPageBoundaries() async throws {
        let (centre, _) = try await Self.centreWithDemoTrack()
        var times: [Int64] = []
        try await centre.storage.forEachTrackPoint(device: "demo-car", in: Self.at(9, 48)..<Self.at(9, 50), pageSize: 7) {
            times.append($0.timeMilliseconds)
        }
        #expect(times.count == 120)
        #expect(times == times.sorted())
        #expect(Set(times).count == times.count, "no point is read twice at a page boundary")
        #expect(times.first == Self.at(9, 48).millisecondsSinceEpoch)
    }
}
