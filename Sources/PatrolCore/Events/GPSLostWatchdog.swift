/// Raises one `gps-lost` fault when no fix with a position has arrived for longer than a limit,
/// and one restore when a fix is back.
///
/// Why a fault: alarms then carry only a stale position, and the centre must know before it
/// dispatches help to the wrong place.
public struct GPSLostWatchdog: Sendable {
    private var watchdog: SilenceWatchdog

    public init(limitMilliseconds: Int64, startedAt: Int64) {
        watchdog = SilenceWatchdog(limitMilliseconds: limitMilliseconds, startedAt: startedAt)
    }

    /// When the caller should call ``tick(at:)`` next.
    public var nextDeadline: Int64? { watchdog.nextDeadline }

    public var isLost: Bool { watchdog.isSilent }

    /// A fix report; only one with a position counts as a sign of life.
    public mutating func fixReceived(_ fix: Fix, at now: Int64) -> [DetectedEvent] {
        guard fix.coordinate != nil else { return tick(at: now) }
        return Self.events(watchdog.heard(at: now))
    }

    public mutating func tick(at now: Int64) -> [DetectedEvent] {
        Self.events(watchdog.check(at: now))
    }

    private static func events(_ transitions: [SilenceTransition]) -> [DetectedEvent] {
        transitions.map { $0.event(for: .gpsLost, inputID: nil) }
    }
}

extension SilenceTransition {
    /// The fault or its restore that this transition means for `fault`.
    func event(for fault: Fault, inputID: String?) -> DetectedEvent {
        switch self {
        case .silent(let at): DetectedEvent(.fault(fault), inputID: inputID, at: at)
        case .heardAgain(let at): DetectedEvent(.faultRestore(fault), inputID: inputID, at: at)
        }
    }
}
