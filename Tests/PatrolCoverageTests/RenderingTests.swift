import Foundation
import PatrolCore
import Testing
@testable import PatrolCoverage

/// What staff see in each format, for a unit that drove the bottom row and on to A (9 cells), stayed at A and skipped B.
@Suite struct RenderingTests {
    typealias S = SyntheticPatrol

    static func report() throws -> CoverageReport {
        var points = S.drive([(10, 50), (490, 50), (250, 250)], startSecond: 0)
        points += (1...70).map { S.point(250, 250, second: 100 + Double($0)) }
        let shift = try S.report(points)
        return CoverageReport(plan: try S.plan(), range: S.shiftStart..<S.shiftEnd, shifts: [shift])
    }

    func occurrences(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    @Test func theTableNamesCoverageCheckpointsAndGaps() throws {
        let table = ReportFormat.table.render(try Self.report())
        #expect(table.contains("car-1  shift 08:00–16:00  2026-03-01T08:00:00.000Z → 2026-03-01T16:00:00.000Z"))
        #expect(table.contains("coverage     9 of 25 cells (36.0 %)  areas: square"))
        #expect(table.contains("checkpoints  1 on time, 0 late, 1 missed"))
        #expect(table.contains("b  10:00:00–11:00:00  missed  no visit"))
        #expect(table.contains("device silent 7 h 57 min"))
    }

    @Test func theMapColoursEveryAssignedCellAndMarksCheckpointsByStatus() throws {
        let report = try Self.report()
        let svg = ReportFormat.svg.render(report)
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(occurrences("fill=\"#a5d6a7\"><title>", in: svg) == 9)
        #expect(occurrences("fill=\"url(#hatch)\"><title>", in: svg) == 16)
        #expect(svg.contains("<title>E2N2</title>"))
        #expect(occurrences("<polyline", in: svg) == 1)
        #expect(svg.contains("stroke=\"#c62828\""), "B is drawn as missed")
        #expect(svg.contains("100 m  (cells 100 m)"), "scale bar")
        #expect(!svg.replacing("http://www.w3.org/2000/svg", with: "").contains("http"), "no tiles or remote resources")
        let html = ReportFormat.html.render(report)
        #expect(html.contains("<svg"))
        #expect(html.contains("<td>9 / 25 (36.0 %); square 9 / 25</td><td>1 / 0 / 1</td>"))
        #expect(html.contains("@media print"))
    }

    @Test func csvHasOneRowPerShiftWithTheUncoveredCells() throws {
        let lines = ReportFormat.csv.render(try Self.report()).split(separator: "\n")
        #expect(lines.count == 2)
        let fields = lines[1].split(separator: ",", omittingEmptySubsequences: false)
        #expect(fields.count == lines[0].split(separator: ",").count)
        #expect(fields[0] == "car-1" && fields[3] == "25" && fields[4] == "9" && fields[5] == "36")
        #expect(fields[6] == "1" && fields[8] == "1")
        #expect(fields[14].split(separator: " ").count == 16)
        #expect(fields[15] == "square=9/25")
    }

    @Test func jsonAndGeoJSONAreValidAndAgree() throws {
        let report = try Self.report()
        let json = try #require(JSONSerialization.jsonObject(with: Data(ReportFormat.json.render(report).utf8)) as? [String: Any])
        let shift = try #require((json["shifts"] as? [[String: Any]])?.first)
        #expect(shift["covered_cells"] as? Int == 9)
        #expect((shift["uncovered_cells"] as? [String])?.count == 16)
        let checkpoints = try #require(shift["checkpoints"] as? [[String: Any]])
        #expect(checkpoints.map { $0["status"] as? String } == ["on-time", "missed"])
        #expect((checkpoints[0]["evidence"] as? [String: Any])?["kind"] as? String == "dwell")

        let geojson = try #require(JSONSerialization.jsonObject(with: Data(ReportFormat.geojson.render(report).utf8)) as? [String: Any])
        let features = try #require(geojson["features"] as? [[String: Any]])
        let properties = features.compactMap { $0["properties"] as? [String: Any] }
        let cells = properties.filter { $0["layer"] as? String == "cell" }
        #expect(cells.count == 25)
        #expect(cells.filter { $0["covered"] as? Bool == true }.count == 9)
        #expect(properties.filter { $0["layer"] as? String == "checkpoint" }.map { $0["status"] as? String } == ["on-time", "missed"])
    }

    /// The same drive over a plan that splits the square into a west (x < 300, 15 cells) and an
    /// east (10 cells) area: every format says how much of each area was covered.
    @Test func everyFormatGivesTheFiguresPerArea() throws {
        let west = S.ring([(0, 0), (300, 0), (300, 500), (0, 500)])
        let east = S.ring([(300, 0), (500, 0), (500, 500), (300, 500)])
        let text = S.planText
            .replacing("id = \"square\"", with: "id = \"west\"")
            .replacing(S.ring([(0, 0), (500, 0), (500, 500), (0, 500)]), with: west)
            .replacing("[[checkpoint]]", with: "[[area]]\nid = \"east\"\ngeojson = '\(east)'\n[[checkpoint]]", maxReplacements: 1)
            .replacing("areas = [\"square\"]", with: "areas = [\"west\", \"east\"]")
        let plan = try PlanReader.read(text, file: "split.toml") { _ in "" }
        var points = S.drive([(10, 50), (490, 50), (250, 250)], startSecond: 0)
        points += (1...70).map { S.point(250, 250, second: 100 + Double($0)) }
        var builder = ShiftCoverageBuilder(plan: plan, unit: plan.units[0], shift: plan.units[0].shifts[0],
                                           interval: S.shiftStart..<S.shiftEnd, lifeSigns: [])
        for point in points { builder.add(point) }
        let shift = builder.finish(checkIns: [])
        let report = CoverageReport(plan: plan, range: S.shiftStart..<S.shiftEnd, shifts: [shift])
        // Bottom row: 3 west + 2 east cells; the diagonal to A adds E4N1, E3N1, E3N2 (east) and E2N2 (west).
        #expect(shift.areaFigures.map { "\($0.id) \($0.covered)/\($0.assigned)" } == ["west 4/15", "east 5/10"])

        #expect(ReportFormat.table.render(report).contains("    west  4 of 15 cells (26.7 %), 11 uncovered\n    east  5 of 10 cells (50.0 %), 5 uncovered"))
        let json = ReportFormat.json.render(report)
        #expect(json.contains(#""area_coverage":[{"area":"west","assigned_cells":15,"covered_cells":4,"covered_percent":26.7,"uncovered_cells":["#))
        let csv = ReportFormat.csv.render(report).split(separator: "\n")
        #expect(csv[0].hasSuffix(",area_coverage") && csv[1].hasSuffix(",west=4/15 east=5/10"))
        let geojson = ReportFormat.geojson.render(report)
        #expect(geojson.contains(#""cell":"E3N0","covered":true,"areas":["east"]"#))
        #expect(ReportFormat.svg.render(report).contains(">west 4/15 cells</text>"))
        #expect(ReportFormat.html.render(report).contains("<td>9 / 25 (36.0 %); west 4 / 15; east 5 / 10</td>"))
    }
}

/// A week summed up per area and unit, and each unit's checkpoint punctuality.
@Suite struct PeriodSummaryTests {
    typealias S = SyntheticPatrol

    @Test func aWeekSumsTheShiftsPerAreaAndUnit() throws {
        let plan = try S.plan()
        let days = (0..<3).map { day -> ShiftReport in
            let start = S.shiftStart.adding(seconds: Double(day) * 86_400)
            var builder = ShiftCoverageBuilder(plan: plan, unit: plan.units[0], shift: plan.units[0].shifts[0],
                                               interval: start..<start.adding(seconds: 8 * 3600), lifeSigns: [])
            // Day 0 drives the bottom row (5 of 25 cells), the others stay home (1 cell).
            let points = day == 0 ? S.drive([(10, 50), (490, 50)], startSecond: 0) : [S.point(50, 50, second: 0)]
            for point in points { builder.add(CoveragePoint(time: point.time.adding(seconds: Double(day) * 86_400), coordinate: point.coordinate)) }
            return builder.finish(checkIns: [])
        }
        let report = CoverageReport(plan: plan, range: S.shiftStart..<S.shiftStart.adding(seconds: 7 * 86_400), shifts: days)
        let csv = ReportFormat.summaryCSV.render(report).split(separator: "\n")
        #expect(csv[0] == "table,area,device,shifts,assigned_cells,covered_cells,covered_percent,windows,on_time,late,missed,on_time_percent")
        #expect(csv[1] == "area,square,car-1,3,75,7,9.3,,,,,")
        #expect(csv[2] == "checkpoints,,car-1,,,,,6,0,0,6,0")
        let html = ReportFormat.summaryHTML.render(report)
        #expect(html.contains("<tr><td>square</td><td>car-1</td><td>3</td><td>7 / 75</td><td>9.3 %</td></tr>"))
        #expect(html.contains("<tr><td>car-1</td><td>6</td><td>0</td><td>0</td><td>6</td><td>0.0 %</td></tr>"))
    }
}
