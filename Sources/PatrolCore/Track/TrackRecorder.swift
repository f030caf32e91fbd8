/// When to record a point while in one motion state, by the rules fleet trackers use
/// (Teltonika's "min period / min distance / min angle / min speed delta").
///
/// A point is recorded when at least `minimumInterval` has passed since the last one and any
/// rule fires: `period` elapsed, moved `distance`, heading changed by `headingChange`, or speed
/// changed by `speedChange`. A nil rule never fires.
public struct RecordingRules: Sendable, Equatable {
    /// Seconds: record at least this often, even standing still (so "no news" is visible).
    public var period: Double?
    /// Seconds: never record more often than this.
    public var minimumInterval: Double
    /// Metres moved since the last recorded point.
    public var distance: Double?
    /// Degrees of heading change; only counted above `headingMinimumSpeed`, since a
    /// slow or standing receiver's heading is noise.
    public var headingChange: Double?
    /// Metres per second of speed change.
    public var speedChange: Double?

    public init(period: Double?, minimumInterval: Double = 1, distance: Double?, headingChange: Double?, speedChange: Double?) {
        self.period = period
        self.minimumInterval = minimumInterval
        self.distance = distance
        self.headingChange = headingChange
        self.speedChange = speedChange
    }
}

/// The complete recording profile: rules for moving and for stopped, and what "moving" means.
public struct RecordingProfile: Sendable, Equatable {
    public var moving: RecordingRules
    public var stopped: RecordingRules
    /// Metres per second above which the unit counts as moving.
    public var movingSpeed: Double
    /// Headings below this speed are ignored.
    public var headingMinimumSpeed: Double
    /// Record every fix that passes the filter, ignoring the rules (for audits and tests).
    public var recordEveryFix: Bool

    public init(moving: RecordingRules, stopped: RecordingRules, movingSpeed: Double,
                headingMinimumSpeed: Double, recordEveryFix: Bool = false) {
        self.moving = moving
        self.stopped = stopped
        self.movingSpeed = movingSpeed
        self.headingMinimumSpeed = headingMinimumSpeed
        self.recordEveryFix = recordEveryFix
    }

    /// A patrol car: a point every 100 m or 15° of turn while driving (≈ every 7 s at 50 km/h,
    /// dense enough for 100 m coverage cells), every 5 minutes when parked.
    public static let car = RecordingProfile(
        moving: RecordingRules(period: 30, minimumInterval: 1, distance: 100, headingChange: 15, speedChange: 10 / 3.6),
        stopped: RecordingRules(period: 300, minimumInterval: 1, distance: 50, headingChange: nil, speedChange: nil),
        movingSpeed: 5 / 3.6, headingMinimumSpeed: 10 / 3.6)

    /// A guard on foot or a booth unit: every 20 m or 30° while walking, every 10 minutes at rest.
    public static let foot = RecordingProfile(
        moving: RecordingRules(period: 15, minimumInterval: 1, distance: 20, headingChange: 30, speedChange: nil),
        stopped: RecordingRules(period: 600, minimumInterval: 1, distance: 25, headingChange: nil, speedChange: nil),
        movingSpeed: 0.6, headingMinimumSpeed: 1)

    /// Every fix is kept.
    public static let everyFix = RecordingProfile(
        moving: RecordingProfile.car.moving, stopped: RecordingProfile.car.stopped,
        movingSpeed: RecordingProfile.car.movingSpeed, headingMinimumSpeed: RecordingProfile.car.headingMinimumSpeed,
        recordEveryFix: true)
}

/// Decides which filtered fixes become track points.
public struct TrackRecorder: Sendable {
    public var profile: RecordingProfile
    public private(set) var isMoving = false
    private var last: TrackPoint?

    public init(profile: RecordingProfile) {
        self.profile = profile
    }

    /// The point to record for this (already filtered) fix, or nil to skip it.
    public mutating func record(_ fix: Fix) -> TrackPoint? {
        guard let time = fix.time, let coordinate = fix.coordinate else { return nil }
        let point = TrackPoint(time: time, coordinate: coordinate, mode: fix.mode,
                               altitudeMSL: fix.mode == .threeD ? fix.altitudeMSL : nil,
                               speed: fix.speed, track: fix.track, hdop: fix.hdop, satellitesUsed: fix.satellitesUsed)
        let wasMoving = isMoving
        isMoving = (fix.speed ?? 0) >= profile.movingSpeed
        guard shouldRecord(point, motionChanged: wasMoving != isMoving) else { return nil }
        last = point
        return point
    }

    private func shouldRecord(_ point: TrackPoint, motionChanged: Bool) -> Bool {
        guard let last else { return true }
        if profile.recordEveryFix { return true }
        let rules = isMoving ? profile.moving : profile.stopped
        let elapsed = last.time.seconds(to: point.time)
        guard elapsed >= rules.minimumInterval else { return false }
        // Starting and stopping are the moments a patrol log is read for.
        if motionChanged { return true }
        if let period = rules.period, elapsed >= period { return true }
        if let distance = rules.distance, Geodesy.distance(last.coordinate, point.coordinate) >= distance { return true }
        if let headingChange = rules.headingChange, let heading = point.track, let lastHeading = last.track,
           (point.speed ?? 0) >= profile.headingMinimumSpeed,
           Geodesy.headingDifference(heading, lastHeading) >= headingChange { return true }
        if let speedChange = rules.speedChange, let speed = point.speed, let lastSpeed = last.speed,
           abs(speed - lastSpeed) >= speedChange { return true }
        return false
    }
}
