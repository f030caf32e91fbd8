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
            print("\(file): ok (device \(config.deviceID), \(config.gpsDescription), store \(config.store.path))")
        }
    }
}

/// Loads a configuration or exits non-zero with every problem on stderr.
func loadConfig(_ path: String) throws -> AgentConfig {
    do {
        return try AgentConfig.load(path: path)
    } catch {
        printError("\(error)")
        throw ExitCode(78) // EX_CONFIG
    }
}

/// Prints a line to standard error (unbuffered, so it is never lost on exit).
func printError(_ text: String) {
    let line = Array((text + "\n").utf8)
    line.withUnsafeBytes { _ = write(2, $0.baseAddress, $0.count) }
}

import Glibc
