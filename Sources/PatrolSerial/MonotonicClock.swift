import Glibc

/// The clock inputs stamp ``DetectedEvent/at`` with: CLOCK_BOOTTIME in milliseconds, the agent's
/// monotonic clock (it counts suspend, and the wall clock of a board without RTC may jump by years).
public enum MonotonicClock {
    public static func milliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_BOOTTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}
