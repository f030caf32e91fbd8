import PatrolCore

/// Who was on duty in a time range, where and for how long, and whether quotas were met.
public struct DutyReport: Sendable {
    public var plan: PatrolPlan
    public var range: Range<UTCTime>
    /// Every session inside the range, in sign-on order.
    public var sessions: [MeasuredDuty]
    public var notes: [DutyNote]
    public var persons: [PersonDuty]
    public var units: [UnitDuty]
    public var areas: [AreaDuty]
}

/// One planned person over the range: totals and every quota period.
public struct PersonDuty: Sendable, Equatable {
    public var id: String
    public var name: String?
    /// Signed on, counting time on two units at once once.
    public var signedOnSeconds: Double
    public var patrolSeconds: Double
    /// Local days with at least the day minimum on patrol.
    public var dutyDays: Int
    /// ISO weeks (Monday to Sunday, local) and calendar months that overlap the range.
    public var weeks: [QuotaCheck]
    public var months: [QuotaCheck]

    init(person: PlannedPerson, duties: [MeasuredDuty], range: Range<UTCTime>, zone: TimeZoneRules, dayMinimumSeconds: Double) {
        id = person.id
        name = person.name
        var signedOnByDay: [Int: Double] = [:], patrolByDay: [Int: Double] = [:]
        for duty in duties {
            signedOnByDay.merge(duty.personSignedOnByDay, uniquingKeysWith: +)
            patrolByDay.merge(duty.personPatrolByDay, uniquingKeysWith: +)
        }
        signedOnSeconds = signedOnByDay.values.reduce(0, +)
        patrolSeconds = patrolByDay.values.reduce(0, +)
        let dutyDaySet = Set(patrolByDay.filter { $0.value >= dayMinimumSeconds }.keys)
        dutyDays = dutyDaySet.count
        weeks = QuotaCheck.weeks(overlapping: range, zone: zone).map { week in
            let hours = week.days.reduce(0) { $0 + (patrolByDay[$1] ?? 0) } / 3600
            return QuotaCheck(period: week.label, interval: week.interval, isWhole: week.isWhole, achieved: hours,
                              required: person.quota.minimumHoursPerWeek)
        }
        months = QuotaCheck.months(overlapping: range, zone: zone).map { month in
            QuotaCheck(period: month.label, interval: month.interval, isWhole: month.isWhole,
                       achieved: Double(month.days.filter(dutyDaySet.contains).count),
                       required: person.quota.minimumDaysPerMonth.map(Double.init))
        }
    }
}

/// A quota over one week (hours on patrol) or one month (days on duty).
public struct QuotaCheck: Sendable, Equatable {
    public enum Verdict: String, Sendable {
        case met
        case notMet = "not met"
        /// The period reaches outside the range: not judged, the figure is so far.
        case partial = "partial period"
        case noQuota = "no quota"
    }

    /// `2026-W48` or `2026-11`.
    public var period: String
    public var interval: Range<UTCTime>
    /// The whole period lies inside the report's range, so the quota can be judged.
    public var isWhole: Bool
    /// Hours (weeks) or days (months).
    public var achieved: Double
    public var required: Double?

    public var verdict: Verdict {
        guard let required else { return .noQuota }
        if achieved >= required { return .met }
        return isWhole ? .notMet : .partial
    }

    typealias Period = (label: String, interval: Range<UTCTime>, isWhole: Bool, days: [Int])

    /// ISO 8601 weeks, Monday to Sunday in the plan's zone, that overlap `range`.
    static func weeks(overlapping range: Range<UTCTime>, zone: TimeZoneRules) -> [Period] {
        let first = LocalDays.day(of: range.lowerBound, in: zone)
        var monday = first - (CivilDate.weekday(ofDay: first) + 6) % 7
        var result: [Period] = []
        while LocalDays.start(ofDay: monday, in: zone) < range.upperBound {
            let thursday = monday + 3
            let year = CivilDate.fromDaysSinceEpoch(thursday).year
            let week = (thursday - CivilDate.daysSinceEpoch(year: year, month: 1, day: 1)) / 7 + 1
            result.append(period(label: "\(year)-W\(week < 10 ? "0" : "")\(week)", days: monday..<(monday + 7), range: range, zone: zone))
            monday += 7
        }
        return result
    }

    /// Calendar months in the plan's zone that overlap `range`.
    static func months(overlapping range: Range<UTCTime>, zone: TimeZoneRules) -> [Period] {
        var date = CivilDate.fromDaysSinceEpoch(LocalDays.day(of: range.lowerBound, in: zone))
        var result: [Period] = []
        while true {
            let first = CivilDate.daysSinceEpoch(year: date.year, month: date.month, day: 1)
            guard LocalDays.start(ofDay: first, in: zone) < range.upperBound else { return result }
            let next = date.month == 12 ? (year: date.year + 1, month: 1) : (year: date.year, month: date.month + 1)
            let end = CivilDate.daysSinceEpoch(year: next.year, month: next.month, day: 1)
            result.append(period(label: "\(date.year)-\(date.month < 10 ? "0" : "")\(date.month)", days: first..<end, range: range, zone: zone))
            date = (next.year, next.month, 1)
        }
    }

    private static func period(label: String, days: Range<Int>, range: Range<UTCTime>, zone: TimeZoneRules) -> Period {
        let interval = LocalDays.start(ofDay: days.lowerBound, in: zone)..<LocalDays.start(ofDay: days.upperBound, in: zone)
        return (label, interval, range.lowerBound <= interval.lowerBound && interval.upperBound <= range.upperBound, Array(days))
    }
}

/// One unit over the range.
public struct UnitDuty: Sendable, Equatable {
    public var device: String
    public var sessions: Int
    /// Everyone who signed on, by person id or unknown badge.
    public var persons: [String]
    /// Time anyone was signed on (a crew of two counts once).
    public var staffedSeconds: Double
    /// Person-hours: each person's signed-on time, added up.
    public var personSignedOnSeconds: Double
    public var personPatrolSeconds: Double

    static func rows(_ measured: [MeasuredDuty]) -> [UnitDuty] {
        Dictionary(grouping: measured, by: \.session.device).map { device, duties in
            var staffed: [Range<UTCTime>] = []
            for counted in duties.map(\.counted).sorted(by: { $0.lowerBound < $1.lowerBound }) {
                if let last = staffed.last, counted.lowerBound <= last.upperBound {
                    staffed[staffed.count - 1] = last.lowerBound..<max(last.upperBound, counted.upperBound)
                } else {
                    staffed.append(counted)
                }
            }
            return UnitDuty(device: device, sessions: duties.count, persons: Array(Set(duties.map(\.session.label))).sorted(),
                            staffedSeconds: staffed.reduce(0) { $0 + $1.lowerBound.seconds(to: $1.upperBound) },
                            personSignedOnSeconds: duties.reduce(0) { $0 + $1.signedOnSeconds },
                            personPatrolSeconds: duties.reduce(0) { $0 + $1.patrolSeconds })
        }.sorted { $0.device < $1.device }
    }
}

/// One area (a street, a district) over the range: the patrol time spent in it, and by whom.
public struct AreaDuty: Sendable, Equatable {
    public var area: String
    public var patrolSeconds: Double
    public var persons: [String]
    /// The persons whose posts include the area.
    public var postedPersons: [String]

    /// Every area some post names, patrolled or not (an area nobody patrolled is the finding).
    static func rows(plan: PatrolPlan, _ measured: [MeasuredDuty], person: String?) -> [AreaDuty] {
        var areaIDs: [String] = []
        for post in plan.posts { for area in post.areaIDs where !areaIDs.contains(area) { areaIDs.append(area) } }
        return areaIDs.map { area in
            let duties = measured.filter { ($0.areaPatrolSeconds[area] ?? 0) > 0 }
            let posted = plan.persons.filter { person == nil || $0.id == person }
                .filter { $0.postIDs.contains { plan.post($0)?.areaIDs.contains(area) ?? false } }.map(\.id)
            return AreaDuty(area: area, patrolSeconds: duties.reduce(0) { $0 + ($1.areaPatrolSeconds[area] ?? 0) },
                            persons: Array(Set(duties.map(\.session.label))).sorted(), postedPersons: posted)
        }
    }
}
