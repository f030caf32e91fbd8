import Foundation

/// A private gpsd fed from a receiver log by gpsd's `gpsfake`, listening on 127.0.0.1.
///
/// gpsd only reads the device once a client watches, so sentences played before the code under
/// test connects are lost: compare what arrives with the log's `.chk`, not a count from the start.
public final class GPSFake {
    public let port: Int
    public let logPath: String
    private let process: ChildProcess

    /// Starts gpsfake (and through it gpsd) and waits until gpsd accepts connections and has the
    /// fake receiver.
    ///
    /// gpsfake hands gpsd the receiver through gpsd's control socket as soon as the socket file
    /// exists, which is before gpsd listens on it; on a loaded machine the hand-over is refused and
    /// gpsfake carries on without a word, leaving a gpsd with no receiver (seen in CI). Such a
    /// gpsfake is killed and started again.
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
        var attempt = 1
        while true {
            let process = try ChildProcess("gpsfake", arguments + [logPath])
            switch Self.waitForReceiver(port: self.port, of: process, timeout: startTimeout) {
            case .ready:
                self.process = process
                return
            case .noReceiver where attempt < 3:
                Self.kill(process, port: self.port)
                attempt += 1
            case .noReceiver, .notListening:
                Self.kill(process, port: self.port)
                throw GPSFakeError(description: "gpsfake did not start gpsd with its receiver on port \(self.port) "
                                   + "(attempt \(attempt)): \(process.output)")
            }
        }
    }

    private enum Start { case ready, noReceiver, notListening }

    /// Waits until gpsd lists a device; `.noReceiver` when gpsd listens but none came within 3 s,
    /// far longer than gpsfake's hand-over takes.
    private static func waitForReceiver(port: Int, of process: ChildProcess, timeout: TimeInterval) -> Start {
        var listeningSince: Date?
        let outcome = waitUntil(timeout: timeout) { () -> Start? in
            if process.hasExited { return .notListening }
            guard let devices = deviceList(port: port) else { return nil }
            if devices.contains("\"path\"") { return .ready }
            let since = listeningSince ?? Date()
            listeningSince = since
            return Date().timeIntervalSince(since) > 3 ? .noReceiver : nil
        }
        return outcome ?? .notListening
    }

    /// gpsd's answer to `?DEVICES;` (which does not start it reading a device), or nil when gpsd
    /// does not answer yet.
    private static func deviceList(port: Int) -> String? {
        guard let fd = FreePort.connectedSocket(port) else { return nil }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let query = Array("?DEVICES;\n".utf8)
        guard send(fd, query, query.count, Int32(MSG_NOSIGNAL)) == query.count else { return nil }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        // gpsd greets with VERSION, then answers the query with one DEVICES line.
        while received.count < 65536 {
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { return nil }
            received += buffer[..<count]
            // Whole lines only: what follows the last newline may still be arriving. Bytes, not
            // Characters: gpsd ends lines with CR LF, which Swift reads as one Character.
            let lines = received.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast()
                .map { String(decoding: $0, as: UTF8.self) }
            if let devices = lines.first(where: { $0.contains("\"class\":\"DEVICES\"") }) {
                return devices
            }
        }
        return nil
    }

    /// Kills gpsfake's process group and waits until its gpsd has let go of the port.
    private static func kill(_ process: ChildProcess, port: Int) {
        process.signal(SIGKILL)
        process.waitForExit(timeout: 5)
        // The group may outlive gpsfake for a moment.
        _ = waitUntil(timeout: 5) { FreePort.isAccepting(port) ? nil : true }
    }

    deinit {
        stop()
    }

    /// Kills gpsfake and its gpsd at once (no goodbye to clients, like a crash) and waits for both.
    public func stop() {
        Self.kill(process, port: port)
    }

    /// What gpsfake and gpsd printed, for failure messages.
    public var output: String { process.output }
}

public struct GPSFakeError: Error, CustomStringConvertible {
    public let description: String
}
