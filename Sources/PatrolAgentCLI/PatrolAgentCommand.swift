import ArgumentParser
import CPlatform
import PatrolAgent

@main
struct PatrolAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "patrol-agent",
        abstract: "PatrolLink agent: GPS, buttons and tag readers to a durable local log, forwarded to the centre.",
        version: String(cString: patrol_version()),
        subcommands: [RunCommand.self, StatusCommand.self, EventsCommand.self, ExportCommand.self, ConfigCommand.self, DoctorCommand.self,
                      NMEACommand.self]
    )
}
