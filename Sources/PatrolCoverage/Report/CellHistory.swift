import PatrolCore

/// Who covered one cell, and when, by the same join rule as the shift reports: an auditor's
/// question "was anyone in E37N104 between 22:00 and 23:00?".
public struct CellHistoryBuilder {
    public let cell: CellIndex
    private let device: String
    private var joiner: TrackJoiner
    private var visits: [CellVisit] = []

    /// - Parameter lifeSigns: the device's heartbeat and event times in the range (silence ends a run).
    public init(plan: PatrolPlan, cell: CellIndex, device: String, range: Range<UTCTime>, lifeSigns: [UTCTime]) {
        self.cell = cell
        self.device = device
        joiner = TrackJoiner(rules: plan.rules, grid: plan.grid, start: range.lowerBound, lifeSigns: lifeSigns)
    }

    /// Adds the device's next point, in time order.
    public mutating func add(_ point: CoveragePoint) {
        joiner.heard(at: point.time)
        guard joiner.isUsable(point) else { return }
        let step = joiner.step(to: point)
        var passes = false
        joiner.forEachCoveredCell(of: step) { passes = passes || $0 == cell }
        guard passes else { return }
        // A joined line through the cell: the unit was on it from the previous fix to this one.
        let from = step.joined ? step.previous?.time ?? step.fix.time : step.fix.time
        if let last = visits.indices.last, visits[last].interval.upperBound >= from {
            visits[last].interval = visits[last].interval.lowerBound...max(visits[last].interval.upperBound, step.fix.time)
        } else {
            visits.append(CellVisit(device: device, interval: from...step.fix.time))
        }
    }

    public func finish() -> [CellVisit] { visits }
}

/// One unit's time on the lines through a cell (from the fix before it entered to the fix after
/// it left), or a single fix in it when the fixes around it were not joined.
public struct CellVisit: Sendable, Equatable {
    public var device: String
    public var interval: ClosedRange<UTCTime>

    public init(device: String, interval: ClosedRange<UTCTime>) {
        self.device = device
        self.interval = interval
    }
}

extension CellIndex {
    /// Reads the id reports print, e.g. `E37N104`, `E-2N-15`; nil for anything else.
    public init?(_ text: String) {
        guard text.first == "E", let north = text.firstIndex(of: "N"),
              let column = Int32(text[text.index(after: text.startIndex)..<north]),
              let row = Int32(text[text.index(after: north)...]) else { return nil }
        self.init(column: column, row: row)
    }
}

/// A cell's history as staff read it: a table, or JSON for programs.
public enum CellHistoryReport {
    public static func table(cell: CellIndex, range: Range<UTCTime>, visits: [CellVisit], zone: TimeZoneRules) -> String {
        var out = "cell \(cell)  \(zone.iso8601(range.lowerBound)) → \(zone.iso8601(range.upperBound))\n"
        if visits.isEmpty { out += "  no unit covered it\n" }
        for visit in visits.sorted(by: { $0.interval.lowerBound < $1.interval.lowerBound }) {
            out += "  \(visit.device)  \(zone.iso8601(visit.interval.lowerBound)) → \(zone.iso8601(visit.interval.upperBound))\n"
        }
        return out
    }

    public static func json(cell: CellIndex, range: Range<UTCTime>, visits: [CellVisit], zone: TimeZoneRules) -> String {
        var root = JSONObjectWriter()
        root.add("cell", cell.description)
        root.add("from", zone.iso8601(range.lowerBound))
        root.add("to", zone.iso8601(range.upperBound))
        let items = visits.sorted { $0.interval.lowerBound < $1.interval.lowerBound }.map { visit in
            var v = JSONObjectWriter()
            v.add("device", visit.device)
            v.add("start", zone.iso8601(visit.interval.lowerBound))
            v.add("end", zone.iso8601(visit.interval.upperBound))
            return v.json
        }
        root.addRaw("visits", "[" + items.joined(separator: ",") + "]")
        return root.json + "\n"
    }
}
