import PatrolCore

/// A period (a week, a month) summed up per area and unit, and per unit's checkpoints: the
/// assessment a street centre hands upward. Made from the shift reports of the period, so its
/// numbers are the sums of theirs.
struct PeriodSummary {
    /// One area as one unit covered it over the period's shifts.
    struct AreaRow {
        var area: String
        var device: String
        var shifts = 0
        /// Cells assigned and covered, summed over the shifts (a cell counts once per shift).
        var assigned = 0
        var covered = 0
        var percent: Double { assigned == 0 ? 100 : Double(covered) * 100 / Double(assigned) }
    }

    /// One unit's checkpoint windows over the period.
    struct PunctualityRow {
        var device: String
        var onTime = 0, late = 0, missed = 0
        var windows: Int { onTime + late + missed }
        var onTimePercent: Double { windows == 0 ? 100 : Double(onTime) * 100 / Double(windows) }
    }

    var areas: [AreaRow] = []
    var punctuality: [PunctualityRow] = []

    init(_ report: CoverageReport) {
        var areaIndex: [String: Int] = [:]
        var unitIndex: [String: Int] = [:]
        for shift in report.shifts {
            for figures in shift.areaFigures {
                let key = figures.id + "\u{0}" + shift.device
                let index = areaIndex[key] ?? {
                    areas.append(AreaRow(area: figures.id, device: shift.device))
                    areaIndex[key] = areas.count - 1
                    return areas.count - 1
                }()
                areas[index].shifts += 1
                areas[index].assigned += figures.assigned
                areas[index].covered += figures.covered
            }
            let index = unitIndex[shift.device] ?? {
                punctuality.append(PunctualityRow(device: shift.device))
                unitIndex[shift.device] = punctuality.count - 1
                return punctuality.count - 1
            }()
            punctuality[index].onTime += shift.visitCount(.onTime)
            punctuality[index].late += shift.visitCount(.late)
            punctuality[index].missed += shift.visitCount(.missed)
        }
        areas.sort { ($0.area, $0.device) < ($1.area, $1.device) }
        punctuality.sort { $0.device < $1.device }
    }

    static let csvHeader = "table,area,device,shifts,assigned_cells,covered_cells,covered_percent,windows,on_time,late,missed,on_time_percent"

    /// Both tables in one CSV: `area` rows (per area and unit) then `checkpoints` rows (per unit).
    func csv() -> String {
        var out = Self.csvHeader + "\n"
        for row in areas {
            out += ["area", row.area, row.device, "\(row.shifts)", "\(row.assigned)", "\(row.covered)",
                    FixedDecimal.format(row.percent, decimals: 1), "", "", "", "", ""].map(CSVField.quoted).joined(separator: ",") + "\n"
        }
        for row in punctuality {
            out += ["checkpoints", "", row.device, "", "", "", "", "\(row.windows)", "\(row.onTime)", "\(row.late)", "\(row.missed)",
                    FixedDecimal.format(row.onTimePercent, decimals: 1)].map(CSVField.quoted).joined(separator: ",") + "\n"
        }
        return out
    }

    func html(_ report: CoverageReport) -> String {
        let zone = report.plan.timeZone
        func escaped(_ text: String) -> String { TrackExporter.xmlEscaped(text) }
        let areaRows = areas.map { row in
            "<tr><td>\(escaped(row.area))</td><td>\(escaped(row.device))</td><td>\(row.shifts)</td><td>\(row.covered) / \(row.assigned)</td><td>\(Formatting.percent(row.percent))</td></tr>"
        }.joined(separator: "\n")
        let unitRows = punctuality.map { row in
            "<tr><td>\(escaped(row.device))</td><td>\(row.windows)</td><td>\(row.onTime)</td><td>\(row.late)</td><td>\(row.missed)</td><td>\(Formatting.percent(row.onTimePercent))</td></tr>"
        }.joined(separator: "\n")
        return """
        \(PrintablePage.head(title: "\(report.plan.name) summary"))
        <h1>\(escaped(report.plan.name)): summary</h1>
        <p>\(zone.iso8601(report.range.lowerBound)) → \(zone.iso8601(report.range.upperBound)) (\(escaped(zone.name))), \(report.shifts.count) shifts</p>
        <h2>Coverage per area and unit</h2>
        <table><tr><th>area</th><th>unit</th><th>shifts</th><th>cells covered / assigned</th><th>coverage</th></tr>
        \(areaRows)</table>
        <h2>Checkpoint punctuality per unit</h2>
        <table><tr><th>unit</th><th>windows</th><th>on time</th><th>late</th><th>missed</th><th>on time</th></tr>
        \(unitRows)</table>
        </body></html>

        """
    }
}

/// RFC 4180 quoting for a field that may hold a comma, quote or newline (ids are free text).
enum CSVField {
    static func quoted(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return field }
        return "\"" + field.replacing("\"", with: "\"\"") + "\""
    }
}
