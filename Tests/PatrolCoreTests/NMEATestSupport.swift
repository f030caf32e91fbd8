@testable import PatrolCore

/// Builds NMEA input for tests: sentences with correct checksums, decoded in one go.
enum NMEA {
    /// `$BODY*hh\r\n` with the right checksum.
    static func sentence(_ body: String) -> String {
        let sum = body.utf8.reduce(UInt8(0), ^)
        let hex = String(sum, radix: 16, uppercase: true)
        return "$" + body + "*" + (hex.count == 1 ? "0" + hex : hex) + "\r\n"
    }

    /// Decodes `input` (whole, then finished) and returns the fixes and the decoder's statistics.
    static func decode(_ input: String, rollover: WeekRollover = WeekRollover()) -> (fixes: [Fix], statistics: NMEAStatistics) {
        decode(Array(input.utf8), rollover: rollover)
    }

    static func decode(_ bytes: [UInt8], rollover: WeekRollover = WeekRollover()) -> (fixes: [Fix], statistics: NMEAStatistics) {
        var decoder = NMEADecoder(rollover: rollover)
        var fixes: [Fix] = []
        decoder.consume(bytes) { fixes.append($0) }
        decoder.finish { fixes.append($0) }
        return (fixes, decoder.statistics)
    }

    /// A date after the default rollover pivot, so times come out unchanged.
    static let rmcDate = "120326" // 2026-03-12

    /// A 3D cycle at `time` (hhmmss.ss): RMC, GGA and GSA as a u-blox sends them.
    static func cycle(_ time: String, talker: String = "GP", latitude: String = "4807.038", longitude: String = "01131.000") -> String {
        sentence("\(talker)RMC,\(time),A,\(latitude),N,\(longitude),E,022.4,084.4,\(rmcDate),003.1,W,A")
            + sentence("\(talker)GGA,\(time),\(latitude),N,\(longitude),E,1,08,0.9,545.4,M,46.9,M,,")
            + sentence("\(talker)GSA,A,3,04,05,,09,12,,,24,,,,,2.5,1.3,2.1")
    }
}
