import Dispatch
import Logging
import PatrolCore
import PatrolEdgeSupport
import PatrolStore

/// Where every detected event goes: stamped with time and position, committed to the store with
/// a full fsync, and only then logged, shown on the status board and confirmed to the guard.
///
/// The guard's "stored" feedback is a promise that the alarm survives a power cut, so nothing is
/// shown before the commit. A commit that fails does not drop the event: it stays here, in
/// order, and is retried every second (logged once per outage), and the guard sees "failed" so
/// they use the radio meanwhile.
///
/// An actor because inputs, the track pipeline and the watchdog clock all report into it, and the
/// stamper, watchdog and geofence are stateful.
public actor EventJournal {
    private let store: AgentStore
    private let board: StatusBoard
    private let logger: Logger
    private let now: @Sendable () -> Int64
    private var stamper: EventStamper
    private var gpsLost: GPSLostWatchdog
    private var geofence: CheckpointGeofence
    /// Reports not yet committed, oldest first; normally empty again within one commit.
    private var unstored: [Unstored] = []
    private var isCommitting = false
    private var failureLogged = false
    /// What became of reports whose caller has not yet asked, and callers waiting to hear it, by
    /// report number: a caller may arrive while another caller's commit loop takes its report.
    private var outcomes: [UInt64: ReportOutcome] = [:]
    private var waiting: [UInt64: CheckedContinuation<ReportOutcome, Never>] = [:]
    private var nextReportNumber: UInt64 = 0
    /// Stored events whose input may still show their delivery or acknowledgement, by sequence.
    /// In memory only: after a restart the input has lost its cue anyway.
    private var awaitingFeedback: [Int64: (kind: EventKind, origin: any EventInput)] = [:]
    /// Bounds `awaitingFeedback` when a centre never answers; the oldest are forgotten first.
    private static let awaitingFeedbackLimit = 64
    /// The fsync blocks for milliseconds; it runs here, not on the cooperative pool.
    private let committer = DispatchQueue(label: "PatrolLink.event journal")

    private struct Unstored {
        var number: UInt64
        var content: Content
        var origin: (any EventInput)?
        /// Whether the guard has been shown that this event is not stored yet.
        var failureShown = false
        /// Whether the caller has been told what became of it (kept for retry, before it was stored).
        var outcomeGiven = false

        enum Content {
            /// `detectedAt`: monotonic ms when the event's condition was met, for the latency.
            case event(PatrolEvent, detectedAt: Int64)
            case pressFinished(PressKey)

            /// For logs: the event's code, or what the press record is.
            var code: String {
                switch self {
                case .event(let event, _): event.kind.code
                case .pressFinished(let key): "finish of press \(key.press)"
                }
            }
        }
    }

    public init(deviceID: String, store: AgentStore, board: StatusBoard, checkpoints: [Checkpoint],
                gpsLostAfterMilliseconds: Int64, logger: Logger,
                now: @escaping @Sendable () -> Int64 = SystemClocks.monotonicMilliseconds) {
        self.store = store
        self.board = board
        self.logger = logger
        self.now = now
        stamper = EventStamper(deviceID: deviceID)
        gpsLost = GPSLostWatchdog(limitMilliseconds: gpsLostAfterMilliseconds, startedAt: now())
        geofence = CheckpointGeofence(checkpoints: checkpoints)
    }

    /// Takes a report from `origin` (nil for the agent's own: GPS loss, geofence arrivals) and
    /// returns once it is committed, or kept for retry when the store fails, and says which.
    @discardableResult
    public func record(_ report: InputReport, from origin: (any EventInput)?) async -> ReportOutcome {
        let content: Unstored.Content
        switch report {
        case .event(let detected):
            let clock = SystemClockReading(time: SystemClocks.systemTime(), monotonicMilliseconds: now(),
                                           isTrusted: SystemClocks.kernelClockSynchronized())
            content = .event(stamper.stamp(detected, systemClock: clock), detectedAt: detected.at)
        case .pressFinished(let key):
            content = .pressFinished(key)
        }
        let number = nextReportNumber
        nextReportNumber &+= 1
        unstored.append(Unstored(number: number, content: content, origin: origin))
        await commitUnstored()
        if let outcome = outcomes.removeValue(forKey: number) { return outcome }
        // Another caller's commit loop has it; it tells us when it is done with it.
        return await withCheckedContinuation { waiting[number] = $0 }
    }

    /// Takes an event from `origin`; see ``record(_:from:)-(InputReport,_)``.
    @discardableResult
    public func record(_ detected: DetectedEvent, from origin: (any EventInput)?) async -> ReportOutcome {
        await record(.event(detected), from: origin)
    }

    /// A fix report from the track pipeline: it moves the stamper's time and position, feeds the
    /// GPS-lost watchdog and the checkpoint geofence.
    public func fixReceived(_ fix: Fix) async {
        let at = now()
        stamper.fixReceived(fix, at: at)
        for event in gpsLost.fixReceived(fix, at: at) + geofence.update(fix: fix, at: at) {
            await record(event, from: nil)
        }
    }

    /// Keeps the GPS-lost watchdog on time when no fix comes at all, and retries failed commits,
    /// until cancelled; then says what could not be stored.
    public func run() async {
        while !Task.isCancelled {
            let untilDeadline = (gpsLost.nextDeadline ?? .max) - now()
            do { try await Task.sleep(for: .milliseconds(min(1000, max(0, untilDeadline)))) } catch { break }
            for event in gpsLost.tick(at: now()) { await record(event, from: nil) }
            if !unstored.isEmpty { await commitUnstored() }
        }
        if !unstored.isEmpty {
            logger.critical("\(unstored.count) events could not be stored and are lost: \(unstored.map(\.content.code))")
        }
    }

    /// Commits the waiting reports in order. One caller commits at a time (the actor is re-entered
    /// while the fsync runs); later callers' reports are picked up by the loop already running.
    /// In order matters: a press is recorded finished only after the events it produced.
    private func commitUnstored() async {
        guard !isCommitting else { return }
        isCommitting = true
        defer { isCommitting = false }
        while let next = unstored.first {
            let result = await committer.perform { [store] () -> Result<Commit, any Error> in
                Result {
                    switch next.content {
                    case .event(let event, _): .event(try store.recordEvent(event))
                    case .pressFinished(let key): .pressFinished(isNew: try store.finishPress(key))
                    }
                }
            }
            switch result {
            case .success(let commit):
                unstored.removeFirst()
                if failureLogged {
                    failureLogged = false
                    logger.warning("event store works again; committing the events kept in memory")
                }
                if !next.outcomeGiven { tell(next.number, commit.outcome) }
                guard case .event(let event, let detectedAt) = next.content, case .event(let append) = commit else { continue }
                switch append {
                case .stored(let sequence):
                    stored(event, origin: next.origin, sequence: sequence, latency: now() - detectedAt)
                    await indicate(event, from: next.origin, .stored)
                case .alreadyStored(let sequence):
                    logger.debug("\(event.kind.code) of \(event.press.map(Self.describe) ?? "a press") was stored before as event #\(sequence)")
                }
            case .failure(let error):
                if !failureLogged {
                    failureLogged = true
                    logger.error("cannot store \(next.content.code): \(error); keeping \(unstored.count) in memory, retrying every second")
                }
                for index in unstored.indices {
                    if !unstored[index].outcomeGiven {
                        unstored[index].outcomeGiven = true
                        tell(unstored[index].number, .keptForRetry)
                    }
                    if !unstored[index].failureShown, case .event(let event, _) = unstored[index].content {
                        unstored[index].failureShown = true
                        await indicate(event, from: unstored[index].origin, .failed)
                    }
                }
                return
            }
        }
    }

    /// When the oldest event still waiting for its commit was detected (monotonic ms), nil when
    /// every event is stored: the supervisor stops the watchdog's pets when it waits too long.
    public var oldestUnstoredDetectedAt: Int64? {
        unstored.lazy.compactMap { entry -> Int64? in
            if case .event(_, let detectedAt) = entry.content { detectedAt } else { nil }
        }.first
    }

    /// What one commit did.
    private enum Commit {
        case event(EventAppend)
        case pressFinished(isNew: Bool)

        var outcome: ReportOutcome {
            switch self {
            case .event(.stored), .pressFinished(isNew: true): .stored
            case .event(.alreadyStored), .pressFinished(isNew: false): .alreadyStored
            }
        }
    }

    /// Gives the caller of ``record(_:from:)-(InputReport,_)`` its report's outcome.
    private func tell(_ number: UInt64, _ outcome: ReportOutcome) {
        if let caller = waiting.removeValue(forKey: number) {
            caller.resume(returning: outcome)
        } else {
            outcomes[number] = outcome
        }
    }

    private static func describe(_ press: PressKey) -> String {
        "box \(press.boxID) \(press.incarnationHex) press \(press.press)"
    }

    /// Shows the guard that the event with `sequence` reached `state` (`.delivered` or
    /// `.acknowledged`), on the input that raised it. An acknowledgement ends its feedback.
    public func show(_ state: FeedbackState, eventSequence sequence: Int64) async {
        guard let entry = awaitingFeedback[sequence] else { return }
        if state == .acknowledged { awaitingFeedback[sequence] = nil }
        if let cue = LocalFeedback.cue(for: entry.kind, state: state) { await entry.origin.indicate(cue) }
    }

    private func stored(_ event: PatrolEvent, origin: (any EventInput)?, sequence: Int64, latency: Int64) {
        if let origin, !event.kind.isSilent {
            awaitingFeedback[sequence] = (event.kind, origin)
            if awaitingFeedback.count > Self.awaitingFeedbackLimit, let oldest = awaitingFeedback.keys.min() {
                awaitingFeedback[oldest] = nil
            }
        }
        let summary = EventSummary(sequence: sequence, event: event)
        let level: Logger.Level = event.priority == .alarm ? .notice : .info
        logger.log(level: level, "stored event \(summary.line)")
        logger.debug("event #\(sequence) \(summary.kind): \(latency) ms from detection to commit")
        board.eventStored(summary, latencyMilliseconds: latency)
    }

    /// Shows `state` on the originating input, unless the event must stay silent.
    private func indicate(_ event: PatrolEvent, from origin: (any EventInput)?, _ state: FeedbackState) async {
        guard let origin, let cue = LocalFeedback.cue(for: event.kind, state: state) else { return }
        await origin.indicate(cue)
    }
}
