import ArgumentParser
import Logging
import PatrolAgent

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the agent: GPS to a durable local track (SIGTERM or SIGINT commits and exits 0; SIGHUP re-reads the configuration).")

    @Option(name: .long, help: "The TOML configuration file.")
    var config: String

    func run() async throws {
        let config = try loadConfig(config)
        let level = config.logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "patrol-agent")
        do {
            try await AgentRunner.run(config: config, path: self.config, logger: logger)
        } catch {
            logger.critical("patrol-agent stopped: \(error)")
            throw ExitCode.failure
        }
    }
}
