/// A UTC instant with millisecond resolution, the resolution gpsd reports.
///
/// Kept as an integer so that times compare and hash exactly, and so the core
/// needs no Foundation `Date` (the agent is built without full Foundation).
public struct UTCTime: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public var millisecondsSinceEpoch: Int64

    public init(millisecondsSinceEpoch: Int64) {
        self.millisecondsSinceEpoch = millisecondsSinceEpoch
    }

    /// Builds a time from civil UTC fields; `millisecond` may be 0...999.
    public init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0, millisecond: Int = 0) {
        let days = CivilDate.daysSinceEpoch(year: year, month: month, day: day)
        let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        self.millisecondsSinceEpoch = seconds * 1000 + Int64(millisecond)
    }

    public static func < (lhs: UTCTime, rhs: UTCTime) -> Bool {
        lhs.millisecondsSinceEpoch < rhs.millisecondsSinceEpoch
    }

    /// Seconds from `self` to `other` (positive when `other` is later).
    public func seconds(to other: UTCTime) -> Double {
        Double(other.millisecondsSinceEpoch - millisecondsSinceEpoch) / 1000
    }

    public func adding(milliseconds: Int64) -> UTCTime {
        UTCTime(millisecondsSinceEpoch: millisecondsSinceEpoch + milliseconds)
    }

    public func adding(seconds: Double) -> UTCTime {
        adding(milliseconds: Int64((seconds * 1000).rounded()))
    }

    /// The civil UTC fields of this instant.
    public var civil: (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, millisecond: Int) {
        var ms = millisecondsSinceEpoch
        var days = ms / 86_400_000
        ms -= days * 86_400_000
        if ms < 0 { ms += 86_400_000; days -= 1 }
        let (y, m, d) = CivilDate.fromDaysSinceEpoch(Int(days))
        let msOfDay = Int(ms)
        return (y, m, d, msOfDay / 3_600_000, (msOfDay / 60_000) % 60, (msOfDay / 1000) % 60, msOfDay % 1000)
    }

    /// ISO 8601 with milliseconds, as gpsd prints it: `2019-03-12T10:51:54.408Z`.
    public var iso8601: String {
        let c = civil
        var s = ""
        s.reserveCapacity(24)
        s += pad(c.year, 4); s += "-"; s += pad(c.month, 2); s += "-"; s += pad(c.day, 2)
        s += "T"; s += pad(c.hour, 2); s += ":"; s += pad(c.minute, 2); s += ":"; s += pad(c.second, 2)
        s += "."; s += pad(c.millisecond, 3); s += "Z"
        return s
    }

    public var description: String { iso8601 }

    /// Parses `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS[.fff]][Z|±HH:MM]`; a missing zone means UTC.
    public init?(iso8601 text: some StringProtocol) {
        let b = Array(text.utf8)
        var i = 0
        func number(_ digits: Int) -> Int? {
            guard i + digits <= b.count else { return nil }
            var v = 0
            for k in i..<(i + digits) {
                let c = b[k]
                guard c >= 48, c <= 57 else { return nil }
                v = v * 10 + Int(c - 48)
            }
            i += digits
            return v
        }
        func expect(_ c: UInt8) -> Bool {
            guard i < b.count, b[i] == c else { return false }
            i += 1
            return true
        }
        guard let year = number(4), expect(45), let month = number(2), expect(45), let day = number(2),
              (1...12).contains(month), (1...31).contains(day) else { return nil }
        var hour = 0, minute = 0, second = 0, millisecond = 0, offsetMinutes = 0
        if i < b.count {
            guard b[i] == 84 || b[i] == 116 || b[i] == 32 else { return nil } // 'T', 't', ' '
            i += 1
            guard let h = number(2), expect(58), let m = number(2), h < 24, m < 60 else { return nil }
            hour = h; minute = m
            if expect(58) {
                guard let s = number(2), s < 61 else { return nil }
                second = min(s, 59)
                if expect(46) {
                    var scale = 100
                    var any = false
                    while i < b.count, b[i] >= 48, b[i] <= 57 {
                        millisecond += Int(b[i] - 48) * scale
                        scale /= 10
                        i += 1
                        any = true
                    }
                    guard any else { return nil }
                }
            }
            if i < b.count {
                if b[i] == 90 || b[i] == 122 { i += 1 } // 'Z'
                else if b[i] == 43 || b[i] == 45 { // '+' '-'
                    let sign = b[i] == 45 ? -1 : 1
                    i += 1
                    guard let oh = number(2) else { return nil }
                    _ = expect(58)
                    guard let om = number(2) else { return nil }
                    offsetMinutes = sign * (oh * 60 + om)
                } else { return nil }
            }
            guard i == b.count else { return nil }
        }
        self.init(year: year, month: month, day: day, hour: hour, minute: minute, second: second, millisecond: millisecond)
        millisecondsSinceEpoch -= Int64(offsetMinutes) * 60_000
    }
}

private func pad(_ value: Int, _ width: Int) -> String {
    let digits = String(value)
    return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
}

/// Proleptic Gregorian calendar arithmetic (Howard Hinnant's algorithms).
public enum CivilDate {
    /// 0 = Sunday … 6 = Saturday, of the day `day` days after 1970-01-01 (a Thursday).
    public static func weekday(ofDay day: Int) -> Int {
        ((day % 7) + 7 + 4) % 7
    }

    public static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    public static func fromDaysSinceEpoch(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}
