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
    /// How many shifts are read at once: the store reads one shift's next page (a PostgreSQL
    /// connection of the pool, or the SQLite actor) while another shift's page goes through the
    /// rules, so both cores work; memory stays this many pages.
    static let shiftsAtOnce = 4

    /// Measures every planned shift of the chosen units (all when `device` is nil) overlapping `range`.
    public static func report(plan: PatrolPlan, storage: some CentreStorage, range: Range<UTCTime>,
                              device: String? = nil) async throws -> CoverageReport {
        let planned = CoverageReport.shiftsToMeasure(in: plan, range: range, device: device)
        var shifts = [ShiftReport?](repeating: nil, count: planned.count)
        try await withThrowingTaskGroup(of: (Int, ShiftReport).self) { group in
            for (index, shift) in planned.enumerated() {
                if index >= shiftsAtOnce, let (done, report) = try await group.next() { shifts[done] = report }
                group.addTask {
                    (index, try await measure(plan: plan, unit: shift.unit, shift: shift.shift, interval: shift.interval, storage: storage))
                }
            }
            for try await (done, report) in group { shifts[done] = report }
        }
        return CoverageReport(plan: plan, range: range, shifts: shifts.compactMap { $0 })
    }

    /// One shift: its events and heartbeats, then its points page by page through the builder.
    private static func measure(plan: PatrolPlan, unit: PatrolUnit, shift: ShiftPlan, interval: Range<UTCTime>,
                                storage: some CentreStorage) async throws -> ShiftReport {
        let events = try await storage.events(device: unit.device, in: interval)
        let heartbeats = try await storage.heartbeatTimes(device: unit.device, in: interval)
        var builder = ShiftCoverageBuilder(plan: plan, unit: unit, shift: shift, interval: interval,
                                           lifeSigns: heartbeats + events.map(\.time))
        try await storage.forEachTrackPoint(device: unit.device, in: interval) { point in
            builder.add(CoveragePoint(point))
        }
        return builder.finish(checkIns: events.compactMap(CheckIn.init))
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
