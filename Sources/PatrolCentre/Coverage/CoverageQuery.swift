import PatrolCore
import PatrolCoverage

/// Feeds the storage's records into the pure coverage computation, one shift at a time, with only
/// a page of points in memory.
public enum CoverageQuery {
    /// Measures every planned shift of the chosen units (all when `device` is nil) overlapping `range`.
    public static func report(plan: PatrolPlan, storage: some CentreStorage, range: Range<UTCTime>,
                              device: String? = nil) async throws -> CoverageReport {
        var shifts: [ShiftReport] = []
        for planned in CoverageReport.shiftsToMeasure(in: plan, range: range, device: device) {
            let events = try await storage.events(device: planned.unit.device, in: planned.interval)
            let heartbeats = try await storage.heartbeatTimes(device: planned.unit.device, in: planned.interval)
            var builder = ShiftCoverageBuilder(plan: plan, unit: planned.unit, shift: planned.shift, interval: planned.interval,
                                               lifeSigns: heartbeats + events.map(\.time))
            try await storage.forEachTrackPoint(device: planned.unit.device, in: planned.interval) { point in
                builder.add(CoveragePoint(point))
            }
            shifts.append(builder.finish(checkIns: events.compactMap(CheckIn.init)))
        }
        return CoverageReport(plan: plan, range: range, shifts: shifts)
    }
}
