import PatrolCore
import Testing
@testable import PatrolCoverage

/// Synthetic tracks whose coverage is known exactly (see SyntheticPatrol for the plan).
@Suite struct ShiftCoverageTests {
    typealias S = SyntheticPatrol

    @Test func aLawnmowerWalkOverEveryRowCoversTheWholeArea() throws {
        var corners: [(Double, Double)] = []
        for row in 0..<5 {
            let y = Double(row) * 100 + 50
            corners += row.isMultiple(of: 2) ? [(10, y), (490, y)] : [(490, y), (10, y)]
        }
        let report = try S.report(S.drive(corners, startSecond: 600))
        #expect(report.assignedCells.count == 25)
        #expect(report.coveredCells.count == 25)
        #expect(report.coveredPercent == 100)
        #expect(report.uncoveredCells.isEmpty)
        #expect(abs(report.distanceMetres - (5 * 480 + 4 * 100)) < 0.5)
        #expect(abs(report.topSpeed - 10) < 0.01)
    }

    /// Two fixes 40 s apart, so the line between them is interpolated: the staircase of the
    /// segment y = x + 10, nothing else.
    @Test func aCarCrossingDiagonallyCoversExactlyTheCellsItsLinePasses() throws {
        let report = try S.report([S.point(50, 60, second: 100), S.point(450, 460, second: 140)])
        #expect(report.coveredCells == S.cells([(0, 0), (0, 1), (1, 1), (1, 2), (2, 2), (2, 3), (3, 3), (3, 4), (4, 4)]))
        #expect(report.uncoveredCells.count == 16)
        #expect(report.uncoveredCells.first?.description == "E1N0")
        #expect(report.trackSegments.count == 1)
    }

    @Test func fixesTooFarApartInTimeAreNotJoined() throws {
        let report = try S.report([S.point(50, 50, second: 100), S.point(450, 450, second: 100 + 121)])
        #expect(report.coveredCells == S.cells([(0, 0), (4, 4)]))
        #expect(report.distanceMetres == 0)
        #expect(report.trackSegments.count == 2, "the map shows the jump between two segments")
    }

    @Test func inaccurateFixesCoverNothingButKeepTheDeviceAlive() throws {
        var points = S.drive([(10, 50), (490, 50)], startSecond: 0)
        points += (1...600).map { S.point(250, 250, second: 48 + Double($0), hdop: 9.5) }
        let report = try S.report(points)
        #expect(report.coveredCells == S.cells([(0, 0), (1, 0), (2, 0), (3, 0), (4, 0)]))
        #expect(report.poorFixCount == 600)
        let gaps = report.gaps.map { ($0.kind, Int($0.interval.lowerBound.seconds(to: $0.interval.upperBound))) }
        // Heard until 648 s, then silent to the shift's end; no usable fix from 48 s on.
        #expect(gaps.first! == (.noFix, 648 - 48))
        #expect(gaps.last! == (.deviceSilent, 8 * 3600 - 648))
    }

    @Test func aUnitThatSkipsACheckpointMissesIt() throws {
        // Drives to A, stays 90 s (dwell 60 s), drives away along the bottom row; never near B.
        var points = S.drive([(50, 250), (250, 250)], startSecond: 900)
        let enteredRadius = S.time(900 + 17) // at x = 220, 30 m from A
        points += (1...90).map { S.point(250, 250, second: 900 + 20 + Double($0)) }
        points += S.drive([(250, 250), (250, 50), (450, 50)], startSecond: 900 + 20 + 91)
        let report = try S.report(points)
        let a = try #require(report.visits.first { $0.checkpointID == "a" })
        #expect(a.status == .onTime)
        // The evidence names the stay: entered, reached (+60 s), left beyond radius + exit margin (55 m).
        #expect(a.evidence == VisitEvidence(kind: .dwell, time: enteredRadius.adding(seconds: 60), entered: enteredRadius,
                                            left: S.time(900 + 20 + 91 + 6)))
        #expect(a.evidence?.proof(in: .utc) == "dwell: entered 08:15:17, reached 08:16:17, left 08:16:57")
        let b = try #require(report.visits.first { $0.checkpointID == "b" })
        #expect(b.status == .missed)
        #expect(b.evidence == nil)
        #expect(report.visitCount(.onTime) == 1 && report.visitCount(.missed) == 1)
    }

    /// The agent's car preset records a stopped car every 300 s: two fixes at A 280 s apart
    /// prove a dwell although they are too far apart to interpolate; 400 s apart is a data gap.
    /// The dwell is proved when it was reached (entry + 60 s), not at the next fix 280 s later:
    /// with windows a few minutes wide that decides "on time" or "late". The agent's heartbeats
    /// (every 30 s) show the device was there all along.
    @Test func aStoppedCarWithSparseFixesStillDwells() throws {
        let heartbeats = stride(from: 630.0, to: 1000, by: 30).map(S.time)
        let stopped = try S.report([S.point(250, 250, second: 600), S.point(252, 250, second: 880)], lifeSigns: heartbeats)
        #expect(stopped.visits.first { $0.checkpointID == "a" }?.evidence
                == VisitEvidence(kind: .dwell, time: S.time(660), entered: S.time(600), left: nil))
        let gap = try S.report([S.point(250, 250, second: 600), S.point(252, 250, second: 1000)], lifeSigns: heartbeats)
        #expect(gap.visits.first { $0.checkpointID == "a" }?.status == .missed)
    }

    @Test func passingThroughIsNotADwell() throws {
        let report = try S.report(S.drive([(50, 250), (450, 250)], startSecond: 900))
        #expect(report.visits.first { $0.checkpointID == "a" }?.status == .missed)
    }

    @Test func aTagReadAfterTheWindowIsLateAndAButtonFarAwayProvesNothing() throws {
        let lateTag = CheckIn(time: S.time(3 * 3600 + 300), kind: .tag("T-B"), position: nil)     // 11:05, window 10:00–11:00
        let wrongTag = CheckIn(time: S.time(2 * 3600 + 60), kind: .tag("T-X"), position: nil)
        let farButton = CheckIn(time: S.time(10 * 60), kind: .button, position: S.coordinate(250, 300)) // 50 m from A
        let nearButton = CheckIn(time: S.time(20 * 60), kind: .button, position: S.coordinate(260, 250))
        let report = try S.report([], checkIns: [lateTag, wrongTag, farButton, nearButton])
        let b = try #require(report.visits.first { $0.checkpointID == "b" })
        #expect(b.status == .late)
        #expect(b.evidence == VisitEvidence(kind: .tag("T-B"), time: lateTag.time))
        let a = try #require(report.visits.first { $0.checkpointID == "a" })
        #expect(a.status == .onTime)
        #expect(a.evidence == VisitEvidence(kind: .button, time: nearButton.time))
    }

    /// Driving 10 min, silent 20 min (no points, no heartbeats), driving again, then heartbeats
    /// without any fix for 10 min, then nothing until the shift ends.
    @Test func aDeviceThatGoesSilentMidShiftIsToldApartFromOneWithoutFix() throws {
        var points = (0...600).map { S.point(50 + Double($0 % 400), 50, second: Double($0)) }
        points += (1800...2400).map { S.point(50 + Double($0 % 400), 150, second: Double($0)) }
        let heartbeats = stride(from: 2405.0, through: 3000, by: 5).map(S.time)
        let report = try S.report(points, lifeSigns: heartbeats)
        let gaps = report.gaps.map { "\($0.kind.rawValue) \(Int(S.shiftStart.seconds(to: $0.interval.lowerBound)))–\(Int(S.shiftStart.seconds(to: $0.interval.upperBound)))" }
        #expect(gaps == ["device-silent 600–1800", "no-fix 2400–3000", "device-silent 3000–28800"])
        #expect(report.gapSeconds(.deviceSilent) == 1200 + 25800)
        #expect(report.gapSeconds(.noFix) == 600)
    }

    /// A stopped car's fixes 300 s apart at the same place, heartbeats between them: stationary,
    /// one track segment, no gap.
    @Test func aStoppedCarRecordingRarelyIsStationaryNotAGap() throws {
        let heartbeats = stride(from: 70.0, to: 660, by: 10).map(S.time)
        let report = try S.report([S.point(250, 250, second: 60), S.point(251, 250, second: 360), S.point(251, 251, second: 660)],
                                  lifeSigns: heartbeats)
        #expect(report.stationarySeconds == 600)
        #expect(report.trackSegments.count == 1)
        #expect(report.gaps.allSatisfy { $0.interval.lowerBound >= S.time(660) || $0.interval.upperBound <= S.time(60) })
    }

    @Test func aStandingUnitIsStationary() throws {
        let points = (0...300).map { S.point(250, 250, second: 60 + Double($0)) }
        let report = try S.report(points)
        #expect(report.stationarySeconds == 300)
        #expect(report.distanceMetres == 0)
        #expect(report.coveredCells == S.cells([(2, 2)]))
    }

    // MARK: Defects found by an independent check (issue 13)

    /// Two fixes 300 s apart that barely moved used to be joined although the device was silent
    /// in between (no heartbeat, no event): the report listed the stretch as "device silent" and
    /// charged it as stationary time and distance all the same.
    @Test func fixesAreNeverJoinedAcrossADeviceSilentStretch() throws {
        let silent = try S.report([S.point(95, 50, second: 600), S.point(105, 50, second: 900)])
        #expect(silent.gaps.contains { $0.kind == .deviceSilent && $0.interval == S.time(600)..<S.time(900) })
        #expect(silent.distanceMetres == 0)
        #expect(silent.stationarySeconds == 0)
        #expect(silent.trackSegments.count == 2, "the map shows the jump across the silence")
        // Heard meanwhile (heartbeats every minute): the same two fixes are one stay.
        let heard = try S.report([S.point(95, 50, second: 600), S.point(105, 50, second: 900)],
                                 lifeSigns: stride(from: 660.0, to: 900, by: 60).map(S.time))
        #expect(heard.stationarySeconds == 300)
        #expect(abs(heard.distanceMetres - 10) < 0.01)
    }

    /// Stationary time follows the movement between the fixes, not the later fix's receiver speed.
    @Test func stationaryTimeIsDecidedByTheMovementBetweenTheFixes() throws {
        // 100 s over 57 m (0.57 m/s) ending in a fix that reports speed 0: moving.
        let crawling = try S.report([S.point(50, 50, second: 600), S.point(107, 50, second: 700, speed: 0)])
        #expect(crawling.stationarySeconds == 0)
        // 100 s over 3 m (0.03 m/s): stationary.
        let parked = try S.report([S.point(50, 50, second: 600), S.point(53, 50, second: 700)])
        #expect(parked.stationarySeconds == 100)
        // Back at the same place after 100 s, but both fixes report driving: not a stay.
        let round = try S.report([S.point(50, 50, second: 600, speed: 12), S.point(52, 50, second: 700, speed: 11)])
        #expect(round.stationarySeconds == 0)
    }

    /// The first fix of a run is a fix like any other: its receiver speed counts.
    @Test func topSpeedCountsTheFirstFixOfARun() throws {
        let report = try S.report([S.point(50, 50, second: 600), S.point(450, 450, second: 1200, speed: 30),
                                   S.point(451, 450, second: 1201, speed: 1)])
        #expect(report.topSpeed == 30)
    }

    /// A jump is drawn from the fix it starts at, and a short run before it is not thinned away.
    @Test func theMapKeepsTheEndsOfEveryRun() throws {
        let report = try S.report([S.point(50, 50, second: 600), S.point(50, 30, second: 601), S.point(450, 450, second: 1200)])
        #expect(report.trackSegments == [[S.coordinate(50, 50), S.coordinate(50, 30)], [S.coordinate(450, 450)]])
    }

    /// Thinned or not, the drawn track passes through every covered cell and no other: a short
    /// excursion across a cell edge still shows (a fixed spacing of kept points cut it off).
    @Test func theDrawnTrackPassesThroughExactlyTheCoveredCells() throws {
        var points = S.drive([(10, 95), (224, 95)], startSecond: 600, speed: 2)
        let bump = points.count
        points += [S.point(227, 103, second: 600 + Double(bump)), S.point(230, 95, second: 601 + Double(bump))]
        points += S.drive([(232, 95), (490, 95)], startSecond: 602 + Double(bump), speed: 2)
        let report = try S.report(points)
        #expect(report.coveredCells.contains(CellIndex(column: 2, row: 1)), "the excursion covers a cell of the next row")
        var drawn: Set<CellIndex> = []
        for segment in report.trackSegments {
            let plane = segment.map(S.grid.project)
            drawn.insert(S.grid.cell(containing: plane[0]))
            for (from, to) in zip(plane, plane.dropFirst()) { S.grid.forEachCell(from: from, to: to) { drawn.insert($0) } }
        }
        #expect(drawn.intersection(report.assignedCells) == report.coveredCells)
        #expect(report.trackSegments.flatMap { $0 }.count < 20, "the map is thinned: \(points.count) fixes")
    }

    /// A missed window says why: how close the track came during it, and when.
    @Test func aMissedWindowNamesTheClosestApproach() throws {
        // B (450, 450) has its window 10:00–11:00; the unit drives along y = 310 then, 140 m short of it.
        let report = try S.report(S.drive([(300, 310), (490, 310)], startSecond: 7200))
        let b = try #require(report.visits.first { $0.checkpointID == "b" })
        #expect(b.status == .missed)
        #expect(abs((b.closestApproach?.metres ?? 0) - 140) < 0.5)
        #expect(b.closestApproach?.time == S.time(7200 + 15))
        let table = ReportFormat.table.render(CoverageReport(plan: try S.plan(), range: S.shiftStart..<S.shiftEnd, shifts: [report]))
        #expect(table.contains("b  10:00:00–11:00:00  missed  no visit; closest approach in the window 140 m at 10:00:15"))
    }

    /// The board's own geofence check-in is evidence, and a tag read names its reader and event.
    @Test func boardCheckInsAreEvidenceWithTheirEventNumbers() throws {
        let geofence = CheckIn(time: S.time(1800), kind: .geofence(checkpointID: "a"), position: nil, event: 41, input: nil)
        let tag = CheckIn(time: S.time(7300), kind: .tag("T-B"), position: nil, event: 42, input: "reader-1")
        let report = try S.report([], checkIns: [geofence, tag])
        let a = try #require(report.visits.first { $0.checkpointID == "a" })
        #expect(a.status == .onTime && a.evidence?.kind == .geofenceCheckIn && a.evidence?.event == 41)
        let b = try #require(report.visits.first { $0.checkpointID == "b" })
        #expect(b.evidence?.proof(in: .utc) == "tag T-B read by reader-1 at 10:01:40 (event #42)")
        let json = ReportFormat.json.render(CoverageReport(plan: try S.plan(), range: S.shiftStart..<S.shiftEnd, shifts: [report]))
        #expect(json.contains(#""evidence":{"kind":"tag","tag":"T-B","time":"2026-03-01T10:01:40.000Z","event":42,"input":"reader-1"}"#))
        #expect(json.contains(#""evidence":{"kind":"geofence-check-in","time":"2026-03-01T08:30:00.000Z","event":41}"#))
    }
}

/// Who covered a cell, and when, by the shift reports' join rule.
@Suite struct CellHistoryTests {
    typealias S = SyntheticPatrol

    @Test func aCellsHistoryListsEachPassWithItsTimesAndNothingAcrossASilence() throws {
        let plan = try S.plan()
        var builder = CellHistoryBuilder(plan: plan, cell: CellIndex(column: 2, row: 0), device: "car-1",
                                         range: S.shiftStart..<S.shiftEnd, lifeSigns: [])
        // Along the bottom row at 10 m/s, a fix at x = 10 + 10 s: in E2N0 (x 200–300) from 19 s to 29 s.
        for point in S.drive([(10, 50), (490, 50)], startSecond: 0) { builder.add(point) }
        // Later, silent for 10 minutes, then one fix in the cell: not joined, a single time.
        builder.add(S.point(250, 50, second: 1000))
        let visits = builder.finish()
        #expect(visits.count == 2)
        #expect(visits.first?.interval == S.time(18)...S.time(29), "from the fix before the line entered to the one it left by")
        #expect(visits.last?.interval == S.time(1000)...S.time(1000))
        #expect(CellIndex("E2N0") == CellIndex(column: 2, row: 0) && CellIndex("E-3N-15") == CellIndex(column: -3, row: -15))
        #expect(CellIndex("N2E0") == nil && CellIndex("E2") == nil)
    }
}
