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
    /// Events not yet committed, oldest first; normally empty again within one commit.
    private var unstored: [Unstored] = []
    private var isCommitting = false
    private var failureLogged = false
    /// Stored events whose input may still show their delivery or acknowledgement, by sequence.
    /// In memory only: after a restart the input has lost its cue anyway.
    private var awaitingFeedback: [Int64: (kind: EventKind, origin: any EventInput)] = [:]
    /// Bounds `awaitingFeedback` when a centre never answers; the oldest are forgotten first.
    private static let awaitingFeedbackLimit = 64
    /// The fsync blocks for milliseconds; it runs here, not on the cooperative pool.
    private let committer = DispatchQueue(label: "PatrolLink.event journal")

    private struct Unstored {
        var event: PatrolEvent
        /// Monotonic ms when the event's condition was met, for the latency.
        var detectedAt: Int64
        var origin: (any EventInput)?
        /// Whether the guard has been shown that this event is not stored yet.
        var failureShown = false
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

    /// Takes an event from `origin` (nil for the agent's own: GPS loss, geofence arrivals) and
    /// returns once it is committed, or kept for retry when the store fails.
    public func record(_ detected: DetectedEvent, from origin: (any EventInput)?) async {
        let clock = SystemClockReading(time: SystemClocks.systemTime(), monotonicMilliseconds: now(),
                                       isTrusted: SystemClocks.kernelClockSynchronized())
        unstored.append(Unstored(event: stamper.stamp(detected, systemClock: clock), detectedAt: detected.at, origin: origin))
        await commitUnstored()
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
            logger.critical("\(unstored.count) events could not be stored and are lost: \(unstored.map(\.event.kind.code))")
        }
    }

    /// Commits the waiting events in order. One caller commits at a time (the actor is re-entered
    /// while the fsync runs); later callers' events are picked up by the loop already running.
    private func commitUnstored() async {
        guard !isCommitting else { return }
        isCommitting = true
        defer { isCommitting = false }
        while let next = unstored.first {
            let event = next.event
            let result = await committer.perform { [store] () -> Result<Int64, any Error> in
                Result { try store.appendEvent(event) }
            }
            switch result {
            case .success(let sequence):
                unstored.removeFirst()
                let latency = now() - next.detectedAt
                if failureLogged {
                    failureLogged = false
                    logger.warning("event store works again; committing the events kept in memory")
                }
                stored(next, sequence: sequence, latency: latency)
                await indicate(next, .stored)
            case .failure(let error):
                if !failureLogged {
                    failureLogged = true
                    logger.error("cannot store event \(next.event.kind.code): \(error); keeping \(unstored.count) in memory, retrying every second")
                }
                for index in unstored.indices where !unstored[index].failureShown {
                    unstored[index].failureShown = true
                    await indicate(unstored[index], .failed)
                }
                return
            }
        }
    }

    /// Shows the guard that the event with `sequence` reached `state` (`.delivered` or
    /// `.acknowledged`), on the input that raised it. An acknowledgement ends its feedback.
    public func show(_ state: FeedbackState, eventSequence sequence: Int64) async {
        guard let entry = awaitingFeedback[sequence] else { return }
        if state == .acknowledged { awaitingFeedback[sequence] = nil }
        if let cue = LocalFeedback.cue(for: entry.kind, state: state) { await entry.origin.indicate(cue) }
    }

    private func stored(_ entry: Unstored, sequence: Int64, latency: Int64) {
        if let origin = entry.origin, !entry.event.kind.isSilent {
            awaitingFeedback[sequence] = (entry.event.kind, origin)
            if awaitingFeedback.count > Self.awaitingFeedbackLimit, let oldest = awaitingFeedback.keys.min() {
                awaitingFeedback[oldest] = nil
            }
        }
        let summary = EventSummary(sequence: sequence, event: entry.event)
        let level: Logger.Level = entry.event.priority == .alarm ? .notice : .info
        logger.log(level: level, "stored event \(summary.line)")
        logger.debug("event #\(sequence) \(summary.kind): \(latency) ms from detection to commit")
        board.eventStored(summary, latencyMilliseconds: latency)
    }

    /// Shows `state` on the originating input, unless the event must stay silent.
    private func indicate(_ entry: Unstored, _ state: FeedbackState) async {
        guard let origin = entry.origin, let cue = LocalFeedback.cue(for: entry.event.kind, state: state) else { return }
        await origin.indicate(cue)
    }
}
