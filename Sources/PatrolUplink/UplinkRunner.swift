import Logging
import PatrolCore

/// What the rest of the agent learns from an output: deliveries and acknowledgements drive the
/// guard's feedback, the output's state goes to status, a lost link becomes a fault event.
public protocol UplinkObserver: Sendable {
    /// The receiver took these events (accepted, not rejected).
    func eventsDelivered(_ sequences: [Int64], output: String) async
    /// Staff at the receiver acknowledged an alarm.
    func alarmAcknowledged(_ acknowledgement: UplinkAcknowledgement, output: String) async
    func outputChanged(_ status: UplinkOutputStatus)
    /// The link has been down for the output's supervision limit (`restored`: it is back).
    func supervisionChanged(output: String, failed: Bool, at monotonicMilliseconds: Int64) async
    /// The receiver sent a text message for the crew.
    func messageReceived(_ message: UplinkMessage, output: String) async
}

extension UplinkObserver {
    /// Observers that show no messages (test doubles) ignore them.
    public func messageReceived(_ message: UplinkMessage, output: String) async {}
}

/// One output's state as status shows it.
public struct UplinkOutputStatus: Sendable, Equatable {
    public var name: String
    public var destination: String
    /// nil until the first exchange; then whether the last one got an answer.
    public var isUp: Bool?
    public var downReason: String?
    public var backlog: OutputBacklog?
}

/// Tunables of one runner; the defaults are the product's.
public struct UplinkSettings: Sendable, Equatable {
    /// A heartbeat goes out when nothing else was sent for this long.
    public var heartbeatInterval: Duration = .seconds(30)
    /// Track points per backlog batch: a day at 1 Hz in five requests of ~100 KB, yet each short
    /// enough on a slow link that an alarm raised meanwhile waits only for the one in flight.
    public var trackPointsPerBatch = 20_000
    /// Events per batch; events go first and alone, so an alarm never queues behind track.
    public var eventsPerBatch = 100
    public var backoffBase: Duration = .seconds(1)
    public var backoffCap: Duration = .seconds(60)
    /// How long one request may take (the output's `timeout_s`): with the heartbeat and the
    /// longest backoff it bounds an honest round, which the agent's supervision watches.
    public var requestTimeout: Duration = .seconds(30)
    /// A link down this long is a supervision failure (a fault event on the board, restored when
    /// the link is back); nil: never, for outputs whose links drop as a matter of course.
    public var supervisionLimit: Duration?

    public init() {}
}

/// Sends what the backlog holds through one output until cancelled; owns retries.
///
/// The backlog (the store) is the only buffer: each round reads what the output has not
/// delivered (its progress), sends one batch, and records in one transaction how far the receiver
/// took it and which records it refused for good (dead letters, counted in status, never
/// retried). A crash at any point resends at most one batch, which the receiver recognises.
///
/// Order of each round: undelivered events (alarms, faults, check-ins) in a small batch of their
/// own; otherwise, for an output that forwards track, the oldest undelivered track in a large
/// batch; every batch also carries the newest position, so the receiver sees where the car is
/// while a backlog drains. When nothing is waiting, a heartbeat every `heartbeatInterval`.
/// Failures back off exponentially with full jitter; the log says once when the link goes down
/// and once when it is back. Each output has its own runner and progress, so one output down
/// never delays another.
public final class UplinkRunner: Sendable {
    public let output: any UplinkOutput
    private let store: any DeliveryBacklog
    private let settings: UplinkSettings
    private let observer: any UplinkObserver
    private let logger: Logger
    private let systemTime: @Sendable () -> UTCTime
    private let monotonicMilliseconds: @Sendable () -> Int64
    /// Something new was stored: ends the idle wait before a heartbeat.
    private let signal = WakeSignal()
    /// An event was stored: also ends a backoff wait, so an alarm raised while the link is down
    /// is tried at once rather than after up to `backoffCap`; track commits do not.
    private let eventSignal = WakeSignal()

    public init(output: any UplinkOutput, store: any DeliveryBacklog, settings: UplinkSettings = UplinkSettings(),
                observer: any UplinkObserver, logger: Logger,
                systemTime: @escaping @Sendable () -> UTCTime, monotonicMilliseconds: @escaping @Sendable () -> Int64) {
        self.output = output
        self.store = store
        self.settings = settings
        self.observer = observer
        self.logger = logger
        self.systemTime = systemTime
        self.monotonicMilliseconds = monotonicMilliseconds
    }

    /// Something new is in the store: send it now rather than at the next heartbeat.
    public func wake(for stream: StoreStream) {
        signal.notify()
        if stream == .event { eventSignal.notify() }
    }

    /// What one round sends and what it stands for in the store.
    private struct Round {
        var batch: OutboundBatch
        /// The events and backlog points in sequence order, from just after the output's progress.
        var events: [Int64] { batch.events.map(\.sequence) }
        var backlog: [Int64] { batch.track.map { Int64($0.sequence) } }
    }

    /// The mutable part of a run, owned by the one task running it.
    private struct RunState {
        var backoff: Backoff
        var lastSentAt: Int64?
        var downSince: Int64?
        var downReason: String?
        var failures = 0
        /// Whether the store's failure to read has been logged (once per outage).
        var storeFailing = false
        /// Whether the link's outage has been reported as a supervision failure.
        var supervisionFailed = false
        /// Lowered while the receiver refuses whole batches, to isolate the record at fault.
        var eventLimit: Int
        var trackLimit: Int
        /// The receiver's least time between track rounds (`UplinkAnswer.trackInterval`), and when
        /// the last track round that caught up with the store was sent (monotonic ms).
        var trackInterval: Duration?
        var lastTrackRoundAt: Int64?
        /// How long until track may go again; nil when it may go now.
        func trackWait(now: Int64) -> Int64? {
            guard let trackInterval, let lastTrackRoundAt else { return nil }
            let wait = trackInterval.milliseconds - (now - lastTrackRoundAt)
            return wait > 0 ? wait : nil
        }
        var isolating: Bool { eventLimit == 1 || trackLimit == 1 }
    }

    public func run() async {
        let name = output.name
        var state = RunState(backoff: Backoff(base: settings.backoffBase, cap: settings.backoffCap),
                             eventLimit: settings.eventsPerBatch, trackLimit: settings.trackPointsPerBatch)
        var random = SystemRandomNumberGenerator()
        do {
            try store.registerOutput(name, streams: output.streams)
        } catch {
            logger.error("uplink \(name): cannot register in the store: \(error)")
        }
        publish(state)
        while !Task.isCancelled {
            let round: Round
            do {
                if let work = try nextRound(state) {
                    round = work
                } else {
                    let idle = state.lastSentAt.map { monotonicMilliseconds() - $0 } ?? .max
                    let heartbeatMs = settings.heartbeatInterval.milliseconds
                    if idle < heartbeatMs {
                        let trackDue = state.trackWait(now: monotonicMilliseconds()) ?? .max
                        await signal.wait(upTo: .milliseconds(min(heartbeatMs - idle, trackDue)))
                        continue
                    }
                    round = try heartbeatRound(state)
                }
                if state.storeFailing {
                    state.storeFailing = false
                    logger.notice("uplink \(name): the store can be read again")
                }
            } catch let unreadable as UnreadableEvent {
                setAside(unreadable)
                continue
            } catch {
                if !state.storeFailing {
                    state.storeFailing = true
                    logger.error("uplink \(name): cannot read the store (retrying every second): \(error)")
                }
                try? await Task.sleep(for: .seconds(1))
                continue
            }
            do throws(UplinkLinkError) {
                let verdict = try await output.send(round.batch)
                state.lastSentAt = monotonicMilliseconds()
                // A round that took all the track there was starts the receiver's interval; a full
                // batch (a backlog draining) does not: store-and-forward catches up at full speed.
                if !round.backlog.isEmpty, round.backlog.count < state.trackLimit { state.lastTrackRoundAt = state.lastSentAt }
                switch verdict {
                case .answered(let answer):
                    if let problem = await apply(answer, of: round, state: &state) {
                        // Resending at once would loop: treat it as a failure and back off.
                        throw UplinkLinkError(problem)
                    }
                    state.eventLimit = settings.eventsPerBatch
                    state.trackLimit = settings.trackPointsPerBatch
                case .refused(let reason):
                    refused(round, reason: reason, state: &state)
                }
                await linkUp(&state)
                publish(state)
            } catch {
                await linkDown(error.reason, state: &state)
                publish(state)
                await eventSignal.wait(upTo: state.backoff.failed(using: &random))
            }
        }
    }

    // MARK: Rounds

    private func nextRound(_ state: RunState) throws -> Round? {
        let name = output.name
        let forwardsTrack = output.streams.contains(.track)
        var batch = OutboundBatch(events: try store.events(since: try store.progress(output: name, stream: .event), limit: state.eventLimit))
        let trackProgress = forwardsTrack ? try store.progress(output: name, stream: .track) : 0
        if batch.events.isEmpty {
            guard forwardsTrack, state.trackWait(now: monotonicMilliseconds()) == nil else { return nil }
            batch.track = try store.trackRecords(after: trackProgress, limit: state.trackLimit)
            guard !batch.track.isEmpty else { return nil }
        }
        // The live position, unless this batch already ends with it (or a bad record is being isolated).
        if forwardsTrack, !state.isolating {
            let newest = try store.lastTrackSequence()
            if newest > max(trackProgress, batch.track.last.map { Int64($0.sequence) } ?? 0),
               let live = try store.trackRecords(after: newest - 1, limit: 1).first {
                batch.live = live
            }
        }
        return Round(batch: batch)
    }

    private func heartbeatRound(_ state: RunState) throws -> Round {
        let backlog = try store.backlog(output: output.name)
        return Round(batch: OutboundBatch(pendingRecords: backlog.trackPending + backlog.eventPending))
    }

    /// An event the store cannot read back goes to the dead letters of this output, so it cannot
    /// block the events behind it.
    private func setAside(_ unreadable: UnreadableEvent) {
        let name = output.name
        logger.error("uplink \(name): setting aside \(unreadable)")
        do {
            try store.recordDelivery(output: name, track: nil, event: unreadable.sequence,
                                     deadLetters: [DeadLetter(stream: .event, sequence: unreadable.sequence, reason: unreadable.description)],
                                     at: systemTime())
        } catch {
            logger.error("uplink \(name): cannot record the dead letter: \(error)")
        }
    }

    // MARK: Answers

    /// Records what the answer settled and acts on its messages; returns a problem when the answer
    /// settled none of the records sent.
    private func apply(_ answer: UplinkAnswer, of round: Round, state: inout RunState) async -> String? {
        let name = output.name
        state.trackInterval = answer.trackInterval
        for message in answer.messages { await observer.messageReceived(message, output: name) }
        var deadLetters: [DeadLetter] = []
        /// How far `sequences` (in order) were settled, accepted or refused for good; refusals are
        /// dead-lettered. Stops at the first record the answer does not mention.
        func settled(_ sequences: [Int64], _ stream: StoreStream) -> Int64? {
            var through: Int64?
            let rejections = answer.rejected.filter { $0.stream == stream }
            for sequence in sequences {
                if answer.accepts(stream, UInt64(sequence)) {
                    through = sequence
                } else if let rejection = rejections.first(where: { $0.sequences.contains(UInt64(sequence)) }) {
                    deadLetters.append(DeadLetter(stream: stream, sequence: sequence, reason: rejection.reason))
                    through = sequence
                } else {
                    break
                }
            }
            return through
        }
        let event = settled(round.events, .event)
        let track = settled(round.backlog, .track)
        do {
            try store.recordDelivery(output: name, track: track, event: event, deadLetters: deadLetters, at: systemTime())
        } catch {
            logger.error("uplink \(name): cannot record the delivery: \(error)")
        }
        for letter in deadLetters {
            logger.error("uplink \(name): the receiver refused \(letter.stream.rawValue) #\(letter.sequence) for good: \(letter.reason)")
        }
        let delivered = round.events.filter { answer.accepts(.event, UInt64($0)) }
        if !delivered.isEmpty { await observer.eventsDelivered(delivered, output: name) }
        for acknowledgement in answer.acknowledgements {
            logger.notice("uplink \(name): \(acknowledgement.text)")
            await observer.alarmAcknowledged(acknowledgement, output: name)
        }
        if let first = round.events.first ?? round.backlog.first, event == nil, track == nil {
            return "the receiver's answer neither accepts nor rejects record #\(first) it was sent"
        }
        return nil
    }

    /// The receiver will never take this batch as it is: send fewer records at a time until the
    /// one at fault goes alone (without the live point), then dead-letter it so it cannot block
    /// everything behind it.
    private func refused(_ round: Round, reason: String, state: inout RunState) {
        let name = output.name
        let records = round.events.map { DeadLetter(stream: .event, sequence: $0, reason: reason) }
            + round.backlog.map { DeadLetter(stream: .track, sequence: $0, reason: reason) }
        guard let first = records.first else {
            logger.error("uplink \(name): the receiver refuses a heartbeat: \(reason)")
            return
        }
        if records.count == 1, state.isolating {
            logger.error("uplink \(name): the receiver refused \(first.stream.rawValue) #\(first.sequence) for good: \(reason)")
            do {
                try store.recordDelivery(output: name, track: first.stream == .track ? first.sequence : nil,
                                         event: first.stream == .event ? first.sequence : nil,
                                         deadLetters: [first], at: systemTime())
            } catch {
                logger.error("uplink \(name): cannot record the refusal: \(error)")
            }
            return
        }
        if !state.isolating {
            logger.warning("uplink \(name): the receiver refused a batch of \(round.batch.recordCount) records (\(reason)); sending fewer at a time to find the one at fault")
        }
        if !round.events.isEmpty { state.eventLimit = max(1, round.events.count / 2) }
        if !round.backlog.isEmpty { state.trackLimit = max(1, round.backlog.count / 2) }
    }

    // MARK: Link state

    private func linkUp(_ state: inout RunState) async {
        if let since = state.downSince {
            let seconds = Double(monotonicMilliseconds() - since) / 1000
            logger.notice("uplink \(output.name): link to \(output.destination) is back after \(state.failures) failed attempts in \(Int(seconds)) s")
        }
        if state.supervisionFailed {
            state.supervisionFailed = false
            await observer.supervisionChanged(output: output.name, failed: false, at: monotonicMilliseconds())
        }
        state.downSince = nil
        state.downReason = nil
        state.failures = 0
        state.backoff.succeeded()
    }

    private func linkDown(_ reason: String, state: inout RunState) async {
        let now = monotonicMilliseconds()
        if state.downSince == nil {
            state.downSince = now
            logger.warning("uplink \(output.name): link to \(output.destination) is down (\(reason)); keeping everything in the store and retrying with backoff")
        }
        state.downReason = reason
        state.failures += 1
        if let limit = settings.supervisionLimit, !state.supervisionFailed, let since = state.downSince,
           now - since >= limit.milliseconds {
            state.supervisionFailed = true
            logger.error("uplink \(output.name): supervision failed: no answer from \(output.destination) for \((now - since) / 1000) s")
            await observer.supervisionChanged(output: output.name, failed: true, at: since + limit.milliseconds)
        }
    }

    private func publish(_ state: RunState) {
        let backlog = try? store.backlog(output: output.name)
        let isUp: Bool? = state.downSince != nil ? false : (state.lastSentAt == nil ? nil : true)
        observer.outputChanged(UplinkOutputStatus(name: output.name, destination: output.destination, isUp: isUp,
                                                  downReason: state.downReason, backlog: backlog))
    }
}

extension Duration {
    /// Whole milliseconds, for clocks that count in them.
    public var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
