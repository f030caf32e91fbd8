import Dispatch
import Logging
import PatrolCore
import PatrolEdgeSupport
import Synchronization

/// A button box speaking the `PLBX` line protocol (Board/button-box-protocol.md) on a serial port.
///
/// Frames go through one ``ButtonBoxSession``, which acks them (a repeated frame is acked again,
/// never pressed twice), applies the press logic and watches the heartbeat. Reads wait at most
/// until the session's next deadline, so silence and hold limits are reported on time without a
/// timer of their own.
///
/// With a PLBX 2 box a press stays the box's until `STORED`: that is written only once `emit` says
/// the press's events and its finish are on disk. When the store fails the journal keeps them and
/// the box keeps repeating the press; a later repeat finishes it. Opening the port sends `QUERY`,
/// so a restarted agent learns the box's protocol and incarnation again.
///
/// The session outlives a reconnect: its numbering, identity and silence watchdog describe the
/// box, not the cable. A silence that ran out while the port was gone is reported when the port is
/// back, with the time it ran out, beside the port fault's restore.
public struct ButtonBoxInput: EventInput {
    /// Names the box in events until it says hello with its own id.
    public var boxID: String
    public var path: String
    public var baud: Int
    public var opener: SerialPortOpener
    public var logger: Logger
    /// First and longest delay between attempts to reopen the port.
    public var reconnectDelay: ClosedRange<Duration>
    /// Longest time one read may block; bounds how long cancellation takes to be noticed.
    public var readTimeout: Duration
    /// The box LED that shows feedback (1-based).
    public var feedbackLED: Int
    public var now: @Sendable () -> Int64
    private let box: BoxLink

    public var name: String { "button box \(boxID) \(path)" }

    public init(boxID: String, path: String, baud: Int = 9600, buttons: [Int: ButtonConfig],
                silenceLimitMilliseconds: Int64 = 3500, feedbackLED: Int = 1,
                opener: SerialPortOpener = SerialPortOpener(), logger: Logger,
                reconnectDelay: ClosedRange<Duration> = .milliseconds(500) ... .seconds(30),
                readTimeout: Duration = .milliseconds(250),
                now: @escaping @Sendable () -> Int64 = MonotonicClock.milliseconds) {
        self.boxID = boxID
        self.path = path
        self.baud = baud
        self.opener = opener
        self.logger = logger
        self.reconnectDelay = reconnectDelay
        self.readTimeout = readTimeout
        self.feedbackLED = feedbackLED
        self.now = now
        box = BoxLink(session: ButtonBoxSession(inputID: boxID, buttons: buttons,
                                                silenceLimitMilliseconds: silenceLimitMilliseconds, startedAt: now()),
                      label: "PatrolLink.button box \(boxID) feedback")
    }

    public func run(emit: @escaping @Sendable (InputReport) async -> ReportOutcome,
                    stateChanged: @escaping @Sendable (InputState) async -> Void) async {
        let loop = SerialConnectionLoop(name: name, path: path, baud: baud, opener: opener, logger: logger,
                                        reconnectDelay: reconnectDelay)
        let faults = PortFaultReporter(inputID: boxID, emit: { _ = await emit(.event($0)) }, now: now)
        await loop.run(stateChanged: stateChanged, portFaults: faults) { link, working, _ throws(SerialPortError) in
            box.attach(link)
            defer { box.detach() }
            try await box.write(box.commands([.query]))
            while !Task.isCancelled {
                let timeout = box.readTimeout(atMost: readTimeout, now: now())
                let bytes = try await link.perform { port throws(SerialPortError) in
                    try port.read(maxCount: 512, timeout: timeout)
                }
                await working()
                let reaction = box.receive(bytes, at: now())
                try await box.write(reaction.replies)
                for event in reaction.events { _ = await emit(.event(event)) }
                for press in reaction.finishedPresses {
                    guard await emit(.pressFinished(press)).isOnDisk else { continue }
                    try await box.write(box.finishCommitted(press))
                }
                if let gap = reaction.pressGap {
                    logger.warning("""
                        button box \(boxID): \(gap.missing) of presses \(gap.presses.lowerBound)…\(gap.presses.upperBound) \
                        never arrived; the box's queue of unconfirmed presses overflowed while the agent was away
                        """)
                }
            }
        }
    }

    public func indicate(_ cue: FeedbackCue) async {
        try? await box.write(box.commands(LocalFeedback.boxCommands(cue, ledIndex: feedbackLED)))
    }
}

/// The session and the port it writes to, shared by the read loop and feedback.
///
/// Writes take the lock so that an ack and an LED command are never interleaved on the wire and
/// the port is never closed under a write; the lock is held for one short frame write.
private final class BoxLink: Sendable {
    private struct State {
        var session: ButtonBoxSession
        var link: SerialLink?
    }

    private let state: Mutex<State>
    /// Feedback writes block; they run here, not on the cooperative pool or behind a read.
    private let writer: DispatchQueue

    init(session: ButtonBoxSession, label: String) {
        state = Mutex(State(session: session))
        writer = DispatchQueue(label: label)
    }

    func attach(_ link: SerialLink) {
        state.withLock { $0.link = link }
    }

    func detach() {
        state.withLock { $0.link = nil }
    }

    /// How long the next read may wait: until the session's next deadline, at most `limit`.
    func readTimeout(atMost limit: Duration, now: Int64) -> Duration {
        guard let deadline = state.withLock({ $0.session.nextDeadline }) else { return limit }
        return min(limit, .milliseconds(max(0, deadline - now)))
    }

    func receive(_ bytes: [UInt8], at now: Int64) -> ButtonBoxReaction {
        state.withLock { $0.session.receive(bytes, at: now) }
    }

    func commands(_ messages: [ButtonBoxMessage]) -> [ButtonBoxFrame] {
        state.withLock { state in messages.map { state.session.command($0) } }
    }

    /// The `STORED` frame for a press whose finish is committed (none if the box changed since).
    func finishCommitted(_ press: PressKey) -> [ButtonBoxFrame] {
        state.withLock { $0.session.finishCommitted(press) }.map { [$0] } ?? []
    }

    /// Writes `frames` to the box; nothing when the port is not open (the box shows what it can).
    func write(_ frames: [ButtonBoxFrame]) async throws(SerialPortError) {
        guard !frames.isEmpty else { return }
        let bytes = Array(frames.map(\.line).joined().utf8)
        try await writer.perform { () throws(SerialPortError) in
            try self.state.withLock { state throws(SerialPortError) in try state.link?.port.write(bytes) }
        }
    }
}
