/// A recorded track point with its sequence number, in integers of fixed units: the one point type
/// the store hands to outputs and every wire carries, so the centre stores exactly what the agent
/// recorded and each protocol converts from one definition (the centre's delta columns stay small).
public struct TrackRecord: Sendable, Equatable {
    public var sequence: UInt64
    public var timeMilliseconds: Int64
    /// Degrees × 10⁷ (about 1 cm), the resolution receivers report.
    public var latitudeE7: Int64
    public var longitudeE7: Int64
    public var mode: FixMode
    public var altitudeDecimetres: Int64?
    public var speedCentimetresPerSecond: Int64?
    /// Degrees true × 100.
    public var trackCentidegrees: Int64?
    public var hdopHundredths: Int64?
    public var satellitesUsed: Int64?

    public init(sequence: UInt64, timeMilliseconds: Int64, latitudeE7: Int64, longitudeE7: Int64,
                mode: FixMode = .threeD, altitudeDecimetres: Int64? = nil, speedCentimetresPerSecond: Int64? = nil,
                trackCentidegrees: Int64? = nil, hdopHundredths: Int64? = nil, satellitesUsed: Int64? = nil) {
        self.sequence = sequence
        self.timeMilliseconds = timeMilliseconds
        self.latitudeE7 = latitudeE7
        self.longitudeE7 = longitudeE7
        self.mode = mode
        self.altitudeDecimetres = altitudeDecimetres
        self.speedCentimetresPerSecond = speedCentimetresPerSecond
        self.trackCentidegrees = trackCentidegrees
        self.hdopHundredths = hdopHundredths
        self.satellitesUsed = satellitesUsed
    }

    /// Quantises a recorded point: the one place a point's doubles become the integers the store
    /// and every wire keep (track points are always stamped from GNSS time, see `TimeSource`).
    public init(sequence: UInt64, point: TrackPoint) {
        // A value no Int64 can hold (never a real fix) is left out rather than trapping.
        func scaled(_ value: Double?, _ factor: Double) -> Int64? {
            value.flatMap { value in
                let product = (value * factor).rounded()
                return product.isFinite && abs(product) < 9e18 ? Int64(product) : nil
            }
        }
        self.init(sequence: sequence, timeMilliseconds: point.time.millisecondsSinceEpoch,
                  latitudeE7: scaled(point.coordinate.latitude, 1e7) ?? 0,
                  longitudeE7: scaled(point.coordinate.longitude, 1e7) ?? 0,
                  mode: point.mode, altitudeDecimetres: scaled(point.altitudeMSL, 10),
                  speedCentimetresPerSecond: scaled(point.speed, 100), trackCentidegrees: scaled(point.track, 100),
                  hdopHundredths: scaled(point.hdop, 100), satellitesUsed: point.satellitesUsed.map(Int64.init))
    }

    /// The recorded point again, as the encoders (GPX, GeoJSON, CSV) take it.
    public var trackPoint: TrackPoint {
        TrackPoint(time: UTCTime(millisecondsSinceEpoch: timeMilliseconds),
                   coordinate: Coordinate(latitude: Double(latitudeE7) / 1e7, longitude: Double(longitudeE7) / 1e7),
                   mode: mode, altitudeMSL: altitudeDecimetres.map { Double($0) / 10 },
                   speed: speedCentimetresPerSecond.map { Double($0) / 100 }, track: trackCentidegrees.map { Double($0) / 100 },
                   hdop: hdopHundredths.map { Double($0) / 100 }, satellitesUsed: satellitesUsed.map { Int($0) })
    }
}
