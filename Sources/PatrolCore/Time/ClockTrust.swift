/// Whether the board's system clock can be believed.
///
/// Boards without a real-time clock boot at 1970 or at the last shutdown time. The agent never
/// stamps a track point from the system clock, but status, logs and (for alarms without a fix)
/// events need to know whether the clock is believable.
public enum ClockTrust: Sendable, Equatable {
    /// The system clock agrees with GNSS time within the tolerance.
    case agreesWithGNSS(offsetMilliseconds: Int64)
    /// The kernel says NTP (or chrony) has synchronised the clock, and no GNSS time contradicts it.
    case synchronizedByNTP
    /// The system clock disagrees with GNSS time by more than the tolerance.
    case disagreesWithGNSS(offsetMilliseconds: Int64)
    /// No GNSS time yet and no NTP synchronisation: nothing vouches for the clock.
    case unverified

    public var isTrusted: Bool {
        switch self {
        case .agreesWithGNSS, .synchronizedByNTP: true
        case .disagreesWithGNSS, .unverified: false
        }
    }

    public var summary: String {
        switch self {
        case .agreesWithGNSS(let offset): "trusted (agrees with GNSS within \(offset) ms)"
        case .synchronizedByNTP: "trusted (synchronised by NTP)"
        case .disagreesWithGNSS(let offset): "untrusted (system clock is \(Self.describe(offset)) GNSS time)"
        case .unverified: "untrusted (no GNSS time yet and not NTP-synchronised)"
        }
    }

    private static func describe(_ offsetMilliseconds: Int64) -> String {
        let seconds = abs(offsetMilliseconds) / 1000
        let amount: String
        switch seconds {
        case ..<120: amount = "\(seconds) s"
        case ..<7200: amount = "\(seconds / 60) min"
        case ..<(3 * 86_400): amount = "\(seconds / 3600) h"
        default: amount = "\(seconds / 86_400) days"
        }
        return amount + (offsetMilliseconds < 0 ? " behind" : " ahead of")
    }

    /// Judges the clock.
    /// - Parameters:
    ///   - systemTime: the system clock now.
    ///   - gnssTimeNow: GNSS time of the latest fix, extrapolated to now with the monotonic clock; nil before any fix.
    ///   - ntpSynchronized: whether the kernel reports the clock as synchronised.
    ///   - tolerance: the largest offset still called agreement.
    public static func evaluate(systemTime: UTCTime, gnssTimeNow: UTCTime?, ntpSynchronized: Bool,
                                toleranceMilliseconds: Int64 = 2000) -> ClockTrust {
        guard let gnssTimeNow else { return ntpSynchronized ? .synchronizedByNTP : .unverified }
        let offset = systemTime.millisecondsSinceEpoch - gnssTimeNow.millisecondsSinceEpoch
        return abs(offset) <= toleranceMilliseconds ? .agreesWithGNSS(offsetMilliseconds: offset)
                                                    : .disagreesWithGNSS(offsetMilliseconds: offset)
    }
}
