/// Quality of a position fix, numbered as gpsd numbers TPV `mode`.
public enum FixMode: Int, Sendable, Comparable, CaseIterable {
    case noFix = 1
    case twoD = 2
    case threeD = 3

    public static func < (lhs: FixMode, rhs: FixMode) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// One merged position report: what a receiver said about one instant, from any source
/// (our NMEA decoder, gpsd, a test). Fields are nil when the source did not say.
///
/// Units follow gpsd's TPV report so that output can be compared with gpsd directly.
public struct Fix: Sendable, Equatable {
    /// UTC time of the fix, already corrected for GPS week rollover.
    public var time: UTCTime?
    public var mode: FixMode
    /// Degrees, WGS84, north positive.
    public var latitude: Double?
    /// Degrees, WGS84, east positive.
    public var longitude: Double?
    /// Metres above mean sea level.
    public var altitudeMSL: Double?
    /// Metres per second over ground.
    public var speed: Double?
    /// Degrees true, 0..<360.
    public var track: Double?
    /// Horizontal dilution of precision.
    public var hdop: Double?
    public var satellitesUsed: Int?

    public init(time: UTCTime? = nil, mode: FixMode = .noFix, latitude: Double? = nil, longitude: Double? = nil,
                altitudeMSL: Double? = nil, speed: Double? = nil, track: Double? = nil,
                hdop: Double? = nil, satellitesUsed: Int? = nil) {
        self.time = time
        self.mode = mode
        self.latitude = latitude
        self.longitude = longitude
        self.altitudeMSL = altitudeMSL
        self.speed = speed
        self.track = track
        self.hdop = hdop
        self.satellitesUsed = satellitesUsed
    }

    /// The position, when the fix has one.
    public var coordinate: Coordinate? {
        guard mode >= .twoD, let latitude, let longitude else { return nil }
        return Coordinate(latitude: latitude, longitude: longitude)
    }
}
