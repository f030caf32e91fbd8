import Dispatch
import Logging
import PatrolCore
import PatrolEdgeSupport
import Synchronization

/// Buttons wired as contact closures to one serial port's CTS, DSR, DCD and RI lines, with an
/// optional LED and buzzer on DTR or RTS (see Board/wiring.md).
///
/// An edge is noticed without polling: a thread of the connection blocks in
/// ``SerialPort/waitForModemLineChange(_:)`` (TIOCMIWAIT, or an RFC 2217 notification) and the
/// press logic's deadlines (debounce, hold limits) and the indicator patterns run on one timer, so
/// a press is reported within a millisecond or two of its hold time. Where the driver cannot wait
/// (some USB adapters), the input says so once and reads the lines every `pollInterval` instead:
/// 100 cheap ioctls a second per port for a press that still counts within about 10 ms, which a
/// guard pressing for at least 100 ms never notices.
///
/// When the port is lost, held buttons count as released (nothing can be known about them), and
/// the supply lines are raised again on reconnect.
public struct ModemLineButtonsInput: EventInput {
    /// Names the port in port faults.
    public var portID: String
    public var path: String
    public var baud: Int
    /// Outputs held asserted as the contacts' supply: a button connects one to its status line.
    public var supplyLines: [ModemControlLine]
    public var opener: SerialPortOpener
    public var logger: Logger
    /// First and longest delay between attempts to reopen the port.
    public var reconnectDelay: ClosedRange<Duration>
    /// How often the lines are read where the driver cannot wait for a change.
    public var pollInterval: Duration
    public var now: @Sendable () -> Int64
    private let controller: ModemLineController

    public var name: String { "modem-line buttons \(portID) \(path)" }

    /// - Parameters:
    ///   - buttons: one per status line; a line no button uses is not watched.
    ///   - ledLine, buzzerLine: the outputs an LED and a buzzer hang on, if any; not supply lines.
    public init(portID: String, path: String, baud: Int = 9600, buttons: [ModemLineButton],
                supplyLines: [ModemControlLine] = [.dtr], ledLine: ModemControlLine? = nil,
                buzzerLine: ModemControlLine? = nil, opener: SerialPortOpener = SerialPortOpener(), logger: Logger,
                reconnectDelay: ClosedRange<Duration> = .milliseconds(500) ... .seconds(30),
                pollInterval: Duration = .milliseconds(10),
                now: @escaping @Sendable () -> Int64 = MonotonicClock.milliseconds) {
        self.portID = portID
        self.path = path
        self.baud = baud
        self.supplyLines = supplyLines
        self.opener = opener
        self.logger = logger
        self.reconnectDelay = reconnectDelay
        self.pollInterval = pollInterval
        self.now = now
        controller = ModemLineController(buttons: buttons, ledLine: ledLine, buzzerLine: buzzerLine, now: now,
                                         label: "PatrolLink.modem-line buttons \(portID)")
    }

    public func run(emit: @escaping @Sendable (InputReport) async -> ReportOutcome,
                    stateChanged: @escaping @Sendable (InputState) async -> Void) async {
        let (events, reporter) = AsyncStream.makeStream(of: DetectedEvent.self)
        let loop = SerialConnectionLoop(name: name, path: path, baud: baud, opener: opener, logger: logger,
                                        reconnectDelay: reconnectDelay)
        // Port faults take the same path as presses, so the caller sees them in order.
        let faults = PortFaultReporter(inputID: portID, emit: { reporter.yield($0) }, now: now)
        controller.start(reporting: reporter)
        await withDiscardingTaskGroup { group in
            group.addTask {
                for await event in events { _ = await emit(.event(event)) }
            }
            var hasSaidItPolls = false
            await loop.run(stateChanged: stateChanged, portFaults: faults) { link, working, _ throws(SerialPortError) in
                do throws(SerialPortError) {
                    try await serve(link, working: working, hasSaidItPolls: &hasSaidItPolls)
                } catch {
                    await controller.detach(at: now())
                    throw error
                }
                await controller.detach(at: now())
            }
            controller.stop()
        }
    }

    public func indicate(_ cue: FeedbackCue) async {
        controller.indicate(cue)
    }

    /// Raises the supply, reports the lines' levels as they are, then every change until the port fails.
    private func serve(_ link: SerialLink, working: () async -> Void,
                       hasSaidItPolls: inout Bool) async throws(SerialPortError) {
        let watched = controller.watchedLines
        let initial = try await link.perform { [supplyLines] port throws(SerialPortError) in
            for line in supplyLines { try port.set(line, on: true) }
            return try port.modemLines()
        }
        await controller.attach(link, lines: initial, at: now())
        await working()
        let waiter = DispatchQueue(label: "PatrolLink.\(name) wait")
        var canWait = true
        while !Task.isCancelled {
            if canWait {
                do throws(SerialPortError) {
                    let (lines, at) = try await Self.nextChange(of: watched, on: link, waitingOn: waiter, now: now)
                    controller.linesChanged(lines, at: at)
                    continue
                } catch where error.kind == .notSupported {
                    canWait = false
                    if !hasSaidItPolls {
                        hasSaidItPolls = true
                        logger.warning("\(name): \(error.message); reading the lines every \(pollInterval) instead")
                    }
                }
            }
            try? await Task.sleep(for: pollInterval)
            let lines = try await link.perform { port throws(SerialPortError) in try port.modemLines() }
            controller.linesChanged(lines, at: now())
        }
    }

    /// Blocks a thread of its own until one of `lines` changes, then reads them all.
    ///
    /// A cancelled task stops waiting at once; the thread stays in the wait until the closed port
    /// ends it (a network port) or the next change or hang-up does (TIOCMIWAIT cannot be
    /// interrupted without a signal), and its result is dropped.
    private static func nextChange(of lines: ModemLines, on link: SerialLink, waitingOn queue: DispatchQueue,
                                   now: @escaping @Sendable () -> Int64)
        async throws(SerialPortError) -> (ModemLines, at: Int64) {
        let outcome = PendingWait()
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                outcome.expect(continuation)
                queue.async {
                    outcome.finish(Result { () throws(SerialPortError) in
                        try link.port.waitForModemLineChange(lines)
                        let at = now()
                        return (try link.port.modemLines(), at)
                    })
                }
            }
        } onCancel: {
            outcome.finish(.failure(SerialPortError(kind: .failed, path: link.port.path, message: "stopped")))
        }
        return try result.get()
    }
}

/// The result of one modem-line wait, delivered once: by the waiting thread or by cancellation.
private final class PendingWait: Sendable {
    typealias Outcome = Result<(ModemLines, at: Int64), SerialPortError>
    private let state = Mutex<(continuation: CheckedContinuation<Outcome, Never>?, early: Outcome?)>((nil, nil))

    func expect(_ continuation: CheckedContinuation<Outcome, Never>) {
        let early = state.withLock { state -> Outcome? in
            guard let early = state.early else {
                state.continuation = continuation
                return nil
            }
            return early
        }
        if let early { continuation.resume(returning: early) }
    }

    func finish(_ outcome: Outcome) {
        let continuation = state.withLock { state -> CheckedContinuation<Outcome, Never>? in
            guard let continuation = state.continuation else {
                if state.early == nil { state.early = outcome }
                return nil
            }
            state.continuation = nil
            state.early = outcome // later outcomes find it set and are dropped
            return continuation
        }
        continuation?.resume(returning: outcome)
    }
}

/// The buttons' press logic and the indicator patterns of one modem-line input, with the one
/// timer that serves both. Unchecked Sendable: every property is used on `queue` only.
private final class ModemLineController: @unchecked Sendable {
    private let queue: DispatchQueue
    private let now: @Sendable () -> Int64
    private var buttons: [ModemLineButton]
    private let ledLine: ModemControlLine?
    private let buzzerLine: ModemControlLine?
    /// Each indicator output's pattern and when it started.
    private var indicators: [ModemControlLine: (pattern: IndicatorPattern, since: Int64)] = [:]
    private var link: SerialLink?
    /// The indicator levels set on the current port, so an unchanged level is not set again.
    private var appliedLevels: [ModemControlLine: Bool] = [:]
    private var reporter: AsyncStream<DetectedEvent>.Continuation?
    private var timer: DispatchSourceTimer?

    init(buttons: [ModemLineButton], ledLine: ModemControlLine?, buzzerLine: ModemControlLine?,
         now: @escaping @Sendable () -> Int64, label: String) {
        self.buttons = buttons
        watchedLines = ModemLines(buttons.map(\.line.modemLines))
        self.ledLine = ledLine
        self.buzzerLine = buzzerLine
        self.now = now
        queue = DispatchQueue(label: label)
    }

    /// The status lines some button is wired to: only their changes end a wait.
    let watchedLines: ModemLines

    func start(reporting reporter: AsyncStream<DetectedEvent>.Continuation) {
        queue.sync {
            self.reporter = reporter
            let timer = DispatchSource.makeTimerSource(queue: queue)
            timer.setEventHandler { [unowned self] in update(at: now()) }
            timer.resume()
            self.timer = timer
        }
    }

    func stop() {
        queue.sync {
            timer?.cancel()
            timer = nil
            reporter?.finish()
            reporter = nil
        }
    }

    /// A newly opened port: its levels as found, and the indicators as they should be now.
    func attach(_ link: SerialLink, lines: ModemLines, at time: Int64) async {
        await queue.perform {
            self.link = link
            self.appliedLevels = [:]
            self.feed(lines, at: time)
        }
    }

    /// The port is gone: held buttons count as released.
    func detach(at time: Int64) async {
        await queue.perform {
            self.link = nil
            self.feed(nil, at: time)
        }
    }

    func linesChanged(_ lines: ModemLines, at time: Int64) {
        queue.async { self.feed(lines, at: time) }
    }

    func indicate(_ cue: FeedbackCue) {
        queue.async {
            let started = self.now()
            for (line, pattern) in LocalFeedback.linePatterns(cue, led: self.ledLine, buzzer: self.buzzerLine) {
                self.indicators[line] = (pattern, started)
            }
            self.update(at: started)
        }
    }

    /// Feeds every button its line's level; nil (no port) feeds each its released level.
    private func feed(_ lines: ModemLines?, at time: Int64) {
        let events = buttons.indices.flatMap { index in
            let level = lines.map { $0.contains(buttons[index].line.modemLines) } ?? !buttons[index].activeLevel
            return buttons[index].lineChanged(level: level, at: time)
        }
        report(events)
        update(at: time)
    }

    /// Reports what fell due, sets the indicator outputs, and sets the timer for the next deadline.
    private func update(at time: Int64) {
        report(buttons.indices.flatMap { buttons[$0].tick(at: time) })
        var nextDeadline = buttons.compactMap(\.nextDeadline).min()
        for (line, indicator) in indicators {
            let elapsed = time - indicator.since
            let isOn = indicator.pattern.isOn(afterMilliseconds: elapsed)
            if let link, appliedLevels[line] != isOn {
                // Best effort: a failing port is noticed and reported by the wait on it.
                if (try? link.port.set(line, on: isOn)) != nil { appliedLevels[line] = isOn }
            }
            if let change = indicator.pattern.nextChange(afterMilliseconds: elapsed) {
                nextDeadline = min(nextDeadline ?? .max, indicator.since + change)
            }
        }
        let delay = nextDeadline.map { max(0, $0 - now()) }
        timer?.schedule(deadline: delay.map { .now() + .milliseconds(Int($0)) } ?? .distantFuture,
                        leeway: .milliseconds(1))
    }

    private func report(_ events: [DetectedEvent]) {
        for event in events { reporter?.yield(event) }
    }
}

extension ModemStatusLine {
    /// The line's bit in `SerialPort.modemLines()` (doctor reads them too).
    public var modemLines: ModemLines {
        switch self {
        case .cts: .cts
        case .dsr: .dsr
        case .dcd: .dcd
        case .ri: .ri
        }
    }
}

extension SerialPort {
    /// Raises or lowers one modem control output.
    func set(_ line: ModemControlLine, on: Bool) throws(SerialPortError) {
        switch line {
        case .dtr: try setDTR(on)
        case .rts: try setRTS(on)
        }
    }
}
