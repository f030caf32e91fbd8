import ArgumentParser
import CPlatform
import PatrolCentre
import PatrolCentrePostgres

@main
struct PatrolCentreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "patrol-centre",
        abstract: "PatrolLink street centre: receives tracks, alarms and check-ins from patrol boards.",
        version: String(cString: patrol_version()),
        subcommands: [ServeCommand.self, MigrateCommand.self, DevicesCommand.self, StaffCommand.self, AuditCommand.self, AlarmsCommand.self,
                      PlanCommand.self, CoverageCommand.self, CellHistoryCommand.self, DutyCommand.self, TracksCommand.self,
                      JT808Command.self, ImportSQLiteCommand.self]
    )
}

/// `--config FILE`, shared by every command.
struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: "The centre's TOML configuration file.")
    var config: String

    func load() throws -> CentreConfig { try CentreConfig.load(path: config) }

    /// Opens the configured database. PostgreSQL's schema is changed only with `migrate` (by
    /// `patrol-centre migrate`): several instances share it, and each refuses a schema that is not
    /// its own. A SQLite file belongs to one centre and is migrated when opened.
    func openStorage(migrate: Bool = false) async throws -> (CentreConfig, any TerminalStorage) {
        let configuration = try load()
        switch configuration.storageBackend {
        case .sqlite(let path):
            return (configuration, try SQLiteCentreStorage(path: path))
        case .postgres(let settings):
            return (configuration, try await PostgresCentreStorage(settings: settings, migrate: migrate))
        }
    }
}

/// `--street S` of the reading commands: only that street's units, alarms and reports; the
/// whole district without it.
struct StreetOption: ParsableArguments {
    @Option(help: "Only this street's units and alarms (default: the whole district).") var street: String?

    var scope: StaffScope { StaffScope(street: street) }
}

extension CentreStorage {
    /// The scope of the staff member a command acts as (`--by NAME`): their street's, or the
    /// district's. A name that is no staff member acts for the district, as the command line did
    /// before streets (it needs the database's credentials, so it is the district's own tool).
    func scope(ofStaff name: String) async throws -> StaffScope {
        try await staffMember(name: name)?.scope ?? .district
    }
}

/// A command that could not do what was asked (no such alarm, id taken): printed without the usage text.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
