import Foundation

/// A private gpsd fed from a receiver log by gpsd's `gpsfake`, listening on 127.0.0.1.
///
/// gpsd only reads the device once a client watches, so sentences played before the code under
/// test connects are lost: compare what arrives with the log's `.chk`, not a count from the start.
public final class GPSFake {
    public let port: Int
    public let logPath: String
    private let process: ChildProcess

    /// Starts gpsfake (and through it gpsd) and waits until gpsd accepts connections.
    ///
    /// - Parameters:
    ///   - logPath: an NMEA log, e.g. `Fixtures.path("gpsd-logs/X.log")`.
    ///   - port: the port gpsd listens on; a free one when nil. Pass an earlier instance's port to
    ///     simulate a gpsd restart.
    ///   - cycle: seconds between sentences (`-c`).
    ///   - once: play the log once and stop (`-1`) instead of looping it.
    ///   - exitWait: seconds gpsfake waits after the log before it exits (`-W`); without it gpsfake
    ///     spins for a minute.
    public init(logPath: String, port: Int? = nil, cycle: Double = 0.05, once: Bool = true,
                exitWait: Int = 2, startTimeout: TimeInterval = 15) throws {
        self.port = try port ?? FreePort.allocate()
        self.logPath = logPath
        var arguments = ["-q", "-c", String(cycle), "-W", String(exitWait), "-P", String(self.port)]
        if once { arguments.insert("-1", at: 0) }
        process = try ChildProcess("gpsfake", arguments + [logPath])
        let listening = waitUntil(timeout: startTimeout) { [port = self.port, process] () -> Bool? in
            if FreePort.isAccepting(port) { return true }
            return process.hasExited ? false : nil
        }
        guard listening == true else {
            process.signal(SIGKILL)
            throw GPSFakeError(description: "gpsfake did not start gpsd on port \(self.port): \(process.output)")
        }
    }

    deinit {
        stop()
    }

    /// Kills gpsfake and its gpsd at once (no goodbye to clients, like a crash) and waits for both.
    public func stop() {
        process.signal(SIGKILL)
        process.waitForExit(timeout: 5)
        // The group may outlive gpsfake for a moment; wait until gpsd has let go of the port.
        _ = waitUntil(timeout: 5) { FreePort.isAccepting(port) ? nil : true }
    }

    /// What gpsfake and gpsd printed, for failure messages.
    public var output: String { process.output }
}

public struct GPSFakeError: Error, CustomStringConvertible {
    public let description: String
}
