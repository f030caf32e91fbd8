import Testing
@testable import PatrolCore

/// Each supported sentence, read the way gpsd reads it.
@Suite struct NMEASentenceTests {
    @Test func ggaAndRMCMergeIntoOne3DFix() throws {
        let (fixes, statistics) = NMEA.decode(NMEA.cycle("123519.00"))
        #expect(fixes.count == 1)
        let fix = try #require(fixes.first)
        #expect(fix.time == UTCTime(year: 2026, month: 3, day: 12, hour: 12, minute: 35, second: 19))
        #expect(fix.mode == .threeD)
        #expect(abs(fix.latitude! - (48 + 7.038 / 60)) < 1e-12)
        #expect(abs(fix.longitude! - (11 + 31.0 / 60)) < 1e-12)
        #expect(fix.altitudeMSL == 545.4)
        #expect(abs(fix.speed! - 22.4 * 1852 / 3600) < 1e-12)
        #expect(fix.track == 84.4)
        #expect(fix.hdop == 1.3)
        #expect(fix.satellitesUsed == 5)
        #expect(statistics.decodedByType.rmc == 1 && statistics.decodedByType.gga == 1 && statistics.decodedByType.gsa == 1)
    }

    @Test func southAndWestAreNegative() throws {
        let input = NMEA.sentence("GPRMC,081836,A,3751.65,S,14507.36,W,000.0,360.0,130998,011.3,E")
        let fix = try #require(NMEA.decode(input).fixes.first)
        #expect(abs(fix.latitude! + (37 + 51.65 / 60)) < 1e-12)
        #expect(abs(fix.longitude! + (145 + 7.36 / 60)) < 1e-12)
    }

    @Test func rmcWithoutValidStatusIsNoFix() {
        let input = NMEA.sentence("GPRMC,125106,V,3854.5087,N,07726.4523,W,0.0,0.0,\(NMEA.rmcDate),10.5,W,S")
        let fixes = NMEA.decode(input).fixes
        #expect(fixes.allSatisfy { $0.mode == .noFix && $0.coordinate == nil })
    }

    /// Deliberately unlike gpsd, which takes the position of a GGA whatever its quality: some
    /// receivers repeat their last position with quality 0 after losing the satellites.
    @Test func ggaWithQualityZeroGivesNoPosition() throws {
        let input = NMEA.sentence("GPZDA,120000,12,03,2026,00,00")
            + NMEA.sentence("GPGGA,120000,4807.038,N,01131.000,E,0,08,0.9,545.4,M,46.9,M,,")
        let fix = try #require(NMEA.decode(input).fixes.first)
        #expect(fix.mode == .noFix)
        #expect(fix.latitude == nil && fix.longitude == nil)
    }

    @Test func gnsGivesPositionAltitudeAnd3D() throws {
        let input = NMEA.sentence("GPZDA,224749.00,12,03,2026,00,00")
            + NMEA.sentence("GNGNS,224749.00,3333.4268304,N,11153.3538273,W,DD,19,0.6,406.110,-26.294,6.0,0138,S")
        let fix = try #require(NMEA.decode(input).fixes.first)
        #expect(fix.mode == .threeD)
        #expect(abs(fix.latitude! - (33 + 33.4268304 / 60)) < 1e-12)
        #expect(fix.altitudeMSL == 406.11)
        #expect(fix.satellitesUsed == 19)
    }

    @Test func gnsWithModeNIsNoFix() {
        let input = NMEA.sentence("GPZDA,224749.00,12,03,2026,00,00")
            + NMEA.sentence("GNGNS,224749.00,3333.4268304,N,11153.3538273,W,NN,00,,,,,,V")
        #expect(NMEA.decode(input).fixes.allSatisfy { $0.coordinate == nil })
    }

    /// Deliberately unlike gpsd, which reports position-only TPVs without a time: a fix we
    /// cannot place in time is useless to a track, so we emit none until a date is known.
    @Test func gllNeedsADateFromElsewhere() throws {
        let gllOnly = NMEA.sentence("GPGLL,4916.45,N,12311.12,W,225444,A,A")
        #expect(NMEA.decode(gllOnly).fixes.isEmpty, "without RMC or ZDA there is no date, so no fix time")
        let withDate = NMEA.sentence("GPZDA,225443,12,03,2026,00,00") + gllOnly
        let fix = try #require(NMEA.decode(withDate).fixes.last)
        #expect(fix.time == UTCTime(year: 2026, month: 3, day: 12, hour: 22, minute: 54, second: 44))
        #expect(fix.mode == .twoD)
        #expect(abs(fix.latitude! - (49 + 16.45 / 60)) < 1e-12)
    }

    @Test func vtgSetsSpeedAndTrackUnlessNotValid() throws {
        let rmcWithoutMotion = NMEA.sentence("GPRMC,120000,A,4807.038,N,01131.000,E,,,\(NMEA.rmcDate),,")
        let gga = NMEA.sentence("GPGGA,120000,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,")
        let valid = rmcWithoutMotion + NMEA.sentence("GPVTG,054.7,T,034.4,M,005.5,N,010.2,K,A") + gga
        let fix = try #require(NMEA.decode(valid).fixes.first)
        #expect(fix.speed.map { abs($0 - 5.5 * 1852 / 3600) < 1e-12 } == true)
        #expect(fix.track == 54.7)
        let notValid = rmcWithoutMotion + NMEA.sentence("GPVTG,054.7,T,034.4,M,005.5,N,010.2,K,N") + gga
        let unmoved = try #require(NMEA.decode(notValid).fixes.first)
        #expect(unmoved.speed == nil && unmoved.track == nil)
    }

    @Test func gsaSaysTwoDimensional() throws {
        let input = NMEA.sentence("GPRMC,120000,A,4807.038,N,01131.000,E,0.0,0.0,\(NMEA.rmcDate),,")
            + NMEA.sentence("GPGSA,A,2,04,05,09,,,,,,,,,,2.5,1.3,2.1")
        let fix = try #require(NMEA.decode(input).fixes.first)
        #expect(fix.mode == .twoD)
        #expect(fix.altitudeMSL == nil)
    }

    @Test func zdaSuppliesAFourDigitYear() throws {
        let input = NMEA.sentence("GPZDA,201530.00,04,07,2027,00,00")
            + NMEA.sentence("GPGGA,201530.00,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,")
        let fix = try #require(NMEA.decode(input).fixes.first)
        #expect(fix.time == UTCTime(year: 2027, month: 7, day: 4, hour: 20, minute: 15, second: 30))
    }

    @Test(arguments: ["GP", "GN", "GL", "GA", "GB", "BD", "QZ", "IN", "GI", "GQ"])
    func everyTalkerIsDecoded(talker: String) throws {
        let (fixes, statistics) = NMEA.decode(NMEA.cycle("101010", talker: talker))
        let fix = try #require(fixes.first)
        #expect(fix.mode == .threeD)
        #expect(fix.altitudeMSL == 545.4)
        #expect(statistics.sentencesDecoded == 3)
    }

    @Test func proprietaryAndUnknownSentencesAreCountedNotDecoded() {
        let input = NMEA.sentence("PGRME,15.0,M,45.0,M,25.0,M") + NMEA.sentence("GPGSV,1,1,01,07,79,048,42")
            + NMEA.sentence("GPTXT,01,01,02,u-blox ag")
        let statistics = NMEA.decode(input).statistics
        #expect(statistics.unsupported == 3)
        #expect(statistics.sentencesDecoded == 0)
    }
}
