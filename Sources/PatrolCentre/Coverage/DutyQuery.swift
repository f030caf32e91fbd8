import PatrolCore
import PatrolCoverage

/// Feeds the storage's sign-ons (badge reads from boards, and records staff made at the centre)
/// and each session's track into the pure duty rules, one session at a time.
public enum DutyQuery {
    /// Who was on duty in `range`, by every registered device `scope` sees and every unit the plan
    /// names, so a badge read on a board the plan does not list is reported too. For a street,
    /// only its devices count (`plan` is scoped by `CentreStorage.plan(_:in:)`).
    public static func report(plan: PatrolPlan, storage: some CentreStorage, range: Range<UTCTime>,
                              person: String? = nil, scope: StaffScope) async throws -> DutyReport {
        let plan = try await storage.plan(plan, in: scope)
        let recordRange = DutyReportBuilder.recordRange(for: range)
        let scopeDevices = Set(try await storage.devices(in: scope).map(\.id))
        var records = try await storage.dutyRecords(in: recordRange)
            .filter { scope == .district || scopeDevices.contains($0.device) }.map { record in
            DutyRecord(who: .person(record.person), device: record.device, change: record.change, time: record.time,
                       source: .centre(staff: record.recordedBy, recordedAt: record.recordedAt))
        }
        var devices = scopeDevices
        devices.formUnion(plan.units.map(\.device))
        devices.formUnion(plan.posts.flatMap(\.devices))
        for device in devices.sorted() {
            records += try await storage.events(device: device, in: recordRange).compactMap { DutyRecord(device: device, event: $0) }
        }
        let builder = DutyReportBuilder(plan: plan, range: range, records: records, person: person)
        var measured: [MeasuredDuty] = []
        for index in builder.sessions.indices {
            let device = builder.sessions[index].device
            let window = builder.window(ofSession: index)
            let lifeSigns = try await storage.heartbeatTimes(device: device, in: window)
                + storage.events(device: device, in: window).map(\.time)
            var meter = builder.meter(forSession: index, lifeSigns: lifeSigns)
            try await storage.forEachTrackPoint(device: device, in: window) { meter.add(CoveragePoint($0)) }
            measured.append(meter.finish())
        }
        return builder.finish(measured)
    }
}
