import Foundation

/// The `patrol-agent` executable built beside the test bundle.
public enum AgentBinary {
    public static var path: String { BuiltExecutable.agent.path }

    /// Runs the agent with `arguments` to completion and returns its exit status and output.
    public static func run(_ arguments: [String], timeout: TimeInterval = 30) throws -> (status: Int32?, stdout: String, stderr: String) {
        try BuiltExecutable.agent.run(arguments, timeout: timeout)
    }
}
