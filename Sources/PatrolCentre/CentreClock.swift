#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PatrolCore

/// The centre's idea of "now", injectable so tests can move time (silent devices, clock skew).
public struct CentreClock: Sendable {
    public let now: @Sendable () -> UTCTime

    public init(now: @escaping @Sendable () -> UTCTime) {
        self.now = now
    }

    /// The system's real-time clock (the centre runs NTP; boards are the ones without an RTC).
    public static let system = CentreClock {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return UTCTime(millisecondsSinceEpoch: Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000)
    }
}
