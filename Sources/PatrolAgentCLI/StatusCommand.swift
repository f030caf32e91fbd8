import ArgumentParser
import PatrolAgent

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the agent's state: GPS source, last fix and its age, clock trust, store, drop counters, inputs and the last events.")

    @Option(name: .long, help: "The TOML configuration file.")
    var config: String

    @Flag(name: .long, help: "Print one JSON object.")
    var json = false

    func run() async throws {
        let report = StatusReport.gather(config: try loadConfig(config))
        print(json ? report.json : report.text)
    }
}
