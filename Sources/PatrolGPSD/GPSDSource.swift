import Dispatch
import Logging
import PatrolCore

/// Fixes from a gpsd daemon, through libgps.
///
/// gpsd restarts (package upgrades, a USB receiver re-plugged) and may be down for a long time, so
/// `run` never gives up: it says once that gpsd is lost, reports `.down`, reconnects with a
/// doubling delay, and says once that it is back. libgps blocks, so every libgps call runs on a
/// serial queue of this source's own, never on Swift's cooperative pool.
public struct GPSDSource: FixSource {
    public var host: String
    public var port: Int
    public var logger: Logger
    public var rollover: WeekRollover
    /// First and longest delay between reconnection attempts.
    public var reconnectDelay: ClosedRange<Duration>
    /// Longest time one wait for gpsd may block; bounds how long cancellation takes to be noticed.
    public var readTimeout: Duration

    public var name: String { "gpsd \(host):\(port)" }

    public init(host: String = "localhost", port: Int = 2947, logger: Logger,
                rollover: WeekRollover = WeekRollover(),
                reconnectDelay: ClosedRange<Duration> = .milliseconds(500) ... .seconds(30),
                readTimeout: Duration = .milliseconds(250)) {
        self.host = host
        self.port = port
        self.logger = logger
        self.rollover = rollover
        self.reconnectDelay = reconnectDelay
        self.readTimeout = readTimeout
    }

    public func run(deliver: @escaping @Sendable (Fix) async -> Void,
                    stateChanged: @escaping @Sendable (GPSSourceState) async -> Void) async {
        let queue = DispatchQueue(label: "PatrolLink.\(name)")
        var backoff = Backoff(reconnectDelay)
        var outage = OutageLog(sourceName: name, logger: logger, retryCap: reconnectDelay.upperBound)
        var lastTime: UTCTime?
        await stateChanged(.connecting)
        while !Task.isCancelled {
            let connection = GPSDConnection()
            do throws(GPSDConnection.Failure) {
                try await queue.perform { [host, port] () throws(GPSDConnection.Failure) in
                    try connection.open(host: host, port: port)
                }
                outage.connected()
                await stateChanged(.connected)
                backoff.reset()
                while !Task.isCancelled {
                    guard let fix = try await queue.perform({ [rollover, waitMicroseconds] () throws(GPSDConnection.Failure) in
                        try connection.nextFix(waitingAtMost: waitMicroseconds, rollover: rollover)
                    }) else { continue }
                    // gpsd may send the same epoch's TPV more than once; one fix per receiver time.
                    guard fix.time != lastTime else { continue }
                    lastTime = fix.time
                    await deliver(fix)
                }
            } catch {
                if let reason = outage.lost(error.reason) { await stateChanged(.down(reason: reason)) }
            }
            await queue.perform { connection.close() }
            try? await Task.sleep(for: backoff.next())
        }
    }

    private var waitMicroseconds: Int32 {
        let (seconds, attoseconds) = readTimeout.components
        return Int32(clamping: seconds * 1_000_000 + attoseconds / 1_000_000_000_000)
    }
}
