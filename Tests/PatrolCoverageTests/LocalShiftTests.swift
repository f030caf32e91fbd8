import Foundation
import PatrolCore
import Testing
@testable import PatrolCoverage

/// Shifts as centres keep them: local time in an IANA zone (read from the system's zone database,
/// as the centre does), across midnight and daylight-saving changes, weekly rosters, and dates
/// that differ (holidays, swaps).
@Suite struct LocalShiftTests {
    typealias S = SyntheticPatrol

    static func zoneFile(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: "/usr/share/zoneinfo/" + name)))
    }

    static func zone(_ name: String) throws -> TimeZoneRules { try TimeZoneRules.parse(try zoneFile(name), name: name) }

    static func utc(_ text: String) -> UTCTime { UTCTime(iso8601: text)! }

    @Test func beijingIsEightHoursAheadAndNineInTheMorningIsOneUTC() throws {
        let shanghai = try Self.zone("Asia/Shanghai")
        #expect(shanghai.offsetSeconds(at: Self.utc("2026-03-02T01:00:00Z")) == 8 * 3600)
        #expect(shanghai.utc(ofLocal: Self.utc("2026-03-02T09:00:00Z")) == Self.utc("2026-03-02T01:00:00Z"))
        #expect(shanghai.iso8601(Self.utc("2026-03-02T01:00:00Z")) == "2026-03-02T09:00:00.000+08:00")
        #expect(shanghai.offsetSeconds(at: Self.utc("1988-07-01T00:00:00Z")) == 9 * 3600, "China kept summer time 1986–1991")
    }

    /// Berlin changes on the last Sundays of March and October; after the file's last transition
    /// its footer rule (CET-1CEST,M3.5.0,M10.5.0/3) decides.
    @Test func daylightSavingChangesAndTheFooterRule() throws {
        let berlin = try Self.zone("Europe/Berlin")
        #expect(berlin.offsetSeconds(at: Self.utc("2026-03-29T00:59:59Z")) == 3600)
        #expect(berlin.offsetSeconds(at: Self.utc("2026-03-29T01:00:00Z")) == 7200)
        #expect(berlin.offsetSeconds(at: Self.utc("2026-10-25T00:59:59Z")) == 7200)
        #expect(berlin.offsetSeconds(at: Self.utc("2026-10-25T01:00:00Z")) == 3600)
        #expect(berlin.offsetSeconds(at: Self.utc("2100-07-01T12:00:00Z")) == 7200)
        #expect(berlin.offsetSeconds(at: Self.utc("2100-12-01T12:00:00Z")) == 3600)
        // 02:30 does not exist on 29 March: taken as 30 minutes after the change (03:30 CEST).
        #expect(berlin.utc(ofLocal: Self.utc("2026-03-29T02:30:00Z")) == Self.utc("2026-03-29T01:30:00Z"))
        // 02:30 happens twice on 25 October: the first time.
        #expect(berlin.utc(ofLocal: Self.utc("2026-10-25T02:30:00Z")) == Self.utc("2026-10-25T00:30:00Z"))
        let rule = try TimeZoneRules.parse(Array("TZif2".utf8) + [UInt8](repeating: 0, count: 15) + [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 4]
                                               + [0, 0, 0, 0, 0, 0] + Array("UTC\0".utf8)
                                               + Array("TZif2".utf8) + [UInt8](repeating: 0, count: 15) + [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 4]
                                               + [0, 0, 0, 0, 0, 0] + Array("UTC\0".utf8) + Array("\nCET-1CEST,M3.5.0,M10.5.0/3\n".utf8),
                                               name: "footer-only")
        #expect(rule.offsetSeconds(at: Self.utc("2026-07-01T00:00:00Z")) == 7200)
    }

    @Test func aDamagedZoneFileIsAClearError() throws {
        let berlin = try Self.zoneFile("Europe/Berlin")
        #expect { try TimeZoneRules.parse(Array(berlin.prefix(100)), name: "cut") } throws: {
            "\($0)".contains("the zone file ends inside its")
        }
        #expect { try TimeZoneRules.parse(Array("# not a zone\n".utf8), name: "text") } throws: {
            "\($0)".contains("not a compiled zone file (TZif)")
        }
    }

    /// car-1 on a 09:00–17:00 shift over the square, with `more` lines for the shift and after it.
    static func dayShift(_ more: String = "") -> String {
        """
        [[unit]]
        device = "car-1"
        [[unit.shift]]
        start = "09:00"
        end = "17:00"
        areas = ["square"]

        """ + more
    }

    /// The synthetic plan, in Beijing time, with `unit` replacing its unit's shift table.
    static func plan(zone: String = "Asia/Shanghai", unit: String) throws -> PatrolPlan {
        let text = S.planText.replacing("name = \"synthetic\"", with: "name = \"synthetic\"\ntime_zone = \"\(zone)\"")
        let head = text[..<text.range(of: "[[unit]]")!.lowerBound]
        return try PlanReader.read(String(head) + unit, file: "local.toml", readFile: { _ in "" }, readZone: Self.zoneFile)
    }

    static func intervals(_ plan: PatrolPlan, _ from: String, _ to: String) -> [String] {
        CoverageReport.shiftsToMeasure(in: plan, range: utc(from)..<utc(to), device: nil)
            .map { "\(plan.timeZone.iso8601($0.interval.lowerBound)) → \(plan.timeZone.iso8601($0.interval.upperBound))" }
    }

    @Test func aBeijingDayShiftIsMeasuredInBeijingTime() throws {
        let plan = try Self.plan(unit: Self.dayShift())
        #expect(Self.intervals(plan, "2026-03-02T00:00:00Z", "2026-03-02T12:00:00Z")
                == ["2026-03-02T09:00:00.000+08:00 → 2026-03-02T17:00:00.000+08:00"])
        let shift = CoverageReport.shiftsToMeasure(in: plan, range: Self.utc("2026-03-02T00:00:00Z")..<Self.utc("2026-03-02T12:00:00Z"), device: nil)[0]
        #expect(shift.interval.lowerBound == Self.utc("2026-03-02T01:00:00Z"))
        var builder = ShiftCoverageBuilder(plan: plan, unit: plan.units[0], shift: shift.shift, interval: shift.interval, lifeSigns: [])
        builder.add(CoveragePoint(time: Self.utc("2026-03-02T02:00:00Z"), coordinate: S.coordinate(50, 50)))
        let report = CoverageReport(plan: plan, range: shift.interval, shifts: [builder.finish(checkIns: [])])
        let table = ReportFormat.table.render(report)
        #expect(table.contains("(Asia/Shanghai)"))
        #expect(table.contains("shift 09:00–17:00  2026-03-02T09:00:00.000+08:00 → 2026-03-02T17:00:00.000+08:00"))
        #expect(table.contains("device-silent  10:00:00–17:00:00"), "gaps in local time")
        #expect(ReportFormat.json.render(report).contains(#""time_zone":"Asia/Shanghai","from":"2026-03-02T09:00:00.000+08:00""#))
    }

    /// A night shift over the night the clocks go back lasts nine hours, as the crew lives it.
    @Test func aNightShiftOverTheAutumnChangeLastsNineHours() throws {
        let plan = try Self.plan(zone: "Europe/Berlin", unit: """
            [[unit]]
            device = "car-1"
            [[unit.shift]]
            start = "22:00"
            end = "06:00"
            areas = ["square"]
            """)
        let shifts = CoverageReport.shiftsToMeasure(in: plan, range: Self.utc("2026-10-24T21:00:00Z")..<Self.utc("2026-10-24T22:00:00Z"), device: nil)
        #expect(shifts.map { $0.interval.lowerBound.seconds(to: $0.interval.upperBound) / 3600 } == [9])
    }

    @Test func aWeeklyRosterWithAHolidayAndASwap() throws {
        let plan = try Self.plan(unit: Self.dayShift("""
            days = ["mon", "wed", "fri"]
            [[unit.override]]
            date = "2026-03-04"
            off = true
            [[unit.override]]
            date = "2026-03-07"
            [[unit.override.shift]]
            start = "20:00"
            end = "02:00"
            areas = ["square"]
            """))
        // Monday 2 March to Sunday 8 March 2026, Beijing time.
        #expect(Self.intervals(plan, "2026-03-01T16:00:00Z", "2026-03-08T16:00:00Z") == [
            "2026-03-02T09:00:00.000+08:00 → 2026-03-02T17:00:00.000+08:00",
            "2026-03-06T09:00:00.000+08:00 → 2026-03-06T17:00:00.000+08:00",
            "2026-03-07T20:00:00.000+08:00 → 2026-03-08T02:00:00.000+08:00",
        ], "Wednesday is a holiday; Saturday has a swapped night shift")
    }

    @Test func badZonesDaysAndOverridesNameTheirKey() {
        let unit = Self.dayShift("""
            days = ["monday"]
            [[unit.override]]
            date = "2026-02-30"
            off = true
            """)
        #expect { try Self.plan(zone: "Asia/Atlantis", unit: unit) } throws: { error in
            let text = "\(error)"
            return text.contains("time_zone: 'Asia/Atlantis' cannot be used") && text.contains("unit[0].shift[0].days: 'monday' is not a weekday")
                && text.contains("unit[0].override[0].date: '2026-02-30' is not a date")
        }
        #expect { try Self.plan(zone: "../../etc/passwd", unit: unit) } throws: { "\($0)".contains("is not a time zone name") }
    }
}
