/// Corrects GPS week-rollover dates.
///
/// The legacy GPS week number has 10 bits, so a receiver whose firmware pivot has passed reports
/// dates exactly 1024 weeks (or a multiple) in the past. Any date before `pivot` cannot be a real
/// fix from this software's lifetime, so it is moved forward by whole 1024-week periods.
public struct WeekRollover: Sendable, Equatable {
    /// 1024 weeks in milliseconds (619,315,200 s).
    public static let periodMilliseconds: Int64 = 1024 * 7 * 86_400 * 1000

    /// The default pivot: no fix the agent records can honestly be older than this.
    public static let defaultPivot = UTCTime(year: 2020, month: 1, day: 1)

    public var pivot: UTCTime

    public init(pivot: UTCTime = WeekRollover.defaultPivot) {
        self.pivot = pivot
    }

    /// Returns `time` moved forward by the fewest whole 1024-week periods that bring it to or past the pivot.
    public func corrected(_ time: UTCTime) -> UTCTime {
        guard time < pivot else { return time }
        let behind = pivot.millisecondsSinceEpoch - time.millisecondsSinceEpoch
        let periods = (behind + Self.periodMilliseconds - 1) / Self.periodMilliseconds
        return time.adding(milliseconds: periods * Self.periodMilliseconds)
    }
}
