import PatrolCore
@testable import PatrolCoverage

/// A 500 m × 500 m area (exactly 25 cells of 100 m from the grid origin), two checkpoints and one
/// unit with a shift 08:00–16:00 UTC on 2026-03-01; tracks are drawn in the grid's metres.
enum SyntheticPatrol {
    static let grid = CellGrid(origin: Coordinate(latitude: 52, longitude: 13), cellSize: 100)
    static let shiftStart = UTCTime(year: 2026, month: 3, day: 1, hour: 8)
    static let shiftEnd = UTCTime(year: 2026, month: 3, day: 1, hour: 16)

    static func coordinate(_ x: Double, _ y: Double) -> Coordinate { grid.coordinate(of: PlanePoint(x: x, y: y)) }

    static func position(_ x: Double, _ y: Double) -> String { grid.positionTOML(x, y) }

    static func ring(_ corners: [(Double, Double)]) -> String { grid.polygonGeoJSON(corners) }

    static let planText = """
        name = "synthetic"
        [grid]
        origin = { lat = 52.0, lon = 13.0 }
        cell_size = 100
        [[area]]
        id = "square"
        geojson = '\(ring([(0, 0), (500, 0), (500, 500), (0, 500)]))'
        [[checkpoint]]
        id = "a"
        position = \(position(250, 250))
        radius = 30
        min_dwell_seconds = 60
        windows = ["08:00-09:00"]
        [[checkpoint]]
        id = "b"
        position = \(position(450, 450))
        radius = 30
        tag = "T-B"
        windows = ["10:00-11:00"]
        [[unit]]
        device = "car-1"
        [[unit.shift]]
        start = "08:00"
        end = "16:00"
        areas = ["square"]
        checkpoints = ["a", "b"]
        """

    static func plan() throws -> PatrolPlan {
        try PlanReader.read(planText, file: "synthetic.toml") { _ in "" }
    }

    static func time(_ second: Double) -> UTCTime { shiftStart.adding(seconds: second) }

    static func point(_ x: Double, _ y: Double, second: Double, hdop: Double? = nil, speed: Double? = nil) -> CoveragePoint {
        CoveragePoint(time: time(second), coordinate: coordinate(x, y), hdop: hdop, speed: speed)
    }

    /// One fix a second along straight legs at `speed` m/s, starting at `startSecond`; the last
    /// fix is on the last corner.
    static func drive(_ corners: [(Double, Double)], startSecond: Double, speed: Double = 10) -> [CoveragePoint] {
        var points = [point(corners[0].0, corners[0].1, second: startSecond)]
        var second = startSecond
        for (from, to) in zip(corners, corners.dropFirst()) {
            let length = ((to.0 - from.0) * (to.0 - from.0) + (to.1 - from.1) * (to.1 - from.1)).squareRoot()
            let steps = Int((length / speed).rounded(.up))
            for step in 1...steps {
                let f = Double(step) / Double(steps)
                second += 1
                points.append(point(from.0 + (to.0 - from.0) * f, from.1 + (to.1 - from.1) * f, second: second))
            }
        }
        return points
    }

    /// Runs the builder over the unit's 08:00–16:00 shift.
    static func report(_ points: [CoveragePoint], lifeSigns: [UTCTime] = [], checkIns: [CheckIn] = []) throws -> ShiftReport {
        let plan = try plan()
        var builder = ShiftCoverageBuilder(plan: plan, unit: plan.units[0], shift: plan.units[0].shifts[0],
                                           interval: shiftStart..<shiftEnd, lifeSigns: lifeSigns)
        for point in points { builder.add(point) }
        return builder.finish(checkIns: checkIns)
    }

    static func cells(_ pairs: [(Int32, Int32)]) -> Set<CellIndex> {
        Set(pairs.map { CellIndex(column: $0.0, row: $0.1) })
    }
}
