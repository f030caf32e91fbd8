import ArgumentParser
import PatrolAgent

struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the board: configuration, store, devices and what is on them, gpsd, clock, uplinks (one signed heartbeat each); exit 1 on any failure.",
        discussion: """
            One line per check: OK, WARN, FAIL (with what to do) or SKIPPED. Safe while the agent runs: \
            the devices it holds are then not opened (stop it to see what is on their lines).
            """)

    @Option(name: .long, help: "The TOML configuration file.")
    var config: String = "/etc/patrol-agent/agent.toml"

    @Option(name: .long, help: "The user the service runs as, whose access to devices and the store is checked.")
    var user: String = "patrol"

    @Option(name: .long, help: "Seconds to listen to each device and to gpsd.")
    var listen: Double = 3

    @Flag(name: .long, help: "Print one JSON object.")
    var json = false

    func validate() throws {
        guard listen > 0, listen <= 600 else { throw ValidationError("--listen must be more than 0 and at most 600 seconds") }
    }

    func run() async throws {
        let report = await Doctor.examine(Doctor.Options(configPath: config, serviceUser: user, listenSeconds: listen))
        print(json ? report.json : report.text)
        if report.failed { throw ExitCode.failure }
    }
}
