import ArgumentParser
import CPlatform
import PatrolCentre

@main
struct PatrolCentreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "patrol-centre",
        abstract: "PatrolLink street centre: receives tracks, alarms and check-ins from patrol boards.",
        version: String(cString: patrol_version()),
        subcommands: [ServeCommand.self, DevicesCommand.self, StaffCommand.self, AuditCommand.self, AlarmsCommand.self,
                      PlanCommand.self, CoverageCommand.self, CellHistoryCommand.self, TracksCommand.self, JT808Command.self]
    )
}

/// `--config FILE`, shared by every command.
struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: "The centre's TOML configuration file.")
    var config: String

    func load() throws -> CentreConfig { try CentreConfig.load(path: config) }

    func openStorage() throws -> (CentreConfig, SQLiteCentreStorage) {
        let configuration = try load()
        return (configuration, try SQLiteCentreStorage(path: configuration.databasePath))
    }
}

/// A command that could not do what was asked (no such alarm, id taken): printed without the usage text.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
