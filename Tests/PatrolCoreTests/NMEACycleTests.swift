import Testing
@testable import PatrolCore

/// How sentences become fixes: one fix per reporting cycle, merged as gpsd merges them.
@Suite struct NMEACycleTests {
    @Test func oneFixPerCycleInTimeOrder() {
        let input = NMEA.cycle("120000") + NMEA.cycle("120001", latitude: "4807.100") + NMEA.cycle("120002")
        let fixes = NMEA.decode(input).fixes
        #expect(fixes.map(\.time?.civil.second) == [0, 1, 2])
        #expect(abs(fixes[1].latitude! - (48 + 7.1 / 60)) < 1e-12)
    }

    @Test func theLastCycleIsEmittedOnlyByFinish() {
        var decoder = NMEADecoder()
        var fixes: [Fix] = []
        decoder.consume(Array((NMEA.cycle("120000") + NMEA.cycle("120001")).utf8)) { fixes.append($0) }
        #expect(fixes.count == 1, "the second cycle could still get sentences")
        decoder.finish { fixes.append($0) }
        #expect(fixes.count == 2)
        #expect(decoder.statistics.fixesEmitted == 2)
    }

    /// A leading RMC has no dimension of its own: it inherits 3D from the last cycle's GGA.
    @Test func rmcStartingACycleKeeps3D() {
        let input = NMEA.cycle("120000")
            + NMEA.sentence("GPRMC,120001,A,4807.038,N,01131.000,E,0.0,0.0,\(NMEA.rmcDate),,")
            + NMEA.sentence("GPRMC,120002,A,4807.038,N,01131.000,E,0.0,0.0,\(NMEA.rmcDate),,")
        #expect(NMEA.decode(input).fixes.map(\.mode) == [.threeD, .threeD, .threeD])
    }

    /// Deliberately unlike gpsd: gpsd reports only when a sentence type it learned to end a
    /// cycle arrives, so a receiver that alternates its sentences (Humminbird: RMC on odd
    /// seconds, GLL or GGA on even ones) loses the cycles without that type, and the last cycle
    /// of a log is never reported. We emit every cycle with a time, so no position is dropped.
    @Test func cyclesGpsdWouldNotReportAreEmitted() {
        let input = NMEA.sentence("INRMC,194101,A,4426.1130,N,07140.5596,W,5.2,77.3,160906,15.8,W")
            + NMEA.sentence("INGLL,4426.1130,N,07140.5579,W,194102,A")
            + NMEA.sentence("INRMC,194103,A,4426.1134,N,07140.5558,W,5.3,77.0,160906,15.8,W")
            + NMEA.sentence("INGGA,194104,4426.1138,N,07140.5536,W,2,10,0.9,267.9,M,,,,")
            + NMEA.sentence("INRMC,194105,A,4426.1142,N,07140.5515,W,5.3,76.8,160906,15.8,W")
        let fixes = NMEA.decode(input, rollover: WeekRollover(pivot: UTCTime(year: 2006, month: 1, day: 1))).fixes
        #expect(fixes.map { $0.time!.civil.second } == [1, 2, 3, 4, 5])
        #expect(fixes.allSatisfy { $0.coordinate != nil })
    }

    /// gpsd allows 10 ms between the timed sentences of one cycle (GLL at .295, GGA at .30).
    @Test func timesWithinTenMillisecondsAreOneCycle() {
        let input = NMEA.sentence("GPRMC,200618.30,A,5313.2228,N,00634.4228,E,00.0,000.0,\(NMEA.rmcDate),00,W")
            + NMEA.sentence("GPGLL,5313.2228,N,00634.4228,E,200619.295,A")
            + NMEA.sentence("GPGGA,200619.30,5313.2228,N,00634.4228,E,1,05,2.6,00000,M,,,,")
            + NMEA.sentence("GPRMC,200619.30,A,5313.2228,N,00634.4228,E,00.0,000.0,\(NMEA.rmcDate),00,W")
        let times = NMEA.decode(input).fixes.map { $0.time!.civil }
        #expect(times.map(\.second) == [18, 19])
        #expect(times.last?.millisecond == 300)
    }

    /// A receiver that lost lock repeats its last GGA; gpsd then distrusts the GSA too.
    @Test func aRepeatedGGATimeIsNotAFreshFix() {
        let gga = NMEA.sentence("GPGGA,120000,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,")
        let input = NMEA.sentence("GPZDA,120000,12,03,2026,00,00") + gga + gga
            + NMEA.sentence("GPGSA,A,2,04,05,09,,,,,,,,,,2.5,1.3,2.1")
        let fix = NMEA.decode(input).fixes.last
        #expect(fix?.mode == .threeD, "the stale GSA saying 2D is ignored")
    }

    @Test func theDateRollsOverAtMidnight() {
        let input = NMEA.sentence("GPRMC,235959,A,4807.038,N,01131.000,E,0.0,0.0,\(NMEA.rmcDate),,")
            + NMEA.sentence("GPGGA,000000,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,")
        let times = NMEA.decode(input).fixes.map(\.time)
        #expect(times == [UTCTime(year: 2026, month: 3, day: 12, hour: 23, minute: 59, second: 59),
                          UTCTime(year: 2026, month: 3, day: 13)])
    }

    @Test func receiverWithoutTimeGivesNoFixes() {
        let input = NMEA.sentence("GPRMC,,V,,,,,,,,,,N") + NMEA.sentence("GPGGA,,,,,,0,,,,,,,,")
            + NMEA.sentence("GPGSA,A,1,,,,,,,,,,,,,,,")
        #expect(NMEA.decode(input).fixes.isEmpty)
    }
}

/// GPS week rollover: receivers past their firmware's pivot report dates 1024 weeks back.
@Suite struct NMEARolloverTests {
    /// A GP-320FW on 2019-04-07 said 1999-08-22.
    @Test func oldDatesAreMovedForwardPastThePivot() throws {
        let input = NMEA.sentence("GPRMC,000231.42,A,4829.0005,N,00022.0016,E,0.16,212.28,220899,,,A")
        let rollover = WeekRollover(pivot: UTCTime(year: 2019, month: 1, day: 1))
        let fix = try #require(NMEA.decode(input, rollover: rollover).fixes.first)
        #expect(fix.time?.iso8601 == "2019-04-07T00:02:31.420Z")
    }

    @Test func currentDatesAreLeftAlone() throws {
        let fix = try #require(NMEA.decode(NMEA.cycle("120000")).fixes.first)
        #expect(fix.time?.iso8601 == "2026-03-12T12:00:00.000Z")
    }

    /// The Telit HE910 sent year "-1" after the 2019 rollover. gpsd keeps that RMC's position
    /// without a time; we reject the whole sentence (counted as malformed) rather than trust
    /// the rest of a sentence from firmware that is visibly confused. Either way no fix results.
    @Test func aBrokenYearIsNotADate() {
        let input = NMEA.sentence("GPRMC,000231.099,A,4829.0005,N,00022.0015,E,0.15,212.28,2208-1,,,A")
        let (fixes, statistics) = NMEA.decode(input)
        #expect(fixes.isEmpty)
        #expect(statistics.malformed == 1)
    }
}

/// Values no receiver can honestly report are rejected with their sentence, never passed on.
@Suite struct NMEAAbsurdValueTests {
    @Test(arguments: [
        "GPRMC,120000,A,9100.000,N,01131.000,E,0.0,0.0,\(NMEA.rmcDate),,", // latitude 91°
        "GPRMC,120000,A,4807.038,N,18100.000,E,0.0,0.0,\(NMEA.rmcDate),,", // longitude 181°
        "GPRMC,120000,A,4861.000,N,01131.000,E,0.0,0.0,\(NMEA.rmcDate),,", // 61 minutes
        "GPRMC,120000,A,4807.038,X,01131.000,E,0.0,0.0,\(NMEA.rmcDate),,", // hemisphere X
        "GPRMC,120000,A,nan,N,01131.000,E,0.0,0.0,\(NMEA.rmcDate),,",      // NaN
        "GPRMC,120000,A,-4807.038,N,01131.000,E,0.0,0.0,\(NMEA.rmcDate),,", // signed latitude
        "GPRMC,250000,A,4807.038,N,01131.000,E,0.0,0.0,\(NMEA.rmcDate),,", // 25 o'clock
        "GPRMC,126000,A,4807.038,N,01131.000,E,0.0,0.0,\(NMEA.rmcDate),,", // minute 60
        "GPRMC,120000,A,4807.038,N,01131.000,E,0.0,0.0,311126,,",          // 31 November
        "GPRMC,120000,A,4807.038,N,01131.000,E,0.0,0.0,290226,,",          // 29 February 2026
        "GPRMC,120000,A,4807.038,N,01131.000,E,0.0,0.0,121326,,",          // month 13
        "GPRMC,120000,A,4807.038,N,01131.000,E,-5.0,0.0,\(NMEA.rmcDate),,", // negative speed
        "GPRMC,120000,A,4807.038,N,01131.000,E,0.0,400.0,\(NMEA.rmcDate),,", // track 400°
        "GPRMC,120000,A,4807.038,N,01131.000,E,1e3,0.0,\(NMEA.rmcDate),,",  // exponent
        "GPRMC,120000,A,4807.038,N",                                         // too few fields
    ])
    func absurdRMCIsRejected(body: String) {
        let (fixes, statistics) = NMEA.decode(NMEA.sentence(body))
        #expect(fixes.isEmpty)
        #expect(statistics.malformed == 1)
        #expect(statistics.sentencesDecoded == 0)
    }

    @Test(arguments: [
        "GPGGA,120000,4807.038,N,01131.000,E,1,08,0.9,999999.9,M,46.9,M,,", // 1000 km up
        "GPGGA,120000,4807.038,N,01131.000,E,1,08,-1,545.4,M,46.9,M,,",     // negative HDOP
        "GPGGA,120000,4807.038,N,01131.000,E,1,x8,0.9,545.4,M,46.9,M,,",    // satellites x8
    ])
    func absurdGGAIsRejected(body: String) {
        let input = NMEA.sentence("GPZDA,120000,12,03,2026,00,00") + NMEA.sentence(body)
        let (fixes, statistics) = NMEA.decode(input)
        #expect(fixes.allSatisfy { $0.coordinate == nil })
        #expect(statistics.malformed == 1)
    }

    @Test func fuzzedInputNeverYieldsAnImpossibleFix() {
        var generator = SplitMix64(seed: 0x5EED)
        var input = Array((0..<50).map { NMEA.cycle(String(120000 + $0)) }.joined().utf8)
        for _ in 0..<100 { // corrupt 1% of the bytes; the checksum catches most, the parsers the rest
            input[Int(generator.next() % UInt64(input.count))] = UInt8(truncatingIfNeeded: generator.next())
        }
        let fixes = NMEA.decode(input).fixes
        #expect(!fixes.isEmpty)
        for fix in fixes {
            if let coordinate = fix.coordinate { #expect(coordinate.isValid) }
            if let speed = fix.speed { #expect(speed.isFinite && speed >= 0) }
            if let track = fix.track { #expect(track >= 0 && track <= 360) }
            #expect(fix.time != nil)
        }
    }
}

/// A small deterministic generator, so a fuzz failure reproduces.
struct SplitMix64 {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
