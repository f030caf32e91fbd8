import ArgumentParser
import PatrolAgent

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Configuration tools.",
        subcommands: [Check.self]
    )

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a configuration file; every problem is printed with its line and key.")

        @Argument(help: "The TOML configuration file.")
        var file: String

        func run() async throws {
            let config = try loadConfig(file)
            // Making each output reads its key and certificate files, as at start.
            for uplink in config.uplinks {
                do {
                    _ = try uplink.makeOutput(deviceID: config.deviceID)
                } catch {
                    writeStandardError("\(file): \(error)\n")
                    throw ExitCode(78) // EX_CONFIG
                }
            }
            let uplinks = config.uplinks.map { "uplink \($0.name) (\($0.kind)) → \($0.destination)" }
            print("\(file): ok (" + (["device \(config.deviceID)", config.gpsDescription, "store \(config.store.path)"] + uplinks)
                .joined(separator: ", ") + ")")
        }
    }
}

/// Loads a configuration or exits non-zero with every problem on stderr.
func loadConfig(_ path: String) throws -> AgentConfig {
    do {
        return try AgentConfig.load(path: path)
    } catch {
        writeStandardError("\(error)\n")
        throw ExitCode(78) // EX_CONFIG
    }
}

