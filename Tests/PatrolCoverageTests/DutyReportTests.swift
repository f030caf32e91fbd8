import Foundation
import PatrolCore
import Testing
@testable import PatrolCoverage

/// A constructed week in Beijing time (ISO week 2026-W10, Monday 2 March to Sunday 8 March) with
/// the numbers a supervisor checks: who was signed on, who was on patrol within their post, the
/// quotas, and every irregular sign-on an auditor would ask about.
@Suite struct DutyReportTests {
    typealias S = SyntheticPatrol

    static let planText = S.planText.replacing("name = \"synthetic\"", with: "name = \"synthetic\"\ntime_zone = \"Asia/Shanghai\"") + """

        [[area]]
        id = "east"
        geojson = '\(S.ring([(500, 0), (1000, 0), (1000, 500), (500, 500)]))'
        [[post]]
        id = "beat"
        areas = ["square"]
        units = ["car-1"]
        [[post]]
        id = "booth"
        units = ["booth-1"]
        [[person]]
        id = "p1"
        name = "Wang Li"
        badges = ["B1"]
        posts = ["beat"]
        min_hours_per_week = 2
        min_days_per_month = 3
        [[person]]
        id = "p2"
        badges = ["B2"]
        posts = ["booth"]
        min_hours_per_week = 10
        [[person]]
        id = "p3"
        badges = ["B3"]
        posts = ["beat"]
        min_hours_per_week = 1
        """

    static func plan() throws -> PatrolPlan {
        try PlanReader.read(planText, file: "duty.toml", readFile: { _ in "" }, readZone: LocalShiftTests.zoneFile)
    }

    /// Local Beijing time on day `day` of March 2026.
    static func local(_ day: Int, _ hour: Int, _ minute: Int = 0) -> UTCTime {
        UTCTime(year: 2026, month: 3, day: day, hour: hour, minute: minute).adding(seconds: -8 * 3600)
    }

    static let week = local(2, 0)..<local(9, 0)

    static func board(_ badge: String, _ device: String, _ change: DutyChange, _ time: UTCTime, event: UInt64) -> DutyRecord {
        DutyRecord(who: .badge(badge), device: device, change: change, time: time, source: .board(event: event, reader: "duty-reader"))
    }

    static func centre(_ person: String, _ device: String, _ change: DutyChange, _ time: UTCTime) -> DutyRecord {
        DutyRecord(who: .person(person), device: device, change: change, time: time,
                   source: .centre(staff: "alice", recordedAt: local(8, 20)))
    }

    /// One fix a second for `seconds` seconds from `start`, at 5 m/s round the 400 m square
    /// (50, 50)–(450, 450) shifted by `dx` metres east: within "square" when dx is 0, "east" at 500.
    static func loop(from start: UTCTime, seconds: Int, dx: Double = 0) -> [CoveragePoint] {
        (0...seconds).map { second in
            let along = (Double(second) * 5).truncatingRemainder(dividingBy: 1600)
            let (x, y): (Double, Double) = switch along {
            case ..<400: (50 + along, 50)
            case ..<800: (450, 50 + along - 400)
            case ..<1200: (450 - (along - 800), 450)
            default: (50, 450 - (along - 1200))
            }
            return CoveragePoint(time: start.adding(seconds: Double(second)), coordinate: S.coordinate(x + dx, y))
        }
    }

    /// Standing still where an hour's `loop` ends, one fix every 10 s.
    static func standing(from start: UTCTime, seconds: Int) -> [CoveragePoint] {
        stride(from: 10, through: seconds, by: 10).map {
            CoveragePoint(time: start.adding(seconds: Double($0)), coordinate: S.coordinate(450, 50))
        }
    }

    static let records: [DutyRecord] = [
        // Monday: signed on 09:00–10:30, driving round the beat for an hour, then parked.
        board("B1", "car-1", .signOn, local(2, 9), event: 1),
        board("B1", "car-1", .signOff, local(2, 10, 30), event: 2),
        // Tuesday: 09:00–10:10, 40 min on the beat, then 30 min in "east", which is not p1's post.
        board("B1", "car-1", .signOn, local(3, 9), event: 3),
        board("B1", "car-1", .signOff, local(3, 10, 10), event: 4),
        // Wednesday: signed on at 09:00, drove 10 min, never signed off; the car fell silent.
        board("B1", "car-1", .signOn, local(4, 9), event: 5),
        // Thursday: signed on to the car 09:00–10:00 and, recorded at the centre, to the booth 09:30–10:00.
        board("B1", "car-1", .signOn, local(5, 9), event: 6),
        centre("p1", "booth-1", .signOn, local(5, 9, 30)),
        centre("p1", "booth-1", .signOff, local(5, 10)),
        board("B1", "car-1", .signOff, local(5, 10), event: 7),
        // Friday: p2 at the booth 08:00–18:00, recorded at the centre.
        centre("p2", "booth-1", .signOn, local(6, 8)),
        centre("p2", "booth-1", .signOff, local(6, 18)),
        // Saturday: a badge nobody in the plan owns.
        board("B9", "car-1", .signOn, local(7, 9), event: 8),
        board("B9", "car-1", .signOff, local(7, 9, 5), event: 9),
        // Sunday: a sign-off with no sign-on before it.
        board("B1", "car-1", .signOff, local(8, 8), event: 10),
    ]

    static let track: [String: [CoveragePoint]] = [
        "car-1": loop(from: local(2, 9), seconds: 3600) + standing(from: local(2, 10), seconds: 1800)
            + loop(from: local(3, 9), seconds: 2400) + loop(from: local(3, 9, 40).adding(seconds: 1), seconds: 1799, dx: 500)
            + loop(from: local(4, 9), seconds: 600),
    ]

    /// Measures every session as `DutyQuery` does at the centre, from the points in its window.
    static func report(records: [DutyRecord] = records, person: String? = nil) throws -> DutyReport {
        let builder = DutyReportBuilder(plan: try plan(), range: week, records: records, person: person)
        let measured = builder.sessions.indices.map { index in
            let window = builder.window(ofSession: index)
            var meter = builder.meter(forSession: index, lifeSigns: [])
            for point in track[builder.sessions[index].device, default: []] where window.contains(point.time) { meter.add(point) }
            return meter.finish()
        }
        return builder.finish(measured)
    }

    @Test func aPersonsWeekSignedOnOnPatrolAndQuotas() throws {
        let report = try Self.report()
        let p1 = try #require(report.persons.first { $0.id == "p1" })
        // Signed on: 90 + 70 + 10 (open, to the car's last fix) + 60 min (the booth's half hour
        // fell inside the car's hour and counts once).
        #expect(p1.signedOnSeconds == 230 * 60)
        // On patrol: 60 + 40 + 10 min moving on the beat; parked, in "east" and at the booth (not
        // p1's post) is not patrol.
        #expect(p1.patrolSeconds == 110 * 60)
        #expect(p1.dutyDays == 2, "Monday and Tuesday reach 30 minutes on patrol; Wednesday's 10 do not")
        #expect(p1.weeks.map(\.period) == ["2026-W10"])
        #expect(p1.weeks[0].isWhole && p1.weeks[0].verdict == .notMet)
        #expect(abs(p1.weeks[0].achieved - 110.0 / 60) < 1e-9)
        #expect(p1.months.map(\.period) == ["2026-03"])
        #expect(p1.months[0].verdict == .partial, "a week cannot judge a month's quota")

        let p2 = try #require(report.persons.first { $0.id == "p2" })
        #expect(p2.patrolSeconds == 10 * 3600, "at a fixed post (a booth) being signed on is the duty")
        #expect(p2.weeks[0].verdict == .met)

        let p3 = try #require(report.persons.first { $0.id == "p3" })
        #expect(p3.signedOnSeconds == 0 && p3.weeks[0].verdict == .notMet, "a person who never signed on is listed, not left out")
    }

    @Test func unitsAreasAndSessionsCarryTheEvidence() throws {
        let report = try Self.report()
        #expect(report.units.map(\.device) == ["booth-1", "car-1"])
        let booth = report.units[0], car = report.units[1]
        #expect(booth.staffedSeconds == 10.5 * 3600)
        #expect(car.sessions == 5)
        #expect(car.persons == ["badge B9 (not in the plan)", "p1"])
        #expect(car.personPatrolSeconds == 110 * 60)
        #expect(report.areas.map(\.area) == ["square"])
        #expect(report.areas[0].patrolSeconds == 110 * 60 && report.areas[0].persons == ["p1"])

        let thursdayBooth = try #require(report.sessions.first { $0.session.device == "booth-1" && $0.session.person == "p1" })
        #expect(thursdayBooth.post == .offPost)
        #expect(thursdayBooth.session.signOnSource.text(in: report.plan.timeZone)
                == "recorded at the centre by alice at 2026-03-08T20:00:00.000+08:00")
        let wednesday = try #require(report.sessions.first { $0.session.signOn == Self.local(4, 9) })
        #expect(wednesday.session.signOff == nil && wednesday.counted.upperBound == Self.local(4, 9, 10))

        let kinds = report.notes.map(\.kind)
        #expect(kinds.filter { $0 == .open }.count == 1)
        #expect(kinds.contains(.overlapping) && kinds.contains(.offPost) && kinds.contains(.notInPlan)
                && kinds.contains(.signOffWithoutSignOn))
        let table = DutyReportFormat.table.render(report)
        #expect(table.contains("  p1 (Wang Li)  signed on 3 h 50 min, on patrol 1 h 50 min, 2 duty days\n"))
        #expect(table.contains("    week  2026-W10 1.83 h of 2 h: not met\n"))
        #expect(table.contains("OPEN (no sign-off; counted to 2026-03-04T09:10:00.000+08:00)"))
        #expect(table.contains("sign-off-without-sign-on: p1 signed off car-1 at 2026-03-08T08:00:00.000+08:00 (badge read at reader duty-reader (event #10))"))
        let csv = DutyReportFormat.csv.render(report)
        #expect(csv.contains("\nweek,p1,,2026-03-02T00:00:00.000+08:00,2026-03-09T00:00:00.000+08:00,,,2026-W10,1.83,2.00,not met,hours on patrol\n"))
        #expect(DutyReportFormat.html.render(report).contains("<td>badge B9 (not in the plan)</td><td>car-1</td>"))
    }

    /// A board that restarted forgets who is signed on: the person's sign-off read arrives as a
    /// second sign-on. The earlier session is shown open, not stretched over the next one.
    @Test func aRepeatedSignOnLeavesTheEarlierSessionOpen() throws {
        let records = [Self.board("B1", "car-1", .signOn, Self.local(2, 9), event: 1),
                       Self.board("B1", "car-1", .signOn, Self.local(2, 10, 30), event: 2)]
        let report = try Self.report(records: records, person: "p1")
        #expect(report.sessions.count == 2)
        #expect(report.sessions[0].counted == Self.local(2, 9)..<Self.local(2, 10, 29).adding(seconds: 50),
                "to the car's last fix before the next sign-on")
        #expect(report.notes.map(\.kind) == [.open, .open, .repeatedSignOn])
    }

    @Test func weeksAreISOWeeksMondayFirstInLocalTime() throws {
        let zone = try LocalShiftTests.zone("Asia/Shanghai")
        // Sunday 2026-03-01 16:00 UTC is Monday 00:00 in Beijing: week 10 begins there.
        let weeks = QuotaCheck.weeks(overlapping: Self.local(1, 12)..<Self.local(9, 0), zone: zone)
        #expect(weeks.map(\.label) == ["2026-W09", "2026-W10"])
        #expect(weeks[1].interval.lowerBound == UTCTime(year: 2026, month: 3, day: 1, hour: 16))
        #expect(weeks.map(\.isWhole) == [false, true])
        #expect(QuotaCheck.weeks(overlapping: UTCTime(year: 2027, month: 1, day: 1)..<UTCTime(year: 2027, month: 1, day: 2), zone: .utc)
            .map(\.label) == ["2026-W53"])
    }

    /// A duty event whose payload lost its badge is still shown, under "(none)", not dropped.
    @Test func aDutyEventWithoutABadgeIsShownNotDropped() throws {
        let event = UplinkEvent(sequence: 7, kind: "duty.sign-on", time: Self.local(2, 9), timeSource: "gnss", payloadJSON: "{}")
        let record = try #require(DutyRecord(device: "car-1", event: event))
        #expect(record.who == .badge(DutyRecord.missingBadge))
        #expect(DutyRecord(device: "car-1", event: UplinkEvent(sequence: 8, kind: "check-in.button", time: Self.local(2, 9),
                                                               timeSource: "gnss")) == nil)
        let report = try Self.report(records: [record])
        #expect(report.sessions.map(\.session.label) == ["badge (none) (not in the plan)"])
    }

    /// Signing off and on again at the same instant (a handover on the same unit) is two sessions.
    @Test func signingOffAndOnAtOneInstantIsTwoSessions() throws {
        let records = [Self.board("B1", "car-1", .signOn, Self.local(2, 8), event: 1),
                       Self.board("B1", "car-1", .signOn, Self.local(2, 9), event: 3),
                       Self.board("B1", "car-1", .signOff, Self.local(2, 9), event: 2),
                       Self.board("B1", "car-1", .signOff, Self.local(2, 10), event: 4)]
        let report = try Self.report(records: records, person: "p1")
        #expect(report.sessions.map(\.counted) == [Self.local(2, 8)..<Self.local(2, 9), Self.local(2, 9)..<Self.local(2, 10)])
        #expect(report.notes.isEmpty)
    }
}
