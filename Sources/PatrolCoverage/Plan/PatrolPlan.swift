import PatrolCore

/// What a patrol plan promises: which unit covers which area and visits which checkpoints, when.
/// Read and checked by `PlanReader`; every id it holds refers to something in the plan.
public struct PatrolPlan: Sendable {
    public var name: String
    public var grid: CellGrid
    public var rules: CoverageRules
    public var areas: [PatrolArea]
    public var checkpoints: [PlannedCheckpoint]
    public var units: [PatrolUnit]
    /// The centre's local time (`time_zone`): shifts, visit windows, weekdays and dates are local.
    public var timeZone: TimeZoneRules = .utc
    /// Who patrols: persons with their badges, posts and quotas, for the duty report.
    public var persons: [PlannedPerson] = []
    public var posts: [PatrolPost] = []
    public var dutyRules = DutyRules()
    /// The street whose plan this is (`street = "…"`): only that street's staff (and the
    /// district's) are offered it. Nil: a plan of the district itself.
    public var street: String?

    public func area(_ id: String) -> PatrolArea? { areas.first { $0.id == id } }
    public func checkpoint(_ id: String) -> PlannedCheckpoint? { checkpoints.first { $0.id == id } }
    public func unit(device: String) -> PatrolUnit? { units.first { $0.device == device } }

    /// The cells of the areas `ids` name (every area when nil), each once: overlapping areas share
    /// cells, and a shared cell is one cell to cover.
    public func cells(ofAreas ids: [String]? = nil) -> Set<CellIndex> {
        Set((ids?.compactMap(area) ?? areas).flatMap(\.cells))
    }
}

/// How a track is turned into coverage; every value is documented in Config/plan.example.toml.
public struct CoverageRules: Sendable, Equatable {
    /// Two consecutive fixes further apart in time are not joined (unless the unit stayed put
    /// between them; see `ShiftCoverageBuilder` for the whole join rule): where the unit went
    /// between them is unknown, so only the cells of the fixes themselves count.
    public var interpolateMaxGapSeconds: Double = 120
    /// No usable fix for longer than this is a data gap (above the agent's 300 s stopped period).
    public var fixGapSeconds: Double = 330
    /// Nothing at all from the device (points, heartbeats, events) for longer than this: "device silent".
    public var silentAfterSeconds: Double = 120
    /// A point with a worse HDOP proves the device alive but neither covers a cell nor ends a segment.
    public var maxHDOP: Double = 5
    /// Moving slower than this (m/s) counts as stationary.
    public var stationarySpeed: Double = 0.5

    public init() {}
}

/// A patrol area: one or more polygons, and the grid cells whose centre lies inside them.
public struct PatrolArea: Sendable {
    public var id: String
    /// Outer ring first, then holes, per polygon, as read (for maps).
    public var outlines: [[[Coordinate]]]
    public var polygons: [PlanePolygon]
    /// Sorted; a cell belongs to the area when its centre is inside, so neighbouring areas never
    /// share a cell (overlapping ones do: see `PatrolPlan.cells(ofAreas:)`).
    public var cells: [CellIndex]
}

/// A place a unit must visit and stay at for `minimumDwellSeconds`, inside `radius` metres.
public struct PlannedCheckpoint: Sendable {
    public var id: String
    public var position: Coordinate
    public var planePosition: PlanePoint
    public var radius: Double
    /// The tag fixed at the checkpoint: reading it is proof of a visit.
    public var tagID: String?
    public var schedule: VisitSchedule
    public var minimumDwellSeconds: Double
}

/// When a checkpoint must be visited during a shift.
public enum VisitSchedule: Sendable, Equatable {
    /// At fixed local times of day, e.g. 22:00–22:30; a window counts in the shift it starts in.
    case windows([DailySpan])
    /// Once in every period of this many minutes from the start of the shift.
    case every(minutes: Int)
}

/// A span of the day in local minutes (the plan's time zone); an end at or before the start ends
/// on the next day.
public struct DailySpan: Sendable, Equatable, CustomStringConvertible {
    public var startMinute: Int
    public var endMinute: Int

    public init(startMinute: Int, endMinute: Int) {
        self.startMinute = startMinute
        self.endMinute = endMinute
    }

    public var durationMinutes: Int { endMinute > startMinute ? endMinute - startMinute : endMinute + 1440 - startMinute }

    /// Every occurrence, on any day, that overlaps `range`, unclipped and in order.
    public func occurrences(overlapping range: Range<UTCTime>, in zone: TimeZoneRules = .utc) -> [Range<UTCTime>] {
        occurrenceDays(overlapping: range, in: zone).map(\.interval)
    }

    /// Every occurrence that overlaps `range` with the local day it starts on (days since
    /// 1970-01-01 in the zone). Start and end are local wall times, so a shift over a daylight-
    /// saving change is an hour shorter or longer, as the people on it live it.
    public func occurrenceDays(overlapping range: Range<UTCTime>, in zone: TimeZoneRules) -> [(day: Int, interval: Range<UTCTime>)] {
        let dayMs: Int64 = 86_400_000
        let firstDay = Int(zone.local(range.lowerBound).millisecondsSinceEpoch.floorDivided(by: dayMs)) - 1
        let lastDay = Int(zone.local(range.upperBound).millisecondsSinceEpoch.floorDivided(by: dayMs)) + 1
        return (firstDay...lastDay).compactMap { day in
            let localStart = Int64(day) * dayMs + Int64(startMinute) * 60_000
            let start = zone.utc(ofLocal: UTCTime(millisecondsSinceEpoch: localStart))
            let end = zone.utc(ofLocal: UTCTime(millisecondsSinceEpoch: localStart + Int64(durationMinutes) * 60_000))
            return start < range.upperBound && end > range.lowerBound && start < end ? (day, start..<end) : nil
        }
    }

    /// True when the two spans share a minute on any day.
    public func overlaps(_ other: DailySpan) -> Bool {
        func shifted(_ span: DailySpan, byDays days: Int) -> Range<Int> {
            let start = span.startMinute + days * 1440
            return start..<(start + span.durationMinutes)
        }
        let mine = shifted(self, byDays: 0)
        return (-1...1).contains { shifted(other, byDays: $0).overlaps(mine) }
    }

    public var description: String { "\(Self.clock(startMinute))–\(Self.clock(endMinute))" }

    static func clock(_ minute: Int) -> String {
        let hours = minute / 60, minutes = minute % 60
        return (hours < 10 ? "0" : "") + "\(hours):" + (minutes < 10 ? "0" : "") + "\(minutes)"
    }
}

/// A patrol unit: the board's device id, its roster of shifts, and the dates that differ.
public struct PatrolUnit: Sendable {
    public var device: String
    public var name: String?
    public var shifts: [ShiftPlan]
    /// Dates whose shifts differ from the roster (holidays, swaps), at most one per date.
    public var overrides: [ShiftOverride] = []

    /// Every shift the unit works that overlaps `range`: the roster's on the weekdays it names,
    /// except on overridden dates, where the override's shifts are worked instead. In time order.
    public func occurrences(overlapping range: Range<UTCTime>, in zone: TimeZoneRules)
        -> [(shift: ShiftPlan, interval: Range<UTCTime>)] {
        let overridden = Set(overrides.map(\.day))
        var result: [(shift: ShiftPlan, interval: Range<UTCTime>)] = []
        for shift in shifts {
            for (day, interval) in shift.span.occurrenceDays(overlapping: range, in: zone)
            where !overridden.contains(day) && (shift.weekdays?.contains(CivilDate.weekday(ofDay: day)) ?? true) {
                result.append((shift, interval))
            }
        }
        for override in overrides {
            for shift in override.shifts {
                for (day, interval) in shift.span.occurrenceDays(overlapping: range, in: zone) where day == override.day {
                    result.append((shift, interval))
                }
            }
        }
        return result.sorted { $0.interval.lowerBound < $1.interval.lowerBound }
    }
}

/// A shift and what the unit owns during it.
public struct ShiftPlan: Sendable {
    public var span: DailySpan
    public var areaIDs: [String]
    public var checkpointIDs: [String]
    /// The weekdays it is worked on (0 = Sunday … 6 = Saturday, of the day it starts); nil: daily.
    public var weekdays: Set<Int>? = nil
}

/// One date whose shifts replace the roster's: none on a holiday, others on a swap.
public struct ShiftOverride: Sendable {
    /// The local date, as days since 1970-01-01.
    public var day: Int
    /// The shifts worked that day instead; empty: none (a day off).
    public var shifts: [ShiftPlan]
}
