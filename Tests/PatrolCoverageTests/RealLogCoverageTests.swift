import Foundation
import PatrolCore
import PatrolTestSupport
import Testing
@testable import PatrolCoverage

/// The demo's real receiver log (a boat crossing a harbour on the IJsselmeer at about 3 m/s),
/// decoded with the core's NMEA decoder and measured against Config/plan.example.toml.
@Suite struct RealLogCoverageTests {
    static func report() throws -> (ShiftReport, PatrolPlan, [CoveragePoint]) {
        let plan = try PlanReader.read(PlanReaderTests.exampleText(), file: "plan.example.toml", readFile: PlanReaderTests.readFile)
        let unit = try #require(plan.unit(device: "demo-car"))
        let start = UTCTime(year: 2038, month: 4, day: 5, hour: 9)
        var builder = ShiftCoverageBuilder(plan: plan, unit: unit, shift: unit.shifts[0],
                                           interval: start..<start.adding(seconds: 7200), lifeSigns: [])
        let points = try Fixtures.positionedFixes(inLog: "bundg_zeus_9").map {
            CoveragePoint(time: $0.time!, coordinate: $0.coordinate!, hdop: $0.hdop, speed: $0.speed)
        }
        for point in points { builder.add(point) }
        return (builder.finish(checkIns: []), plan, points)
    }

    @Test func theBoatCoversTheCellsItsFixesLieIn() throws {
        let (report, plan, points) = try Self.report()
        #expect(points.count == 148)
        #expect(report.fixCount == 148)
        let fixCells = Set(points.map { plan.grid.cell(containing: plan.grid.project($0.coordinate)) })
        #expect(report.coveredCells == fixCells.intersection(report.assignedCells))
        #expect(report.coveredCells.count >= 5)
        #expect(report.coveredPercent < 50)
    }

    @Test func distanceAndTopSpeedAgreeWithTheReceiver() throws {
        let (report, _, points) = try Self.report()
        let haversine = zip(points, points.dropFirst()).reduce(0) { $0 + Geodesy.distance($1.0.coordinate, $1.1.coordinate) }
        #expect(abs(report.distanceMetres - haversine) / haversine < 0.005)
        #expect(report.topSpeed == points.compactMap(\.speed).max())
        #expect(report.stationarySeconds == 0)
    }

    @Test func theJettyIsVisitedOnTimeAndTheFuelDockIsMissed() throws {
        let (report, _, _) = try Self.report()
        let jetty = try #require(report.visits.first { $0.checkpointID == "jetty" })
        #expect(jetty.status == .onTime)
        #expect(jetty.evidence?.kind == .dwell)
        let passed = UTCTime(year: 2038, month: 4, day: 5, hour: 9, minute: 48, second: 52) // closest fix to the jetty
        let proof = try #require(jetty.evidence?.time)
        #expect(abs(proof.seconds(to: passed)) < 10)
        #expect(report.visits.filter { $0.checkpointID == "fuel-dock" }.map(\.status) == [.missed, .missed])
    }

    @Test func withoutHeartbeatsTheRestOfTheShiftIsSilent() throws {
        let (report, _, _) = try Self.report()
        #expect(report.gaps.map(\.kind) == [.deviceSilent, .deviceSilent])
        #expect(report.gaps.first?.interval.upperBound == UTCTime(year: 2038, month: 4, day: 5, hour: 9, minute: 47, second: 37))
        #expect(report.gaps.last?.interval.lowerBound == UTCTime(year: 2038, month: 4, day: 5, hour: 9, minute: 50, second: 4))
    }
}
