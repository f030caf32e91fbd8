import ArgumentParser

struct NMEACommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nmea",
        abstract: "NMEA 0183 tools.",
        subcommands: []
    )
}
