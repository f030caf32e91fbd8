/// A time zone's offsets from UTC over time, read from a compiled IANA zone file (TZif, RFC 8536:
/// `/usr/share/zoneinfo/Asia/Shanghai`), without Foundation: the transitions it lists, then its
/// footer rule (a POSIX TZ string such as `CET-1CEST,M3.5.0,M10.5.0/3`) for times after them.
///
/// Pure: the caller reads the file; every failure names what is wrong with the bytes.
public struct TimeZoneRules: Sendable, Equatable {
    /// The IANA name, e.g. `Asia/Shanghai`, for reports.
    public var name: String
    /// UTC seconds at which the offset changes, ascending, and the offset from then on.
    private var transitions: [(at: Int64, offset: Int32)]
    /// The offset before the first transition.
    private var initialOffset: Int32
    /// The rule after the last transition; nil: the last offset holds.
    private var footer: PosixZoneRule?

    public static func == (lhs: TimeZoneRules, rhs: TimeZoneRules) -> Bool {
        lhs.name == rhs.name && lhs.initialOffset == rhs.initialOffset && lhs.footer == rhs.footer
            && lhs.transitions.elementsEqual(rhs.transitions) { $0.at == $1.at && $0.offset == $1.offset }
    }

    /// UTC itself.
    public static let utc = TimeZoneRules(name: "UTC", transitions: [], initialOffset: 0, footer: nil)

    init(name: String, transitions: [(at: Int64, offset: Int32)], initialOffset: Int32, footer: PosixZoneRule?) {
        self.name = name
        self.transitions = transitions
        self.initialOffset = initialOffset
        self.footer = footer
    }

    /// Seconds east of UTC in force at `time`.
    public func offsetSeconds(at time: UTCTime) -> Int {
        let seconds = time.millisecondsSinceEpoch / 1000 - (time.millisecondsSinceEpoch % 1000 < 0 ? 1 : 0)
        if let footer, let last = transitions.last, seconds >= last.at { return footer.offsetSeconds(atUTC: seconds) }
        if transitions.isEmpty, let footer { return footer.offsetSeconds(atUTC: seconds) }
        var low = 0, high = transitions.count
        while low < high {
            let middle = (low + high) / 2
            if transitions[middle].at <= seconds { low = middle + 1 } else { high = middle }
        }
        return Int(low == 0 ? initialOffset : transitions[low - 1].offset)
    }

    /// The UTC instant of a local wall-clock time, given as milliseconds of a UTC-like count
    /// (`UTCTime(year:…)` of the local reading). A time skipped by a change (spring forward) is
    /// taken as that many minutes after the change; a time that occurs twice (fall back) is its
    /// first occurrence.
    public func utc(ofLocal local: UTCTime) -> UTCTime {
        let wall = local.millisecondsSinceEpoch
        // The offset before and after any change near this time: try both, keep one that reads back.
        let before = Int64(offsetSeconds(at: UTCTime(millisecondsSinceEpoch: wall - 86_400_000))) * 1000
        let after = Int64(offsetSeconds(at: UTCTime(millisecondsSinceEpoch: wall + 86_400_000))) * 1000
        for offset in [max(before, after), min(before, after)] {
            let candidate = UTCTime(millisecondsSinceEpoch: wall - offset)
            if Int64(offsetSeconds(at: candidate)) * 1000 == offset { return candidate }
        }
        // In a gap: the wall time does not exist; the instant the same distance after the change.
        return UTCTime(millisecondsSinceEpoch: wall - before)
    }

    /// `time` as the local wall clock reads it, as a UTC-like count (for calendar arithmetic).
    public func local(_ time: UTCTime) -> UTCTime {
        time.adding(milliseconds: Int64(offsetSeconds(at: time)) * 1000)
    }

    /// ISO 8601 with the local offset: `2026-03-01T09:00:00.000+08:00`.
    public func iso8601(_ time: UTCTime) -> String {
        let local = local(time).iso8601
        return local.hasSuffix("Z") ? String(local.dropLast()) + offsetText(at: time) : local
    }

    /// `+08:00`, `-05:00`, `Z`.
    public func offsetText(at time: UTCTime) -> String {
        let offset = offsetSeconds(at: time)
        guard offset != 0 else { return "Z" }
        let minutes = abs(offset) / 60
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return (offset < 0 ? "-" : "+") + two(minutes / 60) + ":" + two(minutes % 60)
    }

    /// Reads a TZif file's bytes (version 1 to 4); `name` is the zone's IANA name.
    public static func parse(_ bytes: [UInt8], name: String) throws(TimeZoneError) -> TimeZoneRules {
        var reader = TZifReader(bytes: bytes)
        let first = try reader.header()
        guard first.version >= 2 else {
            let data = try reader.block(first, timeSize: 4)
            return TimeZoneRules(name: name, transitions: data.transitions, initialOffset: data.initialOffset, footer: nil)
        }
        try reader.skip(first.blockSize(timeSize: 4), "version 1 data block")
        let second = try reader.header()
        let data = try reader.block(second, timeSize: 8)
        let footerText = try reader.footer()
        let footer = footerText.isEmpty ? nil : try PosixZoneRule(footerText)
        return TimeZoneRules(name: name, transitions: data.transitions, initialOffset: data.initialOffset, footer: footer)
    }
}

/// Why a zone file or rule cannot be used.
public struct TimeZoneError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String

    init(_ description: String) {
        self.description = description
    }
}

/// Reads the parts of a TZif file, each length checked before it is used.
private struct TZifReader {
    let bytes: [UInt8]
    var offset = 0

    struct Header {
        var version: Int
        var isUTCCount, isStandardCount, leapCount, timeCount, typeCount, characterCount: Int

        func blockSize(timeSize: Int) -> Int {
            timeCount * timeSize + timeCount + typeCount * 6 + characterCount + leapCount * (timeSize + 4)
                + isStandardCount + isUTCCount
        }
    }

    mutating func take(_ count: Int, _ what: String) throws(TimeZoneError) -> ArraySlice<UInt8> {
        guard count >= 0, count <= bytes.count - offset else {
            throw TimeZoneError("the zone file ends inside its \(what) (byte \(offset) of \(bytes.count)): it is not a complete TZif file")
        }
        defer { offset += count }
        return bytes[offset..<(offset + count)]
    }

    mutating func skip(_ count: Int, _ what: String) throws(TimeZoneError) {
        _ = try take(count, what)
    }

    func bigEndian(_ slice: ArraySlice<UInt8>) -> Int64 {
        var value: UInt64 = 0
        for byte in slice { value = value << 8 | UInt64(byte) }
        // Sign-extend from the slice's width (4 or 8 bytes).
        let shift = UInt64(64 - 8 * slice.count)
        return Int64(bitPattern: value << shift) >> Int64(shift)
    }

    mutating func header() throws(TimeZoneError) -> Header {
        let magic = try take(4, "header")
        guard Array(magic) == Array("TZif".utf8) else { throw TimeZoneError("not a compiled zone file (TZif): it does not start with \"TZif\"") }
        let versionByte = try take(1, "header").first ?? 0
        let version = versionByte == 0 ? 1 : Int(versionByte) - 48
        guard (1...4).contains(version) else { throw TimeZoneError("TZif version byte \(versionByte) is not 0, '2', '3' or '4'") }
        try skip(15, "header")
        var counts: [Int] = []
        for _ in 0..<6 {
            let count = bigEndian(try take(4, "header"))
            guard (0...1_000_000).contains(count) else { throw TimeZoneError("a TZif header count is \(count), out of range") }
            counts.append(Int(count))
        }
        guard counts[4] >= 1 else { throw TimeZoneError("the zone file defines no local time type") }
        return Header(version: version, isUTCCount: counts[0], isStandardCount: counts[1], leapCount: counts[2],
                      timeCount: counts[3], typeCount: counts[4], characterCount: counts[5])
    }

    mutating func block(_ header: Header, timeSize: Int) throws(TimeZoneError) -> (transitions: [(at: Int64, offset: Int32)], initialOffset: Int32) {
        let times = try take(header.timeCount * timeSize, "transition times")
        let indices = try take(header.timeCount, "transition types")
        let types = try take(header.typeCount * 6, "local time types")
        try skip(header.characterCount + header.leapCount * (timeSize + 4) + header.isStandardCount + header.isUTCCount, "data block")
        var offsets: [Int32] = []
        var isDST: [Bool] = []
        for index in 0..<header.typeCount {
            let start = types.startIndex + index * 6
            let offset = bigEndian(types[start..<(start + 4)])
            guard (-93_600...93_600).contains(offset) else { throw TimeZoneError("local time type \(index) has offset \(offset) s, beyond ±26 h") }
            offsets.append(Int32(offset))
            isDST.append(types[start + 4] != 0)
        }
        var transitions: [(at: Int64, offset: Int32)] = []
        transitions.reserveCapacity(header.timeCount)
        for index in 0..<header.timeCount {
            let start = times.startIndex + index * timeSize
            let at = bigEndian(times[start..<(start + timeSize)])
            let type = Int(indices[indices.startIndex + index])
            guard type < offsets.count else { throw TimeZoneError("transition \(index) names local time type \(type) of \(offsets.count)") }
            guard transitions.last.map({ $0.at < at }) ?? true else { throw TimeZoneError("transition \(index) is not after the one before") }
            transitions.append((at, offsets[type]))
        }
        // RFC 8536: before the first transition, the first standard-time type (else type 0).
        let initial = offsets[isDST.firstIndex(of: false) ?? 0]
        return (transitions, initial)
    }

    mutating func footer() throws(TimeZoneError) -> String {
        guard offset < bytes.count else { return "" }
        let rest = bytes[offset...]
        guard rest.first == 0x0A, let end = rest.dropFirst().firstIndex(of: 0x0A) else {
            throw TimeZoneError("the zone file's footer is not a TZ string between newlines")
        }
        return String(decoding: rest[(rest.startIndex + 1)..<end], as: UTF8.self)
    }
}

/// A POSIX TZ rule as TZif footers carry it: `CST-8`, `CET-1CEST,M3.5.0,M10.5.0/3`,
/// `<+0330>-3:30`. Only month/week/day (`Mm.w.d`) change dates, which is what the tz database emits.
struct PosixZoneRule: Sendable, Equatable {
    /// Seconds east of UTC.
    var standardOffset: Int
    var daylight: Daylight?

    struct Daylight: Sendable, Equatable {
        var offset: Int
        var start: ChangeDate
        var end: ChangeDate
    }

    /// The `w`th (5: last) weekday `d` (0 = Sunday) of month `m`, at `seconds` local time.
    struct ChangeDate: Sendable, Equatable {
        var month: Int, week: Int, weekday: Int, seconds: Int
    }

    init(_ text: String) throws(TimeZoneError) {
        var scanner = Array(text.utf8)[...]
        func fail(_ why: String) -> TimeZoneError { TimeZoneError("zone rule \"\(text)\": \(why)") }
        func name() throws(TimeZoneError) {
            if scanner.first == UInt8(ascii: "<") {
                guard let close = scanner.firstIndex(of: UInt8(ascii: ">")) else { throw fail("an unclosed <name>") }
                scanner = scanner[(close + 1)...]
            } else {
                let letters = scanner.prefix { ($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7A }
                guard letters.count >= 3 else { throw fail("a zone abbreviation of at least three letters is expected") }
                scanner = scanner.dropFirst(letters.count)
            }
        }
        func clock(signed: Bool) throws(TimeZoneError) -> Int {
            var sign = 1
            if signed, let first = scanner.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") {
                sign = first == UInt8(ascii: "-") ? -1 : 1
                scanner = scanner.dropFirst()
            }
            var parts: [Int] = []
            repeat {
                if !parts.isEmpty { scanner = scanner.dropFirst() }
                let digits = scanner.prefix { $0 >= 0x30 && $0 <= 0x39 }
                guard (1...3).contains(digits.count) else { throw fail("a time of hh[:mm[:ss]] is expected") }
                parts.append(digits.reduce(0) { $0 * 10 + Int($1 - 0x30) })
                scanner = scanner.dropFirst(digits.count)
            } while parts.count < 3 && scanner.first == UInt8(ascii: ":")
            guard parts[0] <= 167, parts.dropFirst().allSatisfy({ $0 < 60 }) else { throw fail("a time out of range") }
            return sign * (parts[0] * 3600 + (parts.count > 1 ? parts[1] * 60 : 0) + (parts.count > 2 ? parts[2] : 0))
        }
        func date() throws(TimeZoneError) -> ChangeDate {
            guard scanner.first == UInt8(ascii: "M") else { throw fail("only Mm.w.d change dates are supported") }
            scanner = scanner.dropFirst()
            var fields: [Int] = []
            for index in 0..<3 {
                if index > 0 {
                    guard scanner.first == UInt8(ascii: ".") else { throw fail("Mm.w.d needs three numbers") }
                    scanner = scanner.dropFirst()
                }
                let digits = scanner.prefix { $0 >= 0x30 && $0 <= 0x39 }
                guard (1...2).contains(digits.count) else { throw fail("Mm.w.d needs three numbers") }
                fields.append(digits.reduce(0) { $0 * 10 + Int($1 - 0x30) })
                scanner = scanner.dropFirst(digits.count)
            }
            guard (1...12).contains(fields[0]), (1...5).contains(fields[1]), (0...6).contains(fields[2]) else { throw fail("Mm.w.d out of range") }
            var seconds = 7200
            if scanner.first == UInt8(ascii: "/") {
                scanner = scanner.dropFirst()
                seconds = try clock(signed: true)
            }
            return ChangeDate(month: fields[0], week: fields[1], weekday: fields[2], seconds: seconds)
        }
        try name()
        // POSIX offsets are west of UTC: "CST-8" is 8 hours east.
        standardOffset = -(try clock(signed: true))
        guard !scanner.isEmpty else { daylight = nil; return }
        try name()
        var daylightOffset = standardOffset + 3600
        if let first = scanner.first, first != UInt8(ascii: ",") { daylightOffset = -(try clock(signed: true)) }
        guard scanner.first == UInt8(ascii: ",") else { throw fail("a daylight-saving zone needs its change dates") }
        scanner = scanner.dropFirst()
        let start = try date()
        guard scanner.first == UInt8(ascii: ",") else { throw fail("a daylight-saving zone needs two change dates") }
        scanner = scanner.dropFirst()
        let end = try date()
        guard scanner.isEmpty else { throw fail("unexpected text after the rule") }
        daylight = Daylight(offset: daylightOffset, start: start, end: end)
    }

    func offsetSeconds(atUTC seconds: Int64) -> Int {
        guard let daylight else { return standardOffset }
        let year = CivilDate.fromDaysSinceEpoch(Int((seconds + Int64(standardOffset)).floorDivided(by: 86_400))).year
        let start = utcSeconds(of: daylight.start, year: year, offsetInForce: standardOffset)
        let end = utcSeconds(of: daylight.end, year: year, offsetInForce: daylight.offset)
        let inDaylight = start < end ? (start <= seconds && seconds < end) : !(end <= seconds && seconds < start)
        return inDaylight ? daylight.offset : standardOffset
    }

    private func utcSeconds(of date: ChangeDate, year: Int, offsetInForce: Int) -> Int64 {
        let first = CivilDate.daysSinceEpoch(year: year, month: date.month, day: 1)
        let firstWeekday = CivilDate.weekday(ofDay: first)
        var day = first + (date.weekday - firstWeekday + 7) % 7 + (date.week - 1) * 7
        let nextMonth = date.month == 12 ? CivilDate.daysSinceEpoch(year: year + 1, month: 1, day: 1)
            : CivilDate.daysSinceEpoch(year: year, month: date.month + 1, day: 1)
        while day >= nextMonth { day -= 7 }
        return Int64(day) * 86_400 + Int64(date.seconds) - Int64(offsetInForce)
    }
}

extension Int64 {
    /// Division rounding towards minus infinity (days before 1970 are negative).
    public func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
