import PatrolCentre
import PatrolCore
import PatrolCoverage
import PatrolTestSupport
import Testing

/// Coverage read from a store must be exactly what the pure rules (`ShiftCoverageBuilder`) make of
/// the same records: on SQLite and on PostgreSQL, with several shifts read at once, across page
/// boundaries. A store that pre-selects points (say, a PostGIS filter keeping only fixes near the
/// areas) or mixes up shifts fails here: its report differs from the rules' own.
@Suite struct CoverageStorageTests {
    static let grid = CellGrid(origin: Coordinate(latitude: 52, longitude: 13), cellSize: 100)
    static let shiftStart = UTCTime(year: 2026, month: 3, day: 1, hour: 8)

    /// Two 500 m squares side by side, a checkpoint with a tag in the west one; car-1 and car-3
    /// patrol the west square, car-2 the east one, 08:00–16:00.
    static let planText = """
        name = "stores"
        [grid]
        origin = { lat = 52.0, lon = 13.0 }
        cell_size = 100
        [[area]]
        id = "west"
        geojson = '\(grid.polygonGeoJSON([(0, 0), (500, 0), (500, 500), (0, 500)]))'
        [[area]]
        id = "east"
        geojson = '\(grid.polygonGeoJSON([(600, 0), (1100, 0), (1100, 500), (600, 500)]))'
        [[checkpoint]]
        id = "gate"
        position = \(grid.positionTOML(250, 250))
        radius = 30
        tag = "T-GATE"
        every_minutes = 120
        """ + ["car-1": "west", "car-2": "east", "car-3": "west"].sorted { $0.key < $1.key }.map { device, area in
            """

            [[unit]]
            device = "\(device)"
            [[unit.shift]]
            start = "08:00"
            end = "16:00"
            areas = ["\(area)"]
            checkpoints = ["gate"]
            """
        }.joined()

    /// A point `second`s into the shift at (x, y) metres from the grid's origin.
    static func point(_ sequence: inout UInt64, _ x: Double, _ y: Double, second: Double, hdop: Int64? = 90,
                      speed: Int64? = 1000) -> TrackRecord {
        let c = grid.coordinate(of: PlanePoint(x: x, y: y))
        defer { sequence += 1 }
        return TrackRecord(sequence: sequence, timeMilliseconds: shiftStart.adding(seconds: second).millisecondsSinceEpoch,
                           latitudeE7: Int64((c.latitude * 1e7).rounded()), longitudeE7: Int64((c.longitude * 1e7).rounded()),
                           mode: .threeD, altitudeDecimetres: nil, speedCentimetresPerSecond: speed, trackCentidegrees: nil,
                           hdopHundredths: hdop, satellitesUsed: nil)
    }

    /// car-1's shift, every edge case of Docs/coverage.md whose cells a filter on points would get wrong:
    /// - two fixes 40 s apart, both outside the area, whose line cuts the area's corner cell E0N0;
    /// - a drive leaving the area east (through cells of no area) and coming back in;
    /// - a fix 5 cm west of a cell border, then a silence of the device (200 s, nothing joined across it);
    /// - a fix with HDOP above the limit in the middle of a line (covers nothing, ends no line);
    /// - a stop recording every 300 s, kept alive by heartbeats (joined: the unit stood still);
    /// - two fixes at one time (ordered by sequence), fixes without HDOP or speed;
    /// - 20,000 fixes at 1 Hz, so the store is read in more than one page.
    static func car1Track() -> [TrackRecord] {
        var sequence: UInt64 = 1
        var points = [point(&sequence, -30, 120, second: 60), point(&sequence, 120, -30, second: 100)]
        for step in 0...60 { points.append(point(&sequence, 150 + Double(step) * 10, 150, second: 200 + Double(step))) }   // to x = 750, outside
        for step in 1...50 { points.append(point(&sequence, 750 - Double(step) * 10, 350, second: 300 + Double(step))) }   // back to x = 250
        points.append(point(&sequence, 299.95, 350, second: 360, hdop: nil, speed: nil))
        points.append(point(&sequence, 320, 420, second: 560))                                                             // after 200 s of silence
        points.append(point(&sequence, 200, 420, second: 570, hdop: 950))                                                  // inaccurate
        points.append(point(&sequence, 120, 420, second: 580))
        points.append(point(&sequence, 120, 420, second: 580, speed: 0))                                                   // same time
        for stop in 1...3 { points.append(point(&sequence, 121, 421, second: 580 + Double(stop) * 300, speed: 0)) }
        // A long lawnmower drive at 1 Hz over rows 1–4 (not E0N0): 20,000 fixes, more than a page of 16,384.
        for second in 0..<20_000 {
            let leg = second / 100, along = Double(second % 100) * 5
            points.append(point(&sequence, leg.isMultiple(of: 2) ? along : 500 - along, 110 + Double(leg % 39) * 10,
                                second: 2000 + Double(second), hdop: second.isMultiple(of: 7) ? nil : 90))
        }
        return points
    }

    /// car-2 drives through its own square and across car-1's; car-3 sends nothing.
    static func car2Track() -> [TrackRecord] {
        var sequence: UInt64 = 1
        return (0..<900).map { point(&sequence, 1050 - Double($0) * 1.2, 100 + Double($0 % 300), second: 100 + Double($0)) }
    }

    @Test(arguments: StorageKind.available)
    func coverageReadFromTheStoreIsWhatThePureRulesMakeOfTheSameRecords(backend: StorageKind) async throws {
        let centre = try await CentreHarness(backend: backend)
        let plan = try PlanReader.read(Self.planText, file: "stores.toml", readFile: { _ in "" })
        let heartbeats = (0..<20).map { UplinkHeartbeat(sequence: UInt64($0 + 1), time: Self.shiftStart.adding(seconds: 600 + Double($0) * 60),
                                                        timeSource: "gnss") }
        let tag = UplinkEvent(sequence: 1, kind: EventKind.checkIn(.tag(id: "T-GATE")).code, time: Self.shiftStart.adding(seconds: 3000),
                              timeSource: "gnss", payloadJSON: #"{"kind":"check-in.tag","tag":"T-GATE"}"#)
        let records: [String: ([TrackRecord], [UplinkHeartbeat], [UplinkEvent])] = ["car-1": (Self.car1Track(), heartbeats, [tag]), "car-2": (Self.car2Track(), [], []), "car-3": ([], [], [])]
        for (device, (points, heartbeats, events)) in records {
            _ = try await centre.addDevice(device)
            // Sent in a scrambled order, as a backlog may arrive: the store orders by time.
            _ = try await centre.storage.ingest(UplinkBatch(deviceID: device, trackPoints: points.reversed(), events: events,
                                                            heartbeats: heartbeats), at: centre.now)
        }
        let range = Self.shiftStart..<Self.shiftStart.adding(seconds: 8 * 3600)
        let stored = try await CoverageQuery.report(plan: plan, storage: centre.storage, range: range)

        let expected = CoverageReport(plan: plan, range: range, shifts: CoverageReport.shiftsToMeasure(in: plan, range: range, device: nil).map {
            let (points, heartbeats, events) = records[$0.unit.device]!
            var builder = ShiftCoverageBuilder(plan: plan, unit: $0.unit, shift: $0.shift, interval: $0.interval,
                                               lifeSigns: heartbeats.map(\.time) + events.map(\.time))
            for point in points.sorted(by: { ($0.timeMilliseconds, $0.sequence) < ($1.timeMilliseconds, $1.sequence) }) {
                builder.add(CoveragePoint(point))
            }
            return builder.finish(checkIns: events.compactMap(CheckIn.init))
        })
        #expect(stored.shifts.map(\.device) == ["car-1", "car-2", "car-3"])
        #expect(stored.shifts[0].coveredCells.contains(CellIndex(column: 0, row: 0)), "the line between two fixes outside the area covers E0N0")
        #expect(stored.shifts[0].fixCount == 20_000 + 2 + 61 + 50 + 1 + 1 + 2 + 3)
        for format in [ReportFormat.json, .geojson] {
            #expect(format.render(stored) == format.render(expected), "\(format) from the \(backend) store")
        }
    }
}
