import Testing
@testable import PatrolCore

@Suite struct UTCTimeTests {
    @Test func formatsAsGpsdDoes() {
        let t = UTCTime(year: 2019, month: 3, day: 12, hour: 10, minute: 51, second: 54, millisecond: 408)
        #expect(t.iso8601 == "2019-03-12T10:51:54.408Z")
    }

    @Test func parsesWhatItFormatsAndZones() {
        let t = UTCTime(iso8601: "2019-03-12T10:51:54.408Z")
        #expect(t?.iso8601 == "2019-03-12T10:51:54.408Z")
        #expect(UTCTime(iso8601: "2019-03-12T12:51:54+02:00")?.iso8601 == "2019-03-12T10:51:54.000Z")
        #expect(UTCTime(iso8601: "2019-03-12")?.iso8601 == "2019-03-12T00:00:00.000Z")
        #expect(UTCTime(iso8601: "2019-13-12") == nil)
        #expect(UTCTime(iso8601: "yesterday") == nil)
    }

    @Test func weekRolloverMovesOldDatesByWholePeriods() {
        let rollover = WeekRollover(pivot: UTCTime(year: 2019, month: 1, day: 1))
        // On 2019-04-07 an affected receiver reported 1999-08-22 (week 0 again).
        let reported = UTCTime(year: 1999, month: 8, day: 22, hour: 1)
        #expect(rollover.corrected(reported).iso8601 == "2019-04-07T01:00:00.000Z")
        let early = UTCTime(year: 2000, month: 1, day: 1)
        #expect(rollover.corrected(early) >= rollover.pivot)
        let current = UTCTime(year: 2026, month: 11, day: 26)
        #expect(rollover.corrected(current) == current)
        // Two periods back (a 1980s date from a receiver that lost its almanac).
        let ancient = UTCTime(year: 1980, month: 1, day: 6).adding(milliseconds: 5000)
        #expect(rollover.corrected(ancient).millisecondsSinceEpoch - ancient.millisecondsSinceEpoch
                == 2 * WeekRollover.periodMilliseconds)
    }

    @Test func fixedDecimalRoundsWithoutFoundation() {
        #expect(FixedDecimal.format(44.0688433333, decimals: 9) == "44.068843333")
        #expect(FixedDecimal.format(-121.5, decimals: 9) == "-121.5")
        #expect(FixedDecimal.format(-0.0000000001, decimals: 9) == "0")
        #expect(FixedDecimal.format(0.0155, decimals: 3) == "0.016")
        #expect(FixedDecimal.format(12, decimals: 3, trim: false) == "12.000")
    }
}
