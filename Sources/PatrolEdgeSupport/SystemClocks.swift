#if canImport(Glibc)
import Glibc
#endif
import CPlatform
import PatrolCore

/// The board's clocks. Only the monotonic clock measures ages and intervals: the wall clock of
/// a board without RTC may jump by years when NTP or GNSS sets it.
public enum SystemClocks {
    /// Milliseconds on CLOCK_BOOTTIME: monotonic, shared by all processes, counts suspend.
    public static func monotonicMilliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_BOOTTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    /// The system (wall) clock, trusted or not.
    public static func systemTime() -> UTCTime {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UTCTime(millisecondsSinceEpoch: Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000)
    }

    /// Whether the kernel reports the clock as synchronised (NTP, chrony or timesyncd keep it so).
    public static func kernelClockSynchronized() -> Bool {
        patrol_kernel_clock_synchronized() != 0
    }
}
