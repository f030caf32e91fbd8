import Dispatch
import Logging
import PatrolCore
import PatrolEdgeSupport

/// Fixes from a gpsd daemon, through libgps.
///
/// gpsd restarts (package upgrades, a USB receiver re-plugged) and may be down for a long time, so
/// `run` never gives up: it says once that gpsd is lost, reports `.down`, reconnects with a
/// doubling delay, and says once that it is back. libgps blocks, so every libgps call runs on a
/// serial queue of this source's own, never on Swift's cooperative pool.
///
/// A gpsd that answers is not yet a working source: gpsd keeps running, and keeps the watch open,
/// when its receiver is unplugged or has not been handed to it yet. Only reports from a receiver
/// make the source working, and `receiverSilenceLimit` without one reports it `.down` (once) while
/// the watch stays open, so the receiver's return is seen at once.
public struct GPSDSource: FixSource {
    public var host: String
    public var port: Int
    public var logger: Logger
    public var rollover: WeekRollover
    /// First and longest delay between reconnection attempts.
    public var reconnectDelay: ClosedRange<Duration>
    /// Longest time one wait for gpsd may block. It bounds how long cancellation takes to be
    /// noticed, and a quiet gpsd for this long ends the current epoch (see `EpochAssembler`).
    public var readTimeout: Duration
    /// How long a connected gpsd may pass on no report from a receiver before the source is down;
    /// receivers report every second or more often.
    public var receiverSilenceLimit: Duration

    public var name: String { "gpsd \(host):\(port)" }

    public init(host: String = "localhost", port: Int = 2947, logger: Logger,
                rollover: WeekRollover = WeekRollover(),
                reconnectDelay: ClosedRange<Duration> = .milliseconds(500) ... .seconds(30),
                readTimeout: Duration = .milliseconds(250), receiverSilenceLimit: Duration = .seconds(10)) {
        self.host = host
        self.port = port
        self.logger = logger
        self.rollover = rollover
        self.reconnectDelay = reconnectDelay
        self.readTimeout = readTimeout
        self.receiverSilenceLimit = receiverSilenceLimit
    }

    public func run(deliver: @escaping @Sendable (Fix) async -> Void,
                    stateChanged: @escaping @Sendable (GPSSourceState) async -> Void) async {
        let queue = DispatchQueue(label: "PatrolLink.\(name)")
        var supervisor = ConnectionSupervisor(sourceName: name, logger: logger, reconnectDelay: reconnectDelay,
                                              stateChanged: stateChanged)
        var epochs = EpochAssembler()
        await supervisor.starting()
        while !Task.isCancelled {
            let connection = GPSDConnection()
            do throws(GPSDConnection.Failure) {
                try await queue.perform { [host, port] () throws(GPSDConnection.Failure) in
                    try connection.open(host: host, port: port)
                }
                supervisor.opened()
                while !Task.isCancelled {
                    let report = try await queue.perform { [rollover, waitMicroseconds] () throws(GPSDConnection.Failure) in
                        try connection.nextReport(waitingAtMost: waitMicroseconds, rollover: rollover)
                    }
                    switch report {
                    case .fix, .fromReceiver:
                        await supervisor.working()
                    case .quiet, .fromGpsd:
                        await supervisor.nothingHeard(
                            limit: receiverSilenceLimit,
                            reason: "connected, but no receiver has reported for \(receiverSilenceLimit) "
                                + "(is the receiver plugged in, and known to gpsd?)")
                    }
                    let finishedEpoch: Fix? = switch report {
                    case .fix(let fix): epochs.add(fix)
                    case .quiet: epochs.finish()
                    case .fromGpsd, .fromReceiver: nil
                    }
                    if let finishedEpoch { await deliver(finishedEpoch) }
                }
            } catch {
                if let lastEpoch = epochs.finish() { await deliver(lastEpoch) }
                await supervisor.failed(error.reason)
            }
            await queue.perform { connection.close() }
            await supervisor.pauseBeforeRetry()
        }
    }

    private var waitMicroseconds: Int32 {
        let (seconds, attoseconds) = readTimeout.components
        return Int32(clamping: seconds * 1_000_000 + attoseconds / 1_000_000_000_000)
    }
}
