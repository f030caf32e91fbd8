import Foundation

/// An executable of this package built beside the test bundle (`swift build --build-tests` builds
/// them all; scripts/test.sh does that before running the tests).
public struct BuiltExecutable: Sendable {
    public static let agent = BuiltExecutable(name: "patrol-agent")
    public static let centre = BuiltExecutable(name: "patrol-centre")

    public let name: String

    public var path: String {
        let testBinary = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var folder = URL(fileURLWithPath: testBinary).deletingLastPathComponent()
        // Swift Testing on Linux runs from PatrolLinkPackageTests.xctest in the build folder.
        if folder.lastPathComponent.hasSuffix(".xctest") { folder.deleteLastPathComponent() }
        return folder.appendingPathComponent(name).path
    }

    /// Runs the executable with `arguments` (and `input` on its standard input) to completion and
    /// returns its exit status and output.
    public func run(_ arguments: [String], input: String? = nil,
                    timeout: TimeInterval = 30) throws -> (status: Int32?, stdout: String, stderr: String) {
        let process = try ChildProcess(path, arguments, standardInput: input)
        let status = process.waitForExitCode(timeout: timeout)
        if status == nil { process.signal(SIGKILL) }
        return (status, process.standardOutput, process.standardError)
    }

    /// `patrol-agent status --config config --json` as a dictionary; empty when it cannot be read
    /// (the agent not started yet, or the command failed).
    public static func agentStatus(config: String) -> [String: Any] {
        guard let result = try? agent.run(["status", "--config", config, "--json"]) else { return [:] }
        return (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]) ?? [:]
    }

    /// Whether the agent process `pid` reports itself running. Its services, and so its SIGTERM
    /// handling, run by then: a SIGTERM sent earlier kills it at once (exit 143), not gracefully.
    public static func agentIsRunning(config: String, pid: pid_t) -> Bool {
        let status = agentStatus(config: config)
        return status["running"] as? Bool == true && status["pid"] as? Int == Int(pid)
    }
}
