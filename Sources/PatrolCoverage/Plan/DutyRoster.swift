import PatrolCore

/// A person on the roster ("fixed post, fixed person, fixed responsibility"): the badges that sign
/// them on at a unit's `duty` reader, the posts they are scheduled to, and their duty quotas.
public struct PlannedPerson: Sendable {
    public var id: String
    public var name: String?
    /// Badge ids as the unit's reader reports them (e.g. `62E3086CED`); each belongs to one person.
    public var badges: [String]
    public var postIDs: [String]
    public var quota: DutyQuota
}

/// What a person owes over a week and a month; absent values are no quota.
public struct DutyQuota: Sendable, Equatable {
    /// Hours on patrol in each ISO week (Monday to Sunday, local time).
    public var minimumHoursPerWeek: Double?
    /// Local days with at least `DutyRules.dayMinimumMinutes` on patrol in each calendar month.
    public var minimumDaysPerMonth: Int?

    public init(minimumHoursPerWeek: Double? = nil, minimumDaysPerMonth: Int? = nil) {
        self.minimumHoursPerWeek = minimumHoursPerWeek
        self.minimumDaysPerMonth = minimumDaysPerMonth
    }
}

/// A post: the areas a person patrols and/or the units (device ids) they patrol with. A post
/// without areas is a fixed one (a booth): being signed on at its unit is the duty. A post without
/// units may be patrolled with any unit.
public struct PatrolPost: Sendable {
    public var id: String
    public var areaIDs: [String]
    public var devices: [String]
}

/// The duty report's own rules (`[duty]` in the plan).
public struct DutyRules: Sendable, Equatable {
    /// A local day counts towards `min_days_per_month` with at least this much time on patrol, so
    /// a badge touched in passing is no day of duty.
    public var dayMinimumMinutes: Double = 30

    public init() {}
}

extension PatrolPlan {
    public func person(_ id: String) -> PlannedPerson? { persons.first { $0.id == id } }
    public func post(_ id: String) -> PatrolPost? { posts.first { $0.id == id } }
    /// The person a badge belongs to; badges are unique across the plan (`plan check`).
    public func person(badge: String) -> PlannedPerson? { persons.first { $0.badges.contains(badge) } }
}
