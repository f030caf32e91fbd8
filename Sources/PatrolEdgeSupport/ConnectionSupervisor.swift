import Logging
import PatrolCore

/// The reconnect policy of a `FixSource.run` loop: what state to report, what to log, how long to wait.
///
/// A lost source is said once, with `.down`, and its return once, however many attempts lie
/// between: a patrol car can be parked for hours with its receiver unplugged, and a line per retry
/// would bury everything else. Attempts wait a doubling delay, so a restarted gpsd or a reseated
/// plug is found within a second while a long outage costs one attempt per `reconnectDelay.upperBound`.
public struct ConnectionSupervisor {
    private let sourceName: String
    private let logger: Logger
    private let reconnectDelay: ClosedRange<Duration>
    private let stateChanged: @Sendable (GPSSourceState) async -> Void
    private var nextDelay: Duration
    private var isWorking = false
    private var hasWorked = false
    private var outageStart: ContinuousClock.Instant?
    /// When the current connection opened or the source last reported, whichever is later.
    private var lastHeard = ContinuousClock.now
    private var silenceReported = false

    public init(sourceName: String, logger: Logger, reconnectDelay: ClosedRange<Duration>,
         stateChanged: @escaping @Sendable (GPSSourceState) async -> Void) {
        self.sourceName = sourceName
        self.logger = logger
        self.reconnectDelay = reconnectDelay
        self.stateChanged = stateChanged
        nextDelay = reconnectDelay.lowerBound
    }

    public func starting() async {
        await stateChanged(.connecting)
    }

    /// A connection is open; nothing is heard on it yet, so its silence counts from now.
    public mutating func opened() {
        lastHeard = .now
        silenceReported = false
    }

    /// A read on the current connection worked. Only then is a source back: a device node that
    /// opens and hangs up at once, or a gpsd that accepts and drops, must not flap the log.
    public mutating func working() async {
        lastHeard = .now
        silenceReported = false
        guard !isWorking else { return }
        if let outageStart {
            logger.notice("\(sourceName) back after \(Self.seconds(ContinuousClock.now - outageStart))")
        } else {
            logger.info("\(sourceName) connected")
        }
        isWorking = true
        hasWorked = true
        outageStart = nil
        nextDelay = reconnectDelay.lowerBound
        await stateChanged(.connected)
    }

    /// Connecting or reading failed; logs and reports only when this starts an outage.
    public mutating func failed(_ reason: String) async {
        await startOutage(reason, then: "retrying in the background, at most every \(reconnectDelay.upperBound)")
    }

    /// A wait on an open connection brought nothing from the source itself. A source that should
    /// report all the time (a GPS receiver) and has been silent for `limit` is down, said once;
    /// the connection stays open, so its next report ends the outage (`working`).
    public mutating func nothingHeard(limit: Duration, reason: @autoclosure () -> String) async {
        guard !silenceReported, ContinuousClock.now - lastHeard >= limit else { return }
        silenceReported = true
        await startOutage(reason(), then: "waiting for it")
    }

    private mutating func startOutage(_ reason: String, then whatNext: String) async {
        isWorking = false
        guard outageStart == nil else { return }
        outageStart = .now
        let what = hasWorked ? "lost" : "unavailable"
        logger.warning("\(sourceName) \(what): \(reason); \(whatNext)")
        await stateChanged(.down(reason: reason))
    }

    /// Waits before the next attempt, doubling the wait each time up to the cap; returns early when cancelled.
    public mutating func pauseBeforeRetry() async {
        let delay = nextDelay
        nextDelay = min(nextDelay * 2, reconnectDelay.upperBound)
        try? await Task.sleep(for: delay)
    }

    /// `12.3 s`: an outage's length to a tenth of a second, enough for a log line.
    private static func seconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let tenths = seconds * 10 + attoseconds / 100_000_000_000_000_000
        return "\(tenths / 10).\(tenths % 10) s"
    }
}
