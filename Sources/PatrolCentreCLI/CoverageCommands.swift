import ArgumentParser
import Foundation
import PatrolCentre
import PatrolCore
import PatrolCoverage

struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan", abstract: "Patrol plans: areas, checkpoints, units and shifts, posts and persons.", subcommands: [Check.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a plan file; every problem is printed with its line and key, exit 78 when there is one.")
        @Argument(help: "The plan file (see Config/plan.example.toml).") var file: String

        func run() async throws {
            let plan = try loadPlan(file)
            let cells = plan.cells().count
            let shifts = plan.units.reduce(0) { $0 + $1.shifts.count }
            print("\(file): ok: \(plan.areas.count) areas (\(cells) cells of \(Int(plan.grid.cellSize)) m), \(plan.checkpoints.count) checkpoints, \(plan.units.count) units, \(shifts) shifts, \(plan.posts.count) posts, \(plan.persons.count) persons")
        }
    }
}

/// Loads a plan or exits 78 (EX_CONFIG, as `patrol-agent config check`) with every problem on stderr.
func loadPlan(_ path: String) throws -> PatrolPlan {
    do { return try PlanFile.load(path: path) } catch {
        FileHandle.standardError.write(Data("\(error)\n".utf8))
        throw ExitCode(78)
    }
}

/// `--from T --to T`: a half-open UTC range, as every PatrolLink time range is.
struct TimeRangeOptions: ParsableArguments {
    @Option(help: "Start, UTC: 2026-11-26 or 2026-11-26T22:00:00Z.") var from: String
    @Option(help: "End (excluded), UTC.") var to: String

    func range() throws -> Range<UTCTime> {
        guard let start = UTCTime(iso8601: from) else { throw ValidationError("--from '\(from)' is not a date or date-time") }
        guard let end = UTCTime(iso8601: to) else { throw ValidationError("--to '\(to)' is not a date or date-time") }
        guard start < end else { throw ValidationError("--from must be before --to") }
        return start..<end
    }
}

extension ReportFormat: ExpressibleByArgument {}

struct CoverageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coverage",
        abstract: "Did each unit cover its cells and visit its checkpoints on time? Per unit and shift.")
    @OptionGroup var options: ConfigOption
    @Option(help: "The patrol plan file.") var plan: String
    @OptionGroup var range: TimeRangeOptions
    @Option(help: "Only this unit (device id).") var unit: String?
    @OptionGroup var street: StreetOption
    @Option(help: "table, json, csv, geojson, svg (the map alone), html (map and summary, for printing), or summary-csv / summary-html: the whole range summed up per area and unit (a week's assessment).")
    var format: ReportFormat = .table

    func run() async throws {
        let range = try range.range()
        let (_, storage) = try await options.openStorage()
        let patrolPlan = try await storage.plan(try loadPlan(plan), in: street.scope)
        if let unit, patrolPlan.unit(device: unit) == nil { throw CommandFailure("the plan has no unit with device '\(unit)'") }
        let report = try await CoverageQuery.report(plan: patrolPlan, storage: storage, range: range, device: unit)
        print(format.render(report), terminator: "")
    }
}

struct CellHistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cell-history",
        abstract: "Who covered one cell (e.g. E37N104) in a time range, and when; by the plan's units.")
    @OptionGroup var options: ConfigOption
    @Argument(help: "The cell id as reports print it, e.g. E37N104.") var cell: String
    @Option(help: "The patrol plan file (its grid and units).") var plan: String
    @OptionGroup var range: TimeRangeOptions
    @Option(help: "Only this unit (device id).") var unit: String?
    @OptionGroup var street: StreetOption
    @Option(help: "table or json.") var format: String = "table"

    func run() async throws {
        guard let index = CellIndex(cell) else { throw ValidationError("'\(cell)' is not a cell id; write it as reports do, e.g. E37N104") }
        guard format == "table" || format == "json" else { throw ValidationError("--format must be table or json") }
        let range = try range.range()
        let (_, storage) = try await options.openStorage()
        let patrolPlan = try await storage.plan(try loadPlan(plan), in: street.scope)
        if let unit, patrolPlan.unit(device: unit) == nil { throw CommandFailure("the plan has no unit with device '\(unit)'") }
        let visits = try await CoverageQuery.cellHistory(plan: patrolPlan, cell: index, storage: storage, range: range, device: unit)
        let render = format == "json" ? CellHistoryReport.json : CellHistoryReport.table
        print(render(index, range, visits, patrolPlan.timeZone), terminator: "")
    }
}

struct TracksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tracks", abstract: "Tracks the centre received.", subcommands: [Export.self])

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write one unit's track in a time range as GPX or GeoJSON, in time order.")
        @OptionGroup var options: ConfigOption
        @Option(help: "The device id.") var unit: String
        @OptionGroup var range: TimeRangeOptions
        @OptionGroup var street: StreetOption
        @Option(help: "gpx or geojson.") var format: String = "gpx"

        func run() async throws {
            let range = try range.range()
            guard let exportFormat = TrackExportFormat(rawValue: format), exportFormat != .csv else {
                throw ValidationError("--format must be gpx or geojson")
            }
            let (_, storage) = try await options.openStorage()
            // Another street's unit reads as one that does not exist, as everywhere else.
            guard try await storage.device(id: unit, in: street.scope) != nil else {
                throw CommandFailure("there is no device \(unit); patrol-centre devices list shows the registered ones")
            }
            var exporter = TrackExporter(format: exportFormat) { print($0, terminator: "") }
            exporter.begin(name: unit)
            try await storage.forEachTrackPoint(device: unit, in: range) { exporter.add($0.trackPoint) }
            exporter.end()
        }
    }
}
