/// Where the time of a recorded point came from. Points are only ever stamped from the
/// receiver's own UTC: a board without a real-time clock boots with a wrong date, so the
/// system clock never stamps a point.
public enum TimeSource: String, Sendable, Equatable, CaseIterable {
    /// UTC from the GNSS fix itself (week rollover corrected).
    case gnss
}

/// One recorded point of a patrol track, as stored and exported.
public struct TrackPoint: Sendable, Equatable {
    public var time: UTCTime
    public var timeSource: TimeSource
    public var coordinate: Coordinate
    public var mode: FixMode
    /// Metres above mean sea level, 3D fixes only.
    public var altitudeMSL: Double?
    /// Metres per second.
    public var speed: Double?
    /// Degrees true.
    public var track: Double?
    public var hdop: Double?
    public var satellitesUsed: Int?

    public init(time: UTCTime, timeSource: TimeSource = .gnss, coordinate: Coordinate, mode: FixMode = .threeD,
                altitudeMSL: Double? = nil, speed: Double? = nil, track: Double? = nil,
                hdop: Double? = nil, satellitesUsed: Int? = nil) {
        self.time = time
        self.timeSource = timeSource
        self.coordinate = coordinate
        self.mode = mode
        self.altitudeMSL = altitudeMSL
        self.speed = speed
        self.track = track
        self.hdop = hdop
        self.satellitesUsed = satellitesUsed
    }
}
