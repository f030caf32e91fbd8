import ArgumentParser
import PatrolAgent
import PatrolCore
import PatrolStore
#if canImport(Glibc)
import Glibc
#endif

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the stored track as GPX, GeoJSON or CSV to standard output.")

    @Option(name: .long, help: "The TOML configuration file.")
    var config: String

    @Option(name: .long, help: "gpx, geojson or csv.")
    var format: String = "gpx"

    @Option(name: .long, help: "Only points at or after this UTC time (e.g. 2026-05-01 or 2026-05-01T08:00:00Z).")
    var since: String?

    @Option(name: .long, help: "Only points before this UTC time.")
    var until: String?

    func validate() throws {
        guard TrackExportFormat(rawValue: format) != nil else {
            throw ValidationError("--format must be one of: \(TrackExportFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        for (name, value) in [("--since", since), ("--until", until)] {
            if let value, UTCTime(iso8601: value) == nil {
                throw ValidationError("\(name) '\(value)' is not a time; write e.g. 2026-05-01 or 2026-05-01T08:00:00Z")
            }
        }
    }

    func run() async throws {
        let config = try loadConfig(config)
        guard access(config.store.path, F_OK) == 0 else {
            writeStandardError("patrol-agent export: no track stored yet: \(config.store.path) does not exist (run the agent with this configuration first)\n")
            throw ExitCode.failure
        }
        if let agent = StatusReport.runningAgent(config: config) {
            writeStandardError("patrol-agent export: the running agent (pid \(agent.pid)) holds \(config.store.path) exclusively, to spare the SD card; stop it first (systemctl stop patrol-agent), then export\n")
            throw ExitCode.failure
        }
        let store = try AgentStore.open(path: config.store.path, logger: .init(label: "export"), lockWaitSeconds: AgentStore.commandLockWaitSeconds, recovering: false)
        var output = OutputBuffer(descriptor: STDOUT_FILENO)
        var exporter = TrackExporter(format: TrackExportFormat(rawValue: format) ?? .gpx) { output.append($0) }
        exporter.begin(name: config.deviceID)
        try store.forEachTrackPoint(from: since.flatMap { UTCTime(iso8601: $0) }, to: until.flatMap { UTCTime(iso8601: $0) }) {
            exporter.add($0.point)
        }
        exporter.end()
        guard output.flush() else {
            writeStandardError("patrol-agent export: cannot write output: \(errorText())\n")
            throw ExitCode.failure
        }
    }
}
