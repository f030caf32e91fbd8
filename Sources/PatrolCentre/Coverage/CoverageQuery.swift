import PatrolCore
import PatrolCoverage

extension CentreStorage {
    /// `plan` as `scope` sees it: whole for the district; for a street, only the units and posts'
    /// units of the street's devices, so its coverage, cell history and duty reports never measure
    /// another street's device. Routes and commands scope a plan here, once, before querying.
    public func plan(_ plan: PatrolPlan, in scope: StaffScope) async throws -> PatrolPlan {
        guard scope != .district else { return plan }
        let seen = Set(try await devices(in: scope).map(\.id))
        var scoped = plan
        scoped.units = plan.units.filter { seen.contains($0.device) }
        scoped.posts = plan.posts.map { post in
            var post = post
            post.devices = post.devices.filter(seen.contains)
            return post
        }
        return scoped
    }
}

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

    /// Who covered `cell` during `range`: every unit of the plan (or `device`), streamed page by page.
    public static func cellHistory(plan: PatrolPlan, cell: CellIndex, storage: some CentreStorage, range: Range<UTCTime>,
                                   device: String? = nil) async throws -> [CellVisit] {
        var visits: [CellVisit] = []
        for unit in plan.units where device == nil || unit.device == device {
            let events = try await storage.events(device: unit.device, in: range)
            let heartbeats = try await storage.heartbeatTimes(device: unit.device, in: range)
            var builder = CellHistoryBuilder(plan: plan, cell: cell, device: unit.device, range: range,
                                             lifeSigns: heartbeats + events.map(\.time))
            try await storage.forEachTrackPoint(device: unit.device, in: range) { builder.add(CoveragePoint($0)) }
            visits += builder.finish()
        }
        return visits
    }
}
