/// One alarm, check-in or fault, as stored the moment it is caught and later sent to the centre.
///
/// Everything the centre needs travels with the event itself (time, its source, position and
/// its age), because an event may be delivered long after it happened.
public struct PatrolEvent: Sendable, Equatable {
    public var kind: EventKind
    public var time: EventTime
    public var position: EventPosition
    /// The agent's own identity (the car or booth).
    public var deviceID: String
    /// The button, reader, box or port the event came from; nil for agent-wide events such as GPS loss.
    public var inputID: String?
    /// The PLBX 2 box press that produced the event: the store keeps one event of a kind per press.
    public var press: PressKey?

    public init(kind: EventKind, time: EventTime, position: EventPosition, deviceID: String, inputID: String? = nil,
                press: PressKey? = nil) {
        self.kind = kind
        self.time = time
        self.position = position
        self.deviceID = deviceID
        self.inputID = inputID
        self.press = press
    }

    public var priority: EventPriority { kind.priority }
}

/// Where an event's UTC time came from, so the centre knows how far to trust it.
public enum EventTimeSource: String, Sendable, Equatable, CaseIterable {
    /// The last GNSS fix time, carried forward with the monotonic clock.
    case gnss
    /// The system clock, known to be set (NTP synchronised or a battery-backed RTC).
    case system
    /// The system clock with nothing to vouch for it: a board without RTC boots with a wrong date.
    case systemUntrusted = "system-untrusted"
}

/// An event's UTC time and how it was obtained.
public struct EventTime: Sendable, Equatable {
    public var utc: UTCTime
    public var source: EventTimeSource

    public init(utc: UTCTime, source: EventTimeSource) {
        self.utc = utc
        self.source = source
    }
}

/// The position an event carries. An alarm without a current fix is still an alarm: it carries
/// the last known position, marked as such, or says that there is none.
public enum EventPosition: Sendable, Equatable {
    /// The receiver has a fix; the position is from its latest report, `ageMilliseconds` old.
    case current(Coordinate, ageMilliseconds: Int64)
    /// The receiver has lost its fix; this is the last position it gave.
    case lastKnown(Coordinate, ageMilliseconds: Int64)
    /// No position since the agent started.
    case none

    public var coordinate: Coordinate? {
        switch self {
        case .current(let c, _), .lastKnown(let c, _): c
        case .none: nil
        }
    }

    public var ageMilliseconds: Int64? {
        switch self {
        case .current(_, let age), .lastKnown(_, let age): age
        case .none: nil
        }
    }

    /// `current`, `last-known` or `none`, as stored and sent.
    public var label: String {
        switch self {
        case .current: "current"
        case .lastKnown: "last-known"
        case .none: "none"
        }
    }
}
