import Logging

/// Says once that a source is lost and once that it is back, however many retries lie between.
///
/// A patrol car can be parked for hours with its receiver unplugged; one line per retry would
/// bury everything else in the log.
struct OutageLog {
    let sourceName: String
    let logger: Logger
    let retryCap: Duration
    private var lostAt: ContinuousClock.Instant?
    private var hasConnected = false

    init(sourceName: String, logger: Logger, retryCap: Duration) {
        self.sourceName = sourceName
        self.logger = logger
        self.retryCap = retryCap
    }

    /// Records a failed or broken connection; returns the reason to report when this starts an outage.
    mutating func lost(_ reason: String) -> String? {
        guard lostAt == nil else { return nil }
        lostAt = .now
        let what = hasConnected ? "lost" : "unavailable"
        logger.warning("\(sourceName) \(what): \(reason); retrying in the background, at most every \(retryCap)")
        return reason
    }

    /// Records a working connection; logs that the source is back when it ends an outage.
    mutating func connected() {
        if let lostAt {
            logger.notice("\(sourceName) back after \(Self.seconds(ContinuousClock.now - lostAt))")
        } else if !hasConnected {
            logger.info("\(sourceName) connected")
        }
        lostAt = nil
        hasConnected = true
    }

    /// `12.3 s`: an outage's length to a tenth of a second, enough for a log line.
    private static func seconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let tenths = seconds * 10 + attoseconds / 100_000_000_000_000_000
        return "\(tenths / 10).\(tenths % 10) s"
    }
}
