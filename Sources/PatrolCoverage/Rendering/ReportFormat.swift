import PatrolCore

/// The formats `patrol-centre coverage` writes: per shift, or (`summary-…`) summed up over the
/// whole range per area and unit, for a week's or a month's assessment.
public enum ReportFormat: String, Sendable, CaseIterable {
    case table, json, csv, geojson, svg, html
    case summaryCSV = "summary-csv"
    case summaryHTML = "summary-html"

    /// The whole report in this format.
    public func render(_ report: CoverageReport) -> String {
        switch self {
        case .table: ReportText.table(report)
        case .csv: ReportText.csv(report)
        case .json: ReportJSON.json(report)
        case .geojson: ReportJSON.geojson(report)
        case .svg: CoverageMap(report).svg()
        case .html: CoverageMap(report).html()
        case .summaryCSV: PeriodSummary(report).csv()
        case .summaryHTML: PeriodSummary(report).html(report)
        }
    }
}

/// Small formatting rules every renderer shares, so the table, CSV and map agree on numbers.
enum Formatting {
    /// "1 h 05 min", "12 min", "40 s".
    static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded())
        if whole < 60 { return "\(whole) s" }
        let minutes = whole / 60
        if minutes < 60 { return "\(minutes) min" }
        let rest = minutes % 60
        return "\(minutes / 60) h \(rest < 10 ? "0" : "")\(rest) min"
    }

    static func percent(_ value: Double) -> String { FixedDecimal.format(value, decimals: 1, trim: false) + " %" }

    static func kilometres(_ metres: Double) -> String { FixedDecimal.format(metres / 1000, decimals: 2, trim: false) + " km" }

    static func kilometresPerHour(_ metresPerSecond: Double) -> String {
        FixedDecimal.format(metresPerSecond * 3.6, decimals: 0) + " km/h"
    }

    /// "22:14:05" local time when the day is clear from the shift; the shift itself prints full
    /// ISO 8601 with its offset.
    static func clock(_ time: UTCTime, _ zone: TimeZoneRules) -> String {
        let iso = zone.local(time).iso8601
        guard let t = iso.firstIndex(of: "T") else { return iso }
        return String(iso[iso.index(after: t)...].prefix(8))
    }

    static func unitLabel(_ shift: ShiftReport) -> String {
        shift.unitName.map { "\(shift.device) (\($0))" } ?? shift.device
    }
}
