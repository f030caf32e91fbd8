/// A location report body (0x0200, and each item of 0x0704 and the answer 0x0201): alarm flags,
/// status bits, position in 1e-6 degrees with the hemispheres in the status, altitude, speed,
/// heading, the time in GMT+8, and additional items.
public struct JT808Position: Sendable, Equatable {
    /// Alarm flag bits (bit 0: emergency alarm, the one a panic button raises).
    public var alarm: UInt32
    /// Status bits (bit 0: ACC on, bit 1: positioned, bit 2: south latitude, bit 3: west longitude).
    public var status: UInt32
    /// Latitude and longitude in millionths of a degree, without sign (the status bits carry it).
    public var latitudeE6: UInt32
    public var longitudeE6: UInt32
    /// Altitude in metres (WORD: 0…65535, so the standard has no depth below sea level).
    public var altitudeMetres: UInt16
    /// Speed in 0.1 km/h.
    public var speedTenthsKmh: UInt16
    /// Heading 0–359 degrees, clockwise from north.
    public var heading: UInt16
    /// The report's time; nil when the terminal sent zeros (no time known).
    public var time: UTCTime?
    public var items: [JT808AdditionalItem]

    public static let emergencyAlarm: UInt32 = 1 << 0
    public static let positionedStatus: UInt32 = 1 << 1
    public static let southStatus: UInt32 = 1 << 2
    public static let westStatus: UInt32 = 1 << 3

    /// The fixed part before the additional items.
    static let fixedBytes = 28

    public init(alarm: UInt32 = 0, status: UInt32 = 0, latitudeE6: UInt32 = 0, longitudeE6: UInt32 = 0, altitudeMetres: UInt16 = 0,
                speedTenthsKmh: UInt16 = 0, heading: UInt16 = 0, time: UTCTime?, items: [JT808AdditionalItem] = []) {
        self.alarm = alarm
        self.status = status
        self.latitudeE6 = latitudeE6
        self.longitudeE6 = longitudeE6
        self.altitudeMetres = altitudeMetres
        self.speedTenthsKmh = speedTenthsKmh
        self.heading = heading
        self.time = time
        self.items = items
    }

    /// Signed latitude in degrees (south negative).
    public var latitude: Double { Double(latitudeE6) / 1e6 * (status & Self.southStatus != 0 ? -1 : 1) }
    /// Signed longitude in degrees (west negative).
    public var longitude: Double { Double(longitudeE6) / 1e6 * (status & Self.westStatus != 0 ? -1 : 1) }
    public var isPositioned: Bool { status & Self.positionedStatus != 0 }
    public var speedKmh: Double { Double(speedTenthsKmh) / 10 }

    /// Additional item 0x01: odometer in km (the wire has 0.1 km).
    public var mileageKm: Double? { item(.mileage).flatMap { $0.count == 4 ? Double(bigEndian($0)) / 10 : nil } }
    /// Additional item 0x31: GNSS satellites in use.
    public var satellites: Int? { item(.satellites).flatMap { $0.count == 1 ? Int($0[0]) : nil } }

    public func item(_ id: JT808AdditionalItem.ID) -> [UInt8]? {
        items.first { $0.id == id.rawValue }?.value
    }

    func encode(into out: inout WireWriter) {
        out.uint32(alarm)
        out.uint32(status)
        out.uint32(latitudeE6)
        out.uint32(longitudeE6)
        out.uint16(altitudeMetres)
        out.uint16(speedTenthsKmh)
        out.uint16(heading)
        out.raw(JT808Time.encode(time))
        for item in items {
            out.byte(item.id)
            out.byte(UInt8(truncatingIfNeeded: item.value.count))
            out.raw(item.value.prefix(255))
        }
    }

    public var encoded: [UInt8] {
        var out = WireWriter()
        encode(into: &out)
        return out.bytes
    }

    /// Reads a report from `reader` up to `end` (the body's end, or a batch item's); `field` names
    /// it in errors (`body` or `body.items[3]`).
    static func decode(_ reader: inout WireReader, end: Int, field: String) throws(WireError) -> JT808Position {
        let alarm = try reader.uint32(field + ".alarm")
        let status = try reader.uint32(field + ".status")
        let latitude = try reader.uint32(field + ".latitude")
        let longitude = try reader.uint32(field + ".longitude")
        let altitude = try reader.uint16(field + ".altitude")
        let speed = try reader.uint16(field + ".speed")
        let heading = try reader.uint16(field + ".direction")
        let timeAt = reader.offset
        let time = try JT808Time.decode(try reader.raw(6, field + ".time"), field: field + ".time", offset: timeAt)
        var items: [JT808AdditionalItem] = []
        while reader.offset < end {
            let at = reader.offset
            let id = try reader.byte(field + ".extra[\(items.count)].id")
            let length = Int(try reader.byte(field + ".extra[\(items.count)].length"))
            guard length <= end - reader.offset else {
                throw reader.failure(field + ".extra[\(items.count)]",
                                     "item \(Hex.encode([id])) says \(length) bytes, \(end - reader.offset) left in the report", at: at)
            }
            items.append(JT808AdditionalItem(id: id, value: Array(try reader.raw(length, field + ".extra[\(items.count)].value"))))
        }
        return JT808Position(alarm: alarm, status: status, latitudeE6: latitude, longitudeE6: longitude, altitudeMetres: altitude,
                             speedTenthsKmh: speed, heading: heading, time: time, items: items)
    }
}

/// An additional information item of a location report: id, and its value bytes as sent.
public struct JT808AdditionalItem: Sendable, Equatable {
    public var id: UInt8
    public var value: [UInt8]

    /// The items the standard defines that this code reads or writes.
    public enum ID: UInt8, Sendable {
        /// DWORD, 0.1 km.
        case mileage = 0x01
        /// WORD, 0.1 L.
        case fuel = 0x02
        /// WORD, 0.1 km/h, from the tachograph.
        case recordedSpeed = 0x03
        /// BYTE, mobile network signal strength.
        case signalStrength = 0x30
        /// BYTE, GNSS satellites in use.
        case satellites = 0x31
    }

    public init(id: UInt8, value: [UInt8]) {
        self.id = id
        self.value = value
    }

    public static func mileage(tenthsKm: UInt32) -> JT808AdditionalItem {
        var out = WireWriter()
        out.uint32(tenthsKm)
        return JT808AdditionalItem(id: ID.mileage.rawValue, value: out.bytes)
    }

    public static func satellites(_ count: UInt8) -> JT808AdditionalItem {
        JT808AdditionalItem(id: ID.satellites.rawValue, value: [count])
    }
}

/// The standard's time: six BCD bytes YYMMDDhhmmss in GMT+8 (Beijing time), years 2000–2099.
public enum JT808Time {
    static let offsetMilliseconds: Int64 = 8 * 3_600_000

    /// The UTC instant of a BCD time, nil for all zeros (a terminal without time); a byte that is
    /// not BCD or a field out of range is an error naming it.
    static func decode(_ bytes: ArraySlice<UInt8>, field: String, offset: Int) throws(WireError) -> UTCTime? {
        if bytes.allSatisfy({ $0 == 0 }) { return nil }
        var values: [Int] = []
        for (index, byte) in bytes.enumerated() {
            guard let value = BCD.value(byte) else {
                throw WireError(field: field, offset: offset + index, message: "byte \(Hex.encode([byte])) is not BCD")
            }
            values.append(value)
        }
        let (year, month, day, hour, minute, second) = (2000 + values[0], values[1], values[2], values[3], values[4], values[5])
        let monthDays = [31, year % 4 == 0 ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard (1...12).contains(month), (1...monthDays[month - 1]).contains(day), hour < 24, minute < 60, second < 60 else {
            throw WireError(field: field, offset: offset, message: "\(Hex.encode(bytes)) is not a date and time (YYMMDDhhmmss)")
        }
        let local = UTCTime(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        return local.adding(milliseconds: -offsetMilliseconds)
    }

    /// BCD GMT+8 of `time` (whole seconds); zeros for nil or a time outside 2000–2099 in GMT+8.
    static func encode(_ time: UTCTime?) -> [UInt8] {
        guard let time else { return [UInt8](repeating: 0, count: 6) }
        let millis = time.millisecondsSinceEpoch
        guard millis > Int64.min / 2, millis < Int64.max / 2 else { return [UInt8](repeating: 0, count: 6) }
        let c = time.adding(milliseconds: offsetMilliseconds).civil
        guard (2000...2099).contains(c.year) else { return [UInt8](repeating: 0, count: 6) }
        return [c.year - 2000, c.month, c.day, c.hour, c.minute, c.second].map(BCD.byte)
    }
}

func bigEndian(_ bytes: [UInt8]) -> UInt32 {
    bytes.prefix(4).reduce(0) { $0 << 8 | UInt32($1) }
}
