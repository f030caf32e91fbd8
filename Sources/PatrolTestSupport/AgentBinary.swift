import Foundation

/// The `patrol-agent` executable built beside the test bundle (`swift build --product patrol-agent`
/// puts it there; scripts/test.sh does that before running the tests).
public enum AgentBinary {
    public static var path: String { builtProduct("patrol-agent") }

    /// An executable product built beside the test bundle.
    static func builtProduct(_ name: String) -> String {
        let testBinary = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var folder = URL(fileURLWithPath: testBinary).deletingLastPathComponent()
        // Swift Testing on Linux runs from PatrolLinkPackageTests.xctest in the build folder.
        if folder.lastPathComponent.hasSuffix(".xctest") { folder.deleteLastPathComponent() }
        return folder.appendingPathComponent(name).path
    }

    /// Runs the agent with `arguments` to completion and returns its exit status and output.
    public static func run(_ arguments: [String], timeout: TimeInterval = 30) throws -> (status: Int32?, stdout: String, stderr: String) {
        let process = try ChildProcess(path, arguments)
        let status = process.waitForExitCode(timeout: timeout)
        if status == nil { process.signal(SIGKILL) }
        return (status, process.standardOutput, process.standardError)
    }
}
