import Logging
import Synchronization

/// Log lines about refused requests and connections: at most `burst` per reason in each `window`;
/// the rest are counted and summed up in one line with the first refusal of that reason after the
/// window.
///
/// Every refusal is worth a line to an operator looking for a board that never delivers, but a
/// hostile client can be refused thousands of times a second, and each line would go into the
/// journal and the disk under it. Reasons are the centre's own codes, so the table stays small;
/// what a client sent is quoted shortened and escaped (`quoted`), so it cannot forge lines.
public final class RefusalLog: Sendable {
    private struct Window {
        var start: ContinuousClock.Instant
        var logged = 0
        var suppressed = 0
    }

    private let logger: Logger
    private let burst: Int
    private let window: Duration
    private let windows = Mutex<[String: Window]>([:])

    public init(logger: Logger, burst: Int = 20, window: Duration = .seconds(60)) {
        self.logger = logger
        self.burst = burst
        self.window = window
    }

    /// Logs `message` with `reason` in its metadata, unless `burst` refusals for `reason` were
    /// logged in this window already; then it is only counted.
    public func refused(_ message: String, reason: String, level: Logger.Level = .warning, metadata: Logger.Metadata = [:]) {
        let now = ContinuousClock.now
        let (shouldLog, isLastOfBurst, summary) = windows.withLock { windows -> (Bool, Bool, Int) in
            var entry = windows[reason] ?? Window(start: now)
            var summary = 0
            if now - entry.start >= window {
                summary = entry.suppressed
                entry = Window(start: now)
            }
            let shouldLog = entry.logged < burst
            if shouldLog { entry.logged += 1 } else { entry.suppressed += 1 }
            windows[reason] = entry
            return (shouldLog, entry.logged == burst && shouldLog, summary)
        }
        if summary > 0 {
            logger.log(level: level, "\(summary) more refusals (\(reason)) were counted but not logged one by one",
                       metadata: ["reason": "\(reason)"])
        }
        guard shouldLog else { return }
        var metadata = metadata
        metadata["reason"] = "\(reason)"
        logger.log(level: level, "\(message)", metadata: metadata)
        if isLastOfBurst {
            logger.log(level: level, "\(burst) refusals (\(reason)) logged within \(window); until it is over they are only counted",
                       metadata: ["reason": "\(reason)"])
        }
    }

    /// Text a client sent (a device id, a path), fit for a log line: at most 64 characters, with
    /// control characters and backslashes escaped.
    public static func quoted(_ text: some StringProtocol) -> String {
        var quoted = ""
        for scalar in text.unicodeScalars.prefix(64) {
            switch scalar {
            case "\\": quoted += "\\\\"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F: quoted += "\\u{\(String(scalar.value, radix: 16))}"
            default: quoted.unicodeScalars.append(scalar)
            }
        }
        return text.unicodeScalars.count > 64 ? quoted + "…" : quoted
    }
}
