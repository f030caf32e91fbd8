import ArgumentParser
import PatrolCentre
import PatrolCore
import PatrolCoverage

struct DutyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "duty", abstract: "Who was on patrol: sign-ons recorded at the centre, and the duty report.",
        subcommands: [SignOn.self, SignOff.self, Report.self])

    /// `--person --unit --at --by`, shared by sign-on and sign-off.
    struct RecordOptions: ParsableArguments {
        @OptionGroup var options: ConfigOption
        @Option(help: "The person's id in the plan ([[person]] id).") var person: String
        @Option(help: "The unit's device id.") var unit: String
        @Option(help: "When, UTC: 2026-11-26T22:00:00Z.") var at: String
        @Option(help: "Who records it (staff name; a street's staff member records only on their street's units); shown as the evidence.")
        var by: String

        func record(_ change: DutyChange) async throws {
            guard let time = UTCTime(iso8601: at) else { throw ValidationError("--at '\(at)' is not a date-time; write 2026-11-26T22:00:00Z") }
            for (name, value) in [("--person", person), ("--unit", unit), ("--by", by)]
            where value.isEmpty || value.utf8.count > UplinkLimits.maxShortStringBytes {
                throw ValidationError("\(name) must be 1 to \(UplinkLimits.maxShortStringBytes) bytes")
            }
            let (_, storage) = try await options.openStorage()
            // A street's staff record only on their street's devices; the district's, on any unit (registered or not, as before streets).
            let scope = try await storage.scope(ofStaff: by)
            if scope != .district, try await storage.device(id: unit, in: scope) == nil {
                throw CommandFailure("there is no device \(unit)")
            }
            let now = CentreClock.system.now()
            try await storage.addDutyRecord(CentreDutyRecord(person: person, device: unit, change: change, time: time,
                                                             recordedBy: by, recordedAt: now))
            print("\(change.rawValue) of \(person) on \(unit) at \(time.iso8601) recorded by \(by)")
        }
    }

    struct SignOn: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sign-on", abstract: "Record at the centre that a person signed on to a unit (e.g. a unit without a duty reader).")
        @OptionGroup var record: RecordOptions
        func run() async throws { try await record.record(.signOn) }
    }

    struct SignOff: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sign-off", abstract: "Record at the centre that a person signed off a unit.")
        @OptionGroup var record: RecordOptions
        func run() async throws { try await record.record(.signOff) }
    }

    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Duty time per person, unit and area, and quotas met per week and month (Docs/coverage.md, \"Duty\").")
        @OptionGroup var options: ConfigOption
        @Option(help: "The patrol plan file (its persons, posts and quotas).") var plan: String
        @OptionGroup var range: TimeRangeOptions
        @Option(help: "Only this person (id in the plan).") var person: String?
        @OptionGroup var street: StreetOption
        @Option(help: "table, csv, html or json.") var format: DutyReportFormat = .table

        func run() async throws {
            let range = try range.range()
            let days = range.lowerBound.seconds(to: range.upperBound) / 86_400
            guard days <= Double(DutyReportBuilder.maximumRangeDays) else {
                throw ValidationError("--from to --to is \(Int(days.rounded(.up))) days; a duty report covers at most "
                                      + "\(DutyReportBuilder.maximumRangeDays) days: report a year or less at a time")
            }
            let patrolPlan = try loadPlan(plan)
            if let person, patrolPlan.person(person) == nil { throw CommandFailure("the plan has no person with id '\(person)'") }
            let (_, storage) = try await options.openStorage()
            let report = try await DutyQuery.report(plan: patrolPlan, storage: storage, range: range, person: person, scope: street.scope)
            print(format.render(report), terminator: "")
        }
    }
}

extension DutyReportFormat: ExpressibleByArgument {}
