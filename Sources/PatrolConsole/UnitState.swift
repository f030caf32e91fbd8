import PatrolCentre
import PatrolCore

/// A unit's state on the live map, from its device record, newest fix and open alarms.
enum UnitState: String {
    case moving, stopped, silent
    case noFix = "no-fix"
    case alarm

    /// Slower than this (3.6 km/h) is standing, whatever a receiver's noise reports.
    static let movingCentimetresPerSecond: Int64 = 100

    /// An open alarm wins; then silence (nothing heard for `silentAfterSeconds`); then no fix (heard,
    /// but the newest fix is older than `silentAfterSeconds`, or there is none); then the fix's speed.
    static func of(_ device: Device, latest: TrackRecord?, openAlarms: Int, now: UTCTime, silentAfterSeconds: Int) -> UnitState {
        if openAlarms > 0 { return .alarm }
        if device.isSilent(at: now, silentAfterSeconds: silentAfterSeconds) { return .silent }
        guard let latest else { return .noFix }
        let age = now.millisecondsSinceEpoch.subtractingReportingOverflow(latest.timeMilliseconds)
        guard !age.overflow, age.partialValue <= Int64(silentAfterSeconds) * 1000 else { return .noFix }
        return (latest.speedCentimetresPerSecond ?? 0) >= movingCentimetresPerSecond ? .moving : .stopped
    }
}

/// Thinning long point lists evenly for a browser: the first and last points always stay.
enum TrackThinning {
    /// A track playback's limit: a day at one fix every 5 s.
    static let maxPoints = 20_000
    /// The live map's tail: the last minutes before the newest fix, at most this many points.
    static let tailPoints = 30
    static let tailMilliseconds: Int64 = 10 * 60_000

    static func thinned<T>(_ items: [T], to limit: Int) -> [T] {
        guard items.count > limit, limit >= 2 else { return items }
        let step = Double(items.count - 1) / Double(limit - 1)
        return (0..<limit).map { items[Int((Double($0) * step).rounded())] }
    }
}
