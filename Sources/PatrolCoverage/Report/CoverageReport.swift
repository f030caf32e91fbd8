import PatrolCore

/// Every unit's shifts that overlap the asked time range, with the plan they were measured against.
public struct CoverageReport: Sendable {
    public var plan: PatrolPlan
    public var range: Range<UTCTime>
    public var shifts: [ShiftReport]

    public init(plan: PatrolPlan, range: Range<UTCTime>, shifts: [ShiftReport]) {
        self.plan = plan
        self.range = range
        self.shifts = shifts
    }

    /// The shifts to measure: each planned shift occurrence of the chosen units (all when `device`
    /// is nil) that overlaps `range`, whole, in unit then time order.
    public static func shiftsToMeasure(in plan: PatrolPlan, range: Range<UTCTime>, device: String?)
        -> [(unit: PatrolUnit, shift: ShiftPlan, interval: Range<UTCTime>)] {
        plan.units.filter { device == nil || $0.device == device }.flatMap { unit in
            unit.occurrences(overlapping: range, in: plan.timeZone).map { (unit: unit, shift: $0.shift, interval: $0.interval) }
        }
    }
}
