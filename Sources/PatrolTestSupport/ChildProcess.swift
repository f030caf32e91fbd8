import Foundation

/// A program a test runs beside itself (gpsfake, gpsd), in a process group of its own.
///
/// Its own group lets `signal` reach the grandchildren too: gpsfake starts gpsd, and a test that
/// killed only gpsfake would leave a gpsd holding the port. Output goes to files, so that a test
/// can wait for a line and a failing test can show what the program said.
public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    public let stdoutPath: String
    public let stderrPath: String
    private let outputDirectory: TemporaryDirectory
    private let lock = NSLock()
    private var exitStatus: Int32?

    /// Starts `executable` (looked up in `PATH` when it has no slash) with `arguments`, and the
    /// test's environment plus `environment`; its standard input is `standardInput` (none: empty).
    public init(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                standardInput: String? = nil) throws {
        outputDirectory = try TemporaryDirectory()
        stdoutPath = outputDirectory.path + "/stdout"
        stderrPath = outputDirectory.path + "/stderr"
        var stdinPath = "/dev/null"
        if let standardInput {
            stdinPath = outputDirectory.path + "/stdin"
            try Data(standardInput.utf8).write(to: URL(fileURLWithPath: stdinPath))
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdinPath, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // A fresh group, and default signal handling: the test runner's blocked or ignored
        // signals would otherwise be inherited, and SIGTERM would not stop the program.
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attributes, 0)
        var signals = sigset_t()
        sigemptyset(&signals)
        posix_spawnattr_setsigmask(&attributes, &signals)
        sigfillset(&signals)
        posix_spawnattr_setsigdefault(&attributes, &signals)

        let mergedEnvironment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = mergedEnvironment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }

        var child: pid_t = 0
        let result = posix_spawnp(&child, executable, &actions, &attributes, argv, envp)
        guard result == 0 else { throw SystemCallError("posix_spawnp \(executable)", errno: result) }
        pid = child
    }

    deinit {
        if !hasExited {
            signal(SIGKILL)
            _ = waitForExit(timeout: 5)
        }
    }

    /// Sends `signal` to the process and everything it started (its process group).
    public func signal(_ signal: Int32) {
        kill(-pid, signal)
    }

    public var hasExited: Bool { reap(blocking: false) != nil }

    /// Waits up to `timeout` seconds for the process to end; returns its wait status, or nil if it still runs.
    @discardableResult
    public func waitForExit(timeout: TimeInterval) -> Int32? {
        waitUntil(timeout: timeout) { reap(blocking: false) }
    }

    /// Waits up to `timeout` seconds until stdout or stderr contains `text`; returns whether it did.
    public func waitForOutput(containing text: String, timeout: TimeInterval) -> Bool {
        waitUntil(timeout: timeout) { output.contains(text) ? true : nil } ?? false
    }

    /// Waits like `waitForExit` and returns the exit code as a shell reports it (128 + N for signal N).
    public func waitForExitCode(timeout: TimeInterval) -> Int32? {
        guard let status = waitForExit(timeout: timeout) else { return nil }
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    /// Everything the process wrote so far, stdout then stderr.
    public var output: String { standardOutput + standardError }

    public var standardOutput: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }

    public var standardError: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    private func reap(blocking: Bool) -> Int32? {
        lock.lock()
        defer { lock.unlock() }
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        if waitpid(pid, &status, blocking ? 0 : WNOHANG) == pid { exitStatus = status }
        return exitStatus
    }
}

/// Checks `condition` every 20 ms until it gives a value or `timeout` seconds have passed.
///
/// Test support only: the code under test must not poll, but a test waiting for an outside
/// program (a port to open, a line to appear) has nothing else to wait on.
public func waitUntil<T>(timeout: TimeInterval, _ condition: () -> T?) -> T? {
    let deadline = Date(timeIntervalSinceNow: timeout)
    while true {
        if let value = condition() { return value }
        if Date() >= deadline { return nil }
        usleep(20_000)
    }
}

/// Checks `condition` every 20 ms until it holds or `timeout` has passed; returns whether it held.
public func eventually(timeout: Duration, _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while true {
        if await condition() { return true }
        if ContinuousClock.now >= deadline { return false }
        try? await Task.sleep(for: .milliseconds(20))
    }
}
