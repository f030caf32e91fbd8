/// What the system clock says at a moment, and whether anything vouches for it.
public struct SystemClockReading: Sendable, Equatable {
    public var time: UTCTime
    /// The monotonic clock when `time` was read, so the reading can be carried to an event's moment.
    public var monotonicMilliseconds: Int64
    /// True when NTP has synchronised the clock or a battery-backed RTC set it.
    public var isTrusted: Bool

    public init(time: UTCTime, monotonicMilliseconds: Int64, isTrusted: Bool) {
        self.time = time
        self.monotonicMilliseconds = monotonicMilliseconds
        self.isTrusted = isTrusted
    }
}

/// Turns an event kind into a complete ``PatrolEvent``: stamps it with the best UTC time and the
/// latest position, both derived from the fixes seen so far and the monotonic clock.
///
/// Why GNSS time first: the monotonic clock cannot jump, so the last fix time carried forward
/// with it stays right even when the system clock is unset or stepped by NTP.
public struct EventStamper: Sendable {
    public let deviceID: String

    /// UTC of the last fix that had a position, and the monotonic time it arrived.
    private var lastFixTime: (utc: UTCTime, monotonic: Int64)?
    private var lastPosition: (coordinate: Coordinate, monotonic: Int64)?
    /// Whether the latest fix report had a position (false once the receiver reports no fix).
    private var hasCurrentFix = false

    public init(deviceID: String) {
        self.deviceID = deviceID
    }

    /// Records a fix report as it arrives.
    ///
    /// Time is taken only from fixes with a position: before its first fix a receiver's clock may
    /// be its own unsynchronised guess.
    /// - Parameter monotonicMilliseconds: the monotonic clock when the report arrived.
    public mutating func fixReceived(_ fix: Fix, at monotonicMilliseconds: Int64) {
        guard let coordinate = fix.coordinate else {
            hasCurrentFix = false
            return
        }
        hasCurrentFix = true
        lastPosition = (coordinate, monotonicMilliseconds)
        if let time = fix.time { lastFixTime = (time, monotonicMilliseconds) }
    }

    /// The complete event, stamped as of the moment it was detected.
    public func stamp(_ detected: DetectedEvent, systemClock: SystemClockReading) -> PatrolEvent {
        PatrolEvent(kind: detected.kind, time: time(at: detected.at, systemClock: systemClock),
                    position: position(at: detected.at), deviceID: deviceID, inputID: detected.inputID,
                    press: detected.press)
    }

    public func time(at monotonicMilliseconds: Int64, systemClock: SystemClockReading) -> EventTime {
        if let lastFixTime {
            return EventTime(utc: lastFixTime.utc.adding(milliseconds: monotonicMilliseconds - lastFixTime.monotonic),
                             source: .gnss)
        }
        let utc = systemClock.time.adding(milliseconds: monotonicMilliseconds - systemClock.monotonicMilliseconds)
        return EventTime(utc: utc, source: systemClock.isTrusted ? .system : .systemUntrusted)
    }

    public func position(at monotonicMilliseconds: Int64) -> EventPosition {
        guard let lastPosition else { return .none }
        let age = monotonicMilliseconds - lastPosition.monotonic
        return hasCurrentFix ? .current(lastPosition.coordinate, ageMilliseconds: age)
                             : .lastKnown(lastPosition.coordinate, ageMilliseconds: age)
    }
}
