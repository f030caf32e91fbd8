/// Why a fix did not make it into the track. Each reason is counted and shown in status.
public enum FixRejection: String, Sendable, CaseIterable {
    /// Mode below the configured minimum (no fix, or 2D when 3D is required).
    case noFix = "no-fix"
    /// The fix carries no UTC time; without it a point cannot be stamped honestly.
    case noTime = "no-time"
    /// The UTC time is outside 2000–2200 (`UplinkLimits.plausibleTimes`): a corrupt date or a
    /// receiver that lost its almanac. The centre would refuse the point, and taking it as the last
    /// fix would make every real fix after it look older.
    case implausibleTime = "implausible-time"
    /// Not newer than the last accepted fix (a repeat or a receiver clock going backwards).
    case notNewer = "not-newer"
    /// Horizontal dilution of precision above the limit.
    case poorAccuracy = "poor-accuracy"
    /// Reaching it from the last accepted fix would need an impossible speed.
    case impossibleJump = "impossible-jump"
}

/// Settings of the fix filter.
public struct FixFilterSettings: Sendable, Equatable {
    public var minimumMode: FixMode
    /// Fixes with a larger HDOP are dropped; nil keeps all.
    public var maximumHDOP: Double?
    /// Metres per second no unit can reach; a fix implying more than this from the last good one is a glitch.
    public var maximumSpeed: Double
    /// After this many consecutive jump rejections the filter trusts the new place: the glitch was the
    /// earlier fix, or the unit really moved while the receiver had no fix.
    public var jumpRejectionsBeforeReanchor: Int

    public init(minimumMode: FixMode = .twoD, maximumHDOP: Double? = 5, maximumSpeed: Double = 70,
                jumpRejectionsBeforeReanchor: Int = 5) {
        self.minimumMode = minimumMode
        self.maximumHDOP = maximumHDOP
        self.maximumSpeed = maximumSpeed
        self.jumpRejectionsBeforeReanchor = jumpRejectionsBeforeReanchor
    }
}

/// Drops fixes that must not become track points, counting each reason.
///
/// Like gpsd's gpxlogger it keeps only fixes of at least 2D with a time that moves forward, and
/// like fleet trackers it also drops fixes with poor accuracy or an impossible jump.
public struct FixFilter: Sendable {
    public var settings: FixFilterSettings
    public private(set) var rejections: [FixRejection: Int] = [:]
    public private(set) var accepted = 0
    private var lastAccepted: (time: UTCTime, coordinate: Coordinate)?
    private var consecutiveJumps = 0

    public init(settings: FixFilterSettings = FixFilterSettings()) {
        self.settings = settings
    }

    /// Returns the reason to drop `fix`, or nil when it is good; updates counters either way.
    public mutating func check(_ fix: Fix) -> FixRejection? {
        let verdict = judge(fix)
        if let verdict {
            rejections[verdict, default: 0] += 1
        } else {
            accepted += 1
        }
        return verdict
    }

    private mutating func judge(_ fix: Fix) -> FixRejection? {
        guard fix.mode >= settings.minimumMode, let coordinate = fix.coordinate, coordinate.isValid else { return .noFix }
        guard let time = fix.time else { return .noTime }
        guard UplinkLimits.plausibleTimes.contains(time.millisecondsSinceEpoch) else { return .implausibleTime }
        if let maximumHDOP = settings.maximumHDOP, let hdop = fix.hdop, hdop > maximumHDOP { return .poorAccuracy }
        if let last = lastAccepted {
            guard time > last.time else { return .notNewer }
            let seconds = last.time.seconds(to: time)
            let impliedSpeed = Geodesy.distance(last.coordinate, coordinate) / seconds
            if impliedSpeed > settings.maximumSpeed {
                consecutiveJumps += 1
                guard consecutiveJumps > settings.jumpRejectionsBeforeReanchor else { return .impossibleJump }
            }
        }
        consecutiveJumps = 0
        lastAccepted = (time, coordinate)
        return nil
    }
}
