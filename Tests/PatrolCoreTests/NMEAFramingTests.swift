import Testing
@testable import PatrolCore

/// Bytes that are not clean sentences: every reject counted, nothing crashes, the good
/// sentences around them still decode.
@Suite struct NMEAFramingTests {
    @Test func checksumsAreVerified() {
        let good = NMEA.sentence("GPRMC,120000,A,4807.038,N,01131.000,E,0.0,0.0,\(NMEA.rmcDate),,")
        var bad = good
        bad.replaceSubrange(bad.firstRange(of: "4807")!, with: "4808") // one digit flipped in transit
        let (fixes, statistics) = NMEA.decode(bad)
        #expect(fixes.isEmpty)
        #expect(statistics.badChecksum == 1)
        #expect(NMEA.decode(good).fixes.count == 1)
    }

    @Test func lowerCaseChecksumDigitsAreAccepted() {
        #expect(NMEA.sentence("GPGSA,A,3,04,05,,09,12,,,24,,,,,2.5,1.3,2.2") == "$GPGSA,A,3,04,05,,09,12,,,24,,,,,2.5,1.3,2.2*3A\r\n")
        let lower = NMEA.decode("$GPGSA,A,3,04,05,,09,12,,,24,,,,,2.5,1.3,2.2*3a\r\n").statistics
        #expect(lower.sentencesDecoded == 1)
        #expect(lower.badChecksum == 0)
    }

    /// gpsd accepts sentences without `*hh` (old Garmins, some multiplexers send them); so do we,
    /// and count them.
    @Test func sentencesWithoutChecksumAreAcceptedAndCounted() {
        let input = "$GPRMC,120000,A,4807.038,N,01131.000,E,0.0,0.0,\(NMEA.rmcDate),,\r\n"
        let (fixes, statistics) = NMEA.decode(input)
        #expect(fixes.count == 1)
        #expect(statistics.withoutChecksum == 1)
    }

    @Test func aChecksumWithOneDigitIsBad() {
        #expect(NMEA.decode("$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*4\r\n").statistics.badChecksum == 1)
    }

    @Test func binaryNoiseIsSkippedAndCounted() {
        var bytes: [UInt8] = [0xB5, 0x62, 0x01, 0x07, 0x5C, 0x00, 0xFF, 0x00, 0x24] // UBX header and a stray '$'
        bytes += Array(NMEA.cycle("120000").utf8)
        bytes += [0x00, 0x80, 0xFE, 0x0A]
        let (fixes, statistics) = NMEA.decode(bytes)
        #expect(fixes.count == 1)
        #expect(statistics.garbageBytes == 11, "8 bytes before the stray $, 3 after the sentences")
        #expect(statistics.truncated == 1, "a stray $ right before a sentence is a sentence cut short")
    }

    @Test func collidingSentencesKeepTheSecond() {
        // A receiver buffer overrun: a GGA cut short by the next sentence's '$'.
        let input = "$GPGGA,120000,4807.038,N,011" + NMEA.cycle("120000")
        let (fixes, statistics) = NMEA.decode(input)
        #expect(statistics.truncated == 1)
        #expect(fixes.count == 1)
        #expect(fixes.first?.mode == .threeD)
    }

    @Test func aSentenceCutByTheEndOfInputIsTruncated() {
        let input = NMEA.cycle("120000") + "$GPRMC,120001,A,4807.0"
        let (fixes, statistics) = NMEA.decode(input)
        #expect(fixes.count == 1)
        #expect(statistics.truncated == 1)
    }

    @Test func controlCharactersInsideALineMakeItGarbage() {
        let input = "$GPGSA,A,3,26,15,21,27,24,09,18,05,29,,,,1.9,1.3,1.4*3\u{1B}[H\u{1B}[J3\r\n" + NMEA.cycle("120000")
        let (fixes, statistics) = NMEA.decode(input)
        #expect(statistics.garbageLines == 1)
        #expect(fixes.count == 1)
    }

    @Test func overlongLinesAreRejected() {
        // Two sentences merged without their line end, checksum recomputed: a known Garmin fault.
        let merged = NMEA.sentence("GPRMC,120000,A,4807.038,N,01131.000,E,0.0,0.0,\(NMEA.rmcDate),,GPGGA,120000,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,")
        let (fixes, statistics) = NMEA.decode(merged)
        #expect(fixes.isEmpty)
        #expect(statistics.overlong == 1)
    }

    @Test func splittingTheInputAnywhereChangesNothing() {
        let input = Array((NMEA.cycle("120000") + "\u{0}\u{1}junk" + NMEA.cycle("120001") + NMEA.cycle("120002")).utf8)
        let whole = NMEA.decode(input)
        for chunkSize in [1, 2, 3, 7, 64] {
            var decoder = NMEADecoder()
            var fixes: [Fix] = []
            var start = 0
            while start < input.count {
                let end = min(start + chunkSize, input.count)
                decoder.consume(input[start..<end]) { fixes.append($0) }
                start = end
            }
            decoder.finish { fixes.append($0) }
            #expect(fixes == whole.fixes, "chunks of \(chunkSize)")
            #expect(decoder.statistics == whole.statistics, "chunks of \(chunkSize)")
        }
        #expect(whole.fixes.count == 3)
    }

    @Test func anOverlongPartialLineAcrossChunksIsRejected() {
        var decoder = NMEADecoder()
        var fixes: [Fix] = []
        decoder.consume(Array(("$GPTXT," + String(repeating: "A", count: 300)).utf8)) { fixes.append($0) }
        decoder.consume(Array(("\r\n" + NMEA.cycle("120000")).utf8)) { fixes.append($0) }
        decoder.finish { fixes.append($0) }
        #expect(decoder.statistics.overlong == 1)
        #expect(fixes.count == 1)
    }
}
