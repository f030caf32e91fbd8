import PatrolCore

/// A person's time signed on to one unit: a sign-on and the next sign-off of the same person on
/// the same unit (Docs/coverage.md, "Duty", has every rule).
public struct DutySession: Sendable, Equatable {
    /// The plan's person; nil when the badge or person id is not in the plan (reported, not dropped).
    public var person: String?
    public var who: DutyRecord.Who
    public var device: String
    public var signOn: UTCTime
    public var signOnSource: DutySource
    /// nil: no sign-off, the session is open.
    public var signOff: UTCTime?
    public var signOffSource: DutySource?
    /// An open session's limit: the same person's next sign-on to the same unit (nil: none).
    public var openUntil: UTCTime?

    /// The person's id, or the unknown badge or person as recorded.
    public var label: String {
        if let person { return person }
        switch who {
        case .badge(let badge): return "badge \(badge) (not in the plan)"
        case .person(let id): return "person \(id) (not in the plan)"
        }
    }
}

/// Something about the sign-ons that a supervisor must see beside the numbers.
public struct DutyNote: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        /// A badge or person id the plan does not list: its time is shown, not counted for anyone.
        case notInPlan = "not-in-plan"
        /// A sign-off with no open sign-on of the person on that unit before it: counts nothing.
        case signOffWithoutSignOn = "sign-off-without-sign-on"
        /// A sign-on while already signed on to the same unit: the earlier session has no sign-off
        /// (it is open) and a new one begins.
        case repeatedSignOn = "repeated-sign-on"
        /// No sign-off: counted to the unit's last data (point, heartbeat or event) in the range.
        case open
        /// Signed on to two units at once: the common time counts once for the person.
        case overlapping
        /// Signed on to a unit none of the person's posts uses: signed-on time, no patrol time.
        case offPost = "unit-not-on-post"
    }

    public var kind: Kind
    public var time: UTCTime
    /// The plan's person it concerns; nil for a badge or id not in the plan.
    public var person: String?
    public var text: String
}

/// How a session's unit fits the person's posts.
public enum PostFit: Sendable, Equatable {
    /// Patrol counts while moving within these areas (of the person's posts that use the unit).
    case areas([String])
    /// A fixed post (a post without areas, e.g. a booth): being signed on is the duty.
    case fixed
    /// None of the person's posts uses this unit.
    case offPost
    /// The person is not in the plan.
    case notInPlan
}

/// One session measured inside the report's range.
public struct MeasuredDuty: Sendable, Equatable {
    public var session: DutySession
    public var post: PostFit
    /// The counted part: from the sign-on (or the range's start) to the sign-off (or the range's
    /// end), and for an open session to the unit's last data in it.
    public var counted: Range<UTCTime>
    public var signedOnSeconds: Double
    /// Signed on and moving within the post's areas (all signed-on time at a fixed post).
    public var patrolSeconds: Double
    /// For the person's totals, without time already counted on another unit: local day (days
    /// since 1970-01-01 in the plan's zone) → seconds.
    public var personSignedOnByDay: [Int: Double]
    public var personPatrolByDay: [Int: Double]
    /// Person's patrol seconds per area (both fixes of a moving stretch in the area's cells).
    public var areaPatrolSeconds: [String: Double]
}

/// Collects sign-ons and sign-offs into sessions, measures each against the track, and sums them
/// up per person (with quotas), unit and area. Pure: `DutyQuery` in the centre feeds it.
///
/// Records are read from `lookBackMilliseconds` before the range, so a duty that began the
/// evening before is paired with its sign-off; sessions are then clipped to the range.
public struct DutyReportBuilder {
    /// How far before the range sign-ons are looked for (a day: no duty is longer).
    public static let lookBackMilliseconds: Int64 = 86_400_000
    /// The longest range one report covers (a year of quotas and a few days), so the per-day and
    /// per-week figures stay small; a longer one is refused with this limit named.
    public static let maximumRangeDays = 400

    public let plan: PatrolPlan
    public let range: Range<UTCTime>
    /// Only this person's sessions and figures (nil: everyone).
    public let person: String?
    public private(set) var sessions: [DutySession] = []
    private var notes: [DutyNote] = []
    /// Per session, the parts of its window the person was already counted for on another unit.
    private var alreadyCounted: [[Range<UTCTime>]] = []

    /// - Parameter person: only this person's sessions and figures (nil: everyone).
    public init(plan: PatrolPlan, range: Range<UTCTime>, records: [DutyRecord], person: String? = nil) {
        self.plan = plan
        self.range = range
        self.person = person
        // At one instant a sign-off goes first, so a handover (off and on again at 10:00) is two
        // sessions, not a repeated sign-on; the device makes the order the same on every run.
        pair(records.sorted { ($0.time, $0.change == .signOff ? 0 : 1, $0.device) < ($1.time, $1.change == .signOff ? 0 : 1, $1.device) })
        let paired = sessions
        sessions = paired.filter { window(of: $0) != nil && (person == nil || $0.person == person) }
        notes.removeAll { !range.contains($0.time) || (person != nil && $0.person != person) }
        findOverlaps()
    }

    /// The records' query range: the report's range and the look-back before it.
    public static func recordRange(for range: Range<UTCTime>) -> Range<UTCTime> {
        range.lowerBound.adding(milliseconds: -lookBackMilliseconds)..<range.upperBound
    }

    private func resolve(_ who: DutyRecord.Who) -> String? {
        switch who {
        case .badge(let badge): plan.person(badge: badge)?.id
        case .person(let id): plan.person(id)?.id
        }
    }

    /// Pairs each sign-on with the next sign-off of the same person (or unknown badge) on the same unit.
    private mutating func pair(_ records: [DutyRecord]) {
        let zone = plan.timeZone
        var open: [String: Int] = [:]
        for record in records {
            let person = resolve(record.who)
            let identity = person.map { "p\u{0}" + $0 } ?? "\(record.who)"
            let key = identity + "\u{0}" + record.device
            let label = DutySession(person: person, who: record.who, device: record.device, signOn: record.time,
                                    signOnSource: record.source).label
            switch record.change {
            case .signOn:
                if let index = open[key] {
                    notes.append(DutyNote(kind: .repeatedSignOn, time: record.time, person: person, text:
                        "\(label) signed on to \(record.device) again at \(zone.iso8601(record.time)) (\(record.source.text(in: zone))) while signed on since \(zone.iso8601(sessions[index].signOn)): the earlier session has no sign-off"))
                    sessions[index].openUntil = record.time
                }
                open[key] = sessions.count
                sessions.append(DutySession(person: person, who: record.who, device: record.device, signOn: record.time,
                                            signOnSource: record.source))
            case .signOff:
                guard let index = open.removeValue(forKey: key) else {
                    notes.append(DutyNote(kind: .signOffWithoutSignOn, time: record.time, person: person, text:
                        "\(label) signed off \(record.device) at \(zone.iso8601(record.time)) (\(record.source.text(in: zone))) without a sign-on before it: counts nothing"))
                    continue
                }
                sessions[index].signOff = record.time
                sessions[index].signOffSource = record.source
            }
        }
    }

    /// The session's time inside the range (when open, to the same person's next sign-on to the
    /// unit or the range's end); nil when none.
    private func window(of session: DutySession) -> Range<UTCTime>? {
        let last = session.signOff ?? session.openUntil ?? range.upperBound
        let start = max(session.signOn, range.lowerBound), end = min(last, range.upperBound)
        guard session.signOn < range.upperBound, start <= end, last >= range.lowerBound else { return nil }
        return start..<end
    }

    public func window(ofSession index: Int) -> Range<UTCTime> { window(of: sessions[index])! }

    /// A person signed on to two units at once is counted once: each session gives up the time an
    /// earlier-starting session of the same person on another unit already counts.
    private mutating func findOverlaps() {
        let zone = plan.timeZone
        alreadyCounted = Array(repeating: [], count: sessions.count)
        for index in sessions.indices {
            let session = sessions[index], mine = window(ofSession: index)
            for other in sessions.indices where other != index && sessions[other].person != nil
                && sessions[other].person == session.person && sessions[other].device != session.device
                && (sessions[other].signOn, other) < (session.signOn, index) {
                let theirs = window(ofSession: other)
                guard theirs.overlaps(mine) else { continue }
                let common = theirs.clamped(to: mine)
                alreadyCounted[index].append(common)
                notes.append(DutyNote(kind: .overlapping, time: common.lowerBound, person: session.person, text:
                    "\(session.label) was signed on to \(sessions[other].device) and \(session.device) at once from \(zone.iso8601(common.lowerBound)) to \(zone.iso8601(common.upperBound)): counted once, for \(sessions[other].device)"))
            }
        }
    }

    /// How the session's unit fits the person's posts.
    private func postFit(of session: DutySession) -> PostFit {
        guard let id = session.person, let planned = plan.person(id) else { return .notInPlan }
        let posts = planned.postIDs.compactMap { plan.post($0) }.filter { $0.devices.isEmpty || $0.devices.contains(session.device) }
        if posts.isEmpty { return .offPost }
        if posts.contains(where: { $0.areaIDs.isEmpty }) { return .fixed }
        var areas: [String] = []
        for area in posts.flatMap(\.areaIDs) where !areas.contains(area) { areas.append(area) }
        return .areas(areas)
    }

    /// The meter for session `index`: give it the unit's points in `window(ofSession:)`, in time order.
    /// - Parameter lifeSigns: the unit's heartbeat and event times in that window.
    public func meter(forSession index: Int, lifeSigns: [UTCTime]) -> DutySessionMeter {
        DutySessionMeter(plan: plan, session: sessions[index], post: postFit(of: sessions[index]),
                         window: window(ofSession: index), alreadyCounted: alreadyCounted[index], lifeSigns: lifeSigns)
    }

    /// The report, from every session's measurement (in session order).
    public func finish(_ measured: [MeasuredDuty]) -> DutyReport {
        let zone = plan.timeZone
        var notes = notes
        for duty in measured {
            let session = duty.session
            switch duty.post {
            case .notInPlan:
                notes.append(DutyNote(kind: .notInPlan, time: duty.counted.lowerBound, person: session.person, text:
                    "\(session.label) signed on to \(session.device) at \(zone.iso8601(session.signOn)): shown, not counted for anyone; add the badge to a [[person]] if it is one"))
            case .offPost:
                notes.append(DutyNote(kind: .offPost, time: duty.counted.lowerBound, person: session.person, text:
                    "\(session.label) signed on to \(session.device), which none of their posts uses: signed on, not on patrol"))
            case .areas, .fixed: break
            }
            if session.signOff == nil {
                notes.append(DutyNote(kind: .open, time: duty.counted.lowerBound, person: session.person, text:
                    "\(session.label) signed on to \(session.device) at \(zone.iso8601(session.signOn)) without a sign-off: counted to the unit's last data before \(session.openUntil == nil ? "the range's end" : "the next sign-on"), \(zone.iso8601(duty.counted.upperBound))"))
            }
        }
        notes.sort { ($0.time, $0.kind.rawValue) < ($1.time, $1.kind.rawValue) }
        let persons = plan.persons.filter { person == nil || $0.id == person }.map { planned in
            PersonDuty(person: planned, duties: measured.filter { $0.session.person == planned.id }, range: range,
                       zone: zone, dayMinimumSeconds: plan.dutyRules.dayMinimumMinutes * 60)
        }
        return DutyReport(plan: plan, range: range, sessions: measured, notes: notes, persons: persons,
                          units: UnitDuty.rows(measured), areas: AreaDuty.rows(plan: plan, measured, person: person))
    }
}

/// Measures one session against the unit's track by the coverage join rule (`TrackJoiner`): a
/// joined stretch that is not stationary, with both fixes in the cells of the post's areas, is
/// time on patrol.
public struct DutySessionMeter {
    private let session: DutySession
    private let post: PostFit
    private let window: Range<UTCTime>
    private let alreadyCounted: [Range<UTCTime>]
    private let zone: TimeZoneRules
    private let patrolCells: Set<CellIndex>
    private let areaCells: [(id: String, cells: Set<CellIndex>)]
    private var joiner: TrackJoiner
    private var lastHeard: UTCTime?
    private var patrolSeconds = 0.0
    private var personPatrolByDay: [Int: Double] = [:]
    private var areaPatrolSeconds: [String: Double] = [:]

    init(plan: PatrolPlan, session: DutySession, post: PostFit, window: Range<UTCTime>, alreadyCounted: [Range<UTCTime>],
         lifeSigns: [UTCTime]) {
        self.session = session
        self.post = post
        self.window = window
        self.alreadyCounted = alreadyCounted
        zone = plan.timeZone
        let areaIDs = if case .areas(let ids) = post { ids } else { [String]() }
        patrolCells = plan.cells(ofAreas: areaIDs)
        areaCells = areaIDs.compactMap(plan.area).map { ($0.id, Set($0.cells)) }
        let heard = lifeSigns.filter { window.contains($0) }
        lastHeard = heard.max()
        joiner = TrackJoiner(rules: plan.rules, grid: plan.grid, start: window.lowerBound, lifeSigns: heard)
    }

    /// Adds the unit's next point, in time order.
    public mutating func add(_ point: CoveragePoint) {
        guard window.contains(point.time) else { return }
        joiner.heard(at: point.time)
        lastHeard = max(lastHeard ?? point.time, point.time)
        guard joiner.isUsable(point) else { return }
        let step = joiner.step(to: point)
        guard step.joined, let previous = step.previous, !joiner.isStationary(step) else { return }
        let from = joiner.grid.cell(containing: previous.point), to = joiner.grid.cell(containing: step.fix.point)
        guard patrolCells.contains(from), patrolCells.contains(to) else { return }
        patrolSeconds += step.seconds
        guard !alreadyCounted.contains(where: { $0.contains(point.time) }) else { return }
        personPatrolByDay[LocalDays.day(of: point.time, in: zone), default: 0] += step.seconds
        for area in areaCells where area.cells.contains(from) && area.cells.contains(to) {
            areaPatrolSeconds[area.id, default: 0] += step.seconds
        }
    }

    public func finish() -> MeasuredDuty {
        // The window ends at the sign-off or the range's end; an open session ends at the unit's last data.
        let end = session.signOff == nil ? max(window.lowerBound, lastHeard ?? window.lowerBound) : window.upperBound
        let counted = window.lowerBound..<end
        let signedOnByDay = LocalDays.split(LocalDays.subtract(alreadyCounted, from: counted), in: zone)
        let isFixed = post == .fixed
        return MeasuredDuty(session: session, post: post, counted: counted,
                            signedOnSeconds: counted.lowerBound.seconds(to: counted.upperBound),
                            patrolSeconds: isFixed ? counted.lowerBound.seconds(to: counted.upperBound) : patrolSeconds,
                            personSignedOnByDay: signedOnByDay, personPatrolByDay: isFixed ? signedOnByDay : personPatrolByDay,
                            areaPatrolSeconds: areaPatrolSeconds)
    }
}

/// Local days of the plan's zone, as days since 1970-01-01.
enum LocalDays {
    static let dayMilliseconds: Int64 = 86_400_000

    static func day(of time: UTCTime, in zone: TimeZoneRules) -> Int {
        Int(zone.local(time).millisecondsSinceEpoch.floorDivided(by: dayMilliseconds))
    }

    /// When local day `day` begins.
    static func start(ofDay day: Int, in zone: TimeZoneRules) -> UTCTime {
        zone.utc(ofLocal: UTCTime(millisecondsSinceEpoch: Int64(day) * dayMilliseconds))
    }

    /// Seconds of `ranges` on each local day.
    static func split(_ ranges: [Range<UTCTime>], in zone: TimeZoneRules) -> [Int: Double] {
        var result: [Int: Double] = [:]
        for range in ranges {
            var from = range.lowerBound
            while from < range.upperBound {
                let today = day(of: from, in: zone)
                let to = min(range.upperBound, max(start(ofDay: today + 1, in: zone), from.adding(milliseconds: 1)))
                result[today, default: 0] += from.seconds(to: to)
                from = to
            }
        }
        return result
    }

    /// `range` without the parts `holes` cover.
    static func subtract(_ holes: [Range<UTCTime>], from range: Range<UTCTime>) -> [Range<UTCTime>] {
        var pieces = [range]
        for hole in holes {
            pieces = pieces.flatMap { piece -> [Range<UTCTime>] in
                guard piece.overlaps(hole) else { return [piece] }
                return [piece.lowerBound..<max(piece.lowerBound, hole.lowerBound), min(piece.upperBound, hole.upperBound)..<piece.upperBound]
                    .filter { !$0.isEmpty }
            }
        }
        return pieces
    }
}
