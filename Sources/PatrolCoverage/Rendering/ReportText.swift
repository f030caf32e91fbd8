import PatrolCore

/// The plain-text table staff read in a terminal, and the CSV they open in a spreadsheet.
enum ReportText {
    static func table(_ report: CoverageReport) -> String {
        let zone = report.plan.timeZone
        var out = "\(report.plan.name): \(zone.iso8601(report.range.lowerBound)) → \(zone.iso8601(report.range.upperBound))"
            + (zone == .utc ? "\n" : " (\(zone.name))\n")
        if report.shifts.isEmpty { out += "no planned shift in this range\n" }
        for shift in report.shifts {
            out += "\n\(Formatting.unitLabel(shift))  shift \(shift.shift)  \(zone.iso8601(shift.interval.lowerBound)) → \(zone.iso8601(shift.interval.upperBound))\n"
            out += "  coverage     \(shift.coveredCells.count) of \(shift.assignedCells.count) cells (\(Formatting.percent(shift.coveredPercent)))"
            out += shift.areaIDs.isEmpty ? "\n" : "  areas: \(shift.areaIDs.joined(separator: ", "))\n"
            for area in shift.areaFigures {
                out += "    \(area.id)  \(area.covered) of \(area.assigned) cells (\(Formatting.percent(area.coveredPercent))), \(area.uncovered.count) uncovered\n"
            }
            let uncovered = shift.uncoveredCells
            if !uncovered.isEmpty {
                let shown = uncovered.prefix(20).map(\.description).joined(separator: " ")
                out += "  uncovered    \(shown)\(uncovered.count > 20 ? " … (\(uncovered.count) in all; --format csv lists every one)" : "")\n"
            }
            out += "  checkpoints  \(shift.visitCount(.onTime)) on time, \(shift.visitCount(.late)) late, \(shift.visitCount(.missed)) missed\n"
            for visit in shift.visits {
                let window = "\(Formatting.clock(visit.window.lowerBound, zone))–\(Formatting.clock(visit.window.upperBound, zone))"
                var proof = visit.evidence?.proof(in: zone) ?? "no visit"
                if let closest = visit.closestApproach, visit.status != .onTime {
                    proof += "; closest approach in the window \(FixedDecimal.format(closest.metres, decimals: 0)) m at \(Formatting.clock(closest.time, zone))"
                }
                out += "    \(visit.checkpointID)  \(window)  \(visit.status.rawValue)  \(proof)\n"
            }
            out += "  data gaps    device silent \(Formatting.duration(shift.gapSeconds(.deviceSilent))), no GPS fix \(Formatting.duration(shift.gapSeconds(.noFix)))\n"
            for gap in shift.gaps {
                let seconds = gap.interval.lowerBound.seconds(to: gap.interval.upperBound)
                out += "    \(gap.kind.rawValue)  \(Formatting.clock(gap.interval.lowerBound, zone))–\(Formatting.clock(gap.interval.upperBound, zone))  \(Formatting.duration(seconds))\n"
            }
            out += "  driving      \(Formatting.kilometres(shift.distanceMetres)), stationary \(Formatting.duration(shift.stationarySeconds)), top speed \(Formatting.kilometresPerHour(shift.topSpeed))"
            out += "  (\(shift.fixCount) fixes\(shift.poorFixCount > 0 ? ", \(shift.poorFixCount) too inaccurate" : ""))\n"
        }
        return out
    }

    static let csvHeader = "device,shift_start,shift_end,assigned_cells,covered_cells,covered_percent,checkpoints_on_time,checkpoints_late,checkpoints_missed,device_silent_s,no_fix_s,distance_m,stationary_s,top_speed_kmh,uncovered_cells,area_coverage"

    /// One row per unit and shift; uncovered cell ids are separated by spaces in one field, and
    /// `area_coverage` holds `<area>=<covered>/<assigned>` per assigned area, separated by spaces.
    static func csv(_ report: CoverageReport) -> String {
        let zone = report.plan.timeZone
        var out = csvHeader + "\n"
        for shift in report.shifts {
            let fields = [
                CSVField.quoted(shift.device), zone.iso8601(shift.interval.lowerBound), zone.iso8601(shift.interval.upperBound),
                "\(shift.assignedCells.count)", "\(shift.coveredCells.count)", FixedDecimal.format(shift.coveredPercent, decimals: 1),
                "\(shift.visitCount(.onTime))", "\(shift.visitCount(.late))", "\(shift.visitCount(.missed))",
                FixedDecimal.format(shift.gapSeconds(.deviceSilent), decimals: 0), FixedDecimal.format(shift.gapSeconds(.noFix), decimals: 0),
                FixedDecimal.format(shift.distanceMetres, decimals: 0), FixedDecimal.format(shift.stationarySeconds, decimals: 0),
                FixedDecimal.format(shift.topSpeed * 3.6, decimals: 1), shift.uncoveredCells.map(\.description).joined(separator: " "),
                CSVField.quoted(shift.areaFigures.map { "\($0.id)=\($0.covered)/\($0.assigned)" }.joined(separator: " ")),
            ]
            out += fields.joined(separator: ",") + "\n"
        }
        return out
    }
}
