/// What the session knows about the box at the other end.
public struct ButtonBoxIdentity: Sendable, Equatable {
    public var boxID: String
    public var firmware: String
    /// A PLBX 2 box's incarnation; nil for a protocol 1 box.
    public var incarnation: UInt32?

    public init(boxID: String, firmware: String, incarnation: UInt32? = nil) {
        self.boxID = boxID
        self.firmware = firmware
        self.incarnation = incarnation
    }
}

/// Press numbers a PLBX 2 box assigned (its heartbeat's `lastPress` says so) that never reached
/// the agent: the box's queue of unconfirmed presses overflowed while the agent was away.
public struct PressGap: Sendable, Equatable {
    /// The presses checked: after the last number known complete, up to the heartbeat's `lastPress`.
    public var presses: ClosedRange<UInt32>
    /// How many of them never arrived.
    public var missing: Int

    public init(presses: ClosedRange<UInt32>, missing: Int) {
        self.presses = presses
        self.missing = missing
    }
}

/// What one call into a ``ButtonBoxSession`` produced.
public struct ButtonBoxReaction: Sendable, Equatable {
    /// Press events, long presses, stuck-button and box-silent faults and their restores.
    public var events: [DetectedEvent] = []
    /// Frames to write to the box, in order, before the events are stored: acks, `PROTO`,
    /// `QUERY`, and `STORED` for repeats of presses already recorded as finished.
    public var replies: [ButtonBoxFrame] = []
    /// PLBX 2 presses released by this call: record each as finished once `events` are committed,
    /// then tell the box with ``ButtonBoxSession/finishCommitted(_:)``.
    public var finishedPresses: [PressKey] = []
    /// Presses the box numbered that never arrived, for the log.
    public var pressGap: PressGap?

    public init(events: [DetectedEvent] = [], replies: [ButtonBoxFrame] = [], finishedPresses: [PressKey] = []) {
        self.events = events
        self.replies = replies
        self.finishedPresses = finishedPresses
    }
}

/// The agent's side of one button box link: frames in, press events and acknowledgements out.
///
/// Protocol 1 (PLBX, acked `DOWN`/`UP` of a button):
/// - A repeated frame (same box sequence number, sent again because our ack was lost) is acked
///   again but is not a second press.
/// - A reboot of the box restarts its numbering; it is recognised by the uptime in its hello and
///   heartbeat going backwards, or by a number far behind the last one, and numbering starts over.
/// - Silence (no valid frame for the limit) is one `box-silent` fault, and one restore when a frame
///   comes again. Buttons held at that moment count as released: the box can no longer tell.
/// - Down and up frames go through the same press logic as modem line buttons, so minimum hold,
///   long press and stuck limits mean the same; the box has already debounced its contacts.
/// - Corrupt or unknown frames are counted and dropped.
///
/// PLBX 2, spoken once a box offers it in its hello (answered with `ACK` and `PROTO,2`):
/// - Each press has the box's own number; the press logic runs per press, on the box's times (the
///   contact closed `ageMs` before its first `DOWN` arrived, opened `heldMs` after closing), so a
///   `DOWN` and an `UP` read together are the hold the guard made, not 0 ms.
/// - Every event of a press carries its ``PressKey``; the store keeps one event of a kind per key,
///   so re-deriving a press from the box's repeats (after an agent restart or a silence) raises no
///   second alarm. That is why a silent box's held presses are simply forgotten: the box repeats them.
/// - An applied `UP` makes the press finished (``ButtonBoxReaction/finishedPresses``); only after
///   the caller committed that does the box get `STORED` (``finishCommitted(_:)``). Repeats of a
///   press known finished are answered with `STORED` and produce nothing.
/// - Numbered frames are acted on even when their frame number repeats: they are idempotent by
///   their press number, and a repeated `UP` must be answered.
public struct ButtonBoxSession: Sendable {
    public struct Counters: Sendable, Equatable {
        public var accepted = 0
        public var duplicates = 0
        public var corrupt = 0
        public var reboots = 0
        /// Down/up frames for a button number no ``ButtonConfig`` is given for.
        public var unconfiguredButtons = 0
        /// PLBX 2 frames dropped because no hello has named the box's incarnation yet.
        public var beforeHello = 0
    }

    /// The protocol this agent speaks at most.
    public static let highestProtocol = 2
    /// How many finished presses are remembered to answer their repeats without the store: more
    /// than the box's queue of 8 can repeat.
    static let finishedMemory = 64
    /// How long presses the heartbeat announced may take to arrive before they count as never
    /// received: the box resends at most one frame per 100 ms, so its queue of 8 takes about 1 s.
    static let pressGapGraceMilliseconds: Int64 = 5000
    /// How often to ask a box that speaks PLBX 2 without having said hello for its hello.
    static let queryIntervalMilliseconds: Int64 = 1000

    /// How far behind the last number a frame may be and still be a repeat rather than a restart:
    /// the box repeats only its last few unacknowledged frames.
    static let repeatWindow: UInt16 = 64

    /// Names the box in events before it has said hello, from configuration.
    public let inputID: String
    public private(set) var identity: ButtonBoxIdentity?
    public private(set) var counters = Counters()

    private var buttons: [Int: ButtonInput]
    private var splitter = LineSplitter(maximumLength: 82)
    private var silence: SilenceWatchdog
    private var lastSequence: UInt16?
    private var lastUptimeSeconds: Int64?
    private var nextOwnSequence: UInt16 = 0

    /// PLBX 2 presses still held, by press number, each timed by its own press logic.
    private var heldPresses: [UInt32: HeldPress] = [:]
    /// PLBX 2 presses released here whose finish is not yet known committed.
    private var releasedPresses: Set<UInt32> = []
    /// PLBX 2 presses known recorded as finished, newest last, at most ``finishedMemory``.
    private var finishedPresses: [UInt32] = []
    private var pressWatch = PressNumberWatch()
    private var lastQueryAt: Int64?

    private struct HeldPress {
        var closedAt: Int64
        var input: ButtonInput
    }
    /// - Parameters:
    ///   - buttons: configuration per box button number (1…16).
    ///   - silenceLimitMilliseconds: a few heartbeat periods, so one lost heartbeat is no fault.
    ///   - startedAt: monotonic ms; a box that never speaks is reported one limit after this.
    public init(inputID: String, buttons: [Int: ButtonConfig], silenceLimitMilliseconds: Int64 = 3500,
                startedAt: Int64) {
        self.inputID = inputID
        self.buttons = buttons.mapValues(ButtonInput.init(config:))
        self.silence = SilenceWatchdog(limitMilliseconds: silenceLimitMilliseconds, startedAt: startedAt)
    }

    public var isSilent: Bool { silence.isSilent }

    /// When the caller should call ``tick(at:)`` next.
    public var nextDeadline: Int64? {
        ([silence.nextDeadline] + buttons.values.map(\.nextDeadline) + heldPresses.values.map(\.input.nextDeadline))
            .compactMap { $0 }.min()
    }

    /// The protocol the box was told to speak: 1 until it offered 2 in a hello.
    public var protocolVersion: Int { identity?.incarnation == nil ? 1 : Self.highestProtocol }

    /// Feeds bytes read from the box at monotonic time `now`.
    public mutating func receive(_ bytes: some Sequence<UInt8>, at now: Int64) -> ButtonBoxReaction {
        var reaction = ButtonBoxReaction(events: tick(at: now))
        let overlongBefore = splitter.overlongLines
        for line in splitter.append(bytes) {
            guard let frame = ButtonBoxFrame(line: line) else {
                counters.corrupt += 1
                continue
            }
            handle(frame, at: now, into: &reaction)
        }
        counters.corrupt += splitter.overlongLines - overlongBefore
        return reaction
    }

    /// Reports what fell due by `now`: silence, long presses, stuck buttons.
    public mutating func tick(at now: Int64) -> [DetectedEvent] {
        var events = buttons.keys.sorted().flatMap { buttons[$0]?.tick(at: now) ?? [] }
        for press in heldPresses.keys.sorted() {
            events += tickHeldPress(press, at: now)
        }
        for transition in silence.check(at: now) {
            events.append(transition.event(for: .boxSilent, inputID: boxInputID))
            if case .silent(let at) = transition {
                events += releaseAllButtons(at: at)
                // The box keeps and repeats its presses: timing them on through the silence
                // could report a long press that never was.
                heldPresses.removeAll()
            }
        }
        return events
    }

    /// The commit of `key`'s finish succeeded: the `STORED` frame to send, unless the box has
    /// since become another incarnation.
    public mutating func finishCommitted(_ key: PressKey) -> ButtonBoxFrame? {
        guard let identity, key.boxID == identity.boxID, key.incarnation == identity.incarnation else { return nil }
        releasedPresses.remove(key.press)
        if !finishedPresses.contains(key.press) {
            finishedPresses.append(key.press)
            if finishedPresses.count > Self.finishedMemory { finishedPresses.removeFirst() }
        }
        return command(.stored(press: key.press))
    }

    /// A frame to the box (LED, buzzer, query) numbered in this session's own sequence.
    public mutating func command(_ message: ButtonBoxMessage) -> ButtonBoxFrame {
        defer { nextOwnSequence &+= 1 }
        return ButtonBoxFrame(sequence: nextOwnSequence, message: message)
    }

    private var boxInputID: String { identity?.boxID ?? inputID }

    private mutating func handle(_ frame: ButtonBoxFrame, at now: Int64, into reaction: inout ButtonBoxReaction) {
        for transition in silence.heard(at: now) {
            reaction.events.append(transition.event(for: .boxSilent, inputID: boxInputID))
        }
        if let uptime = frame.message.uptimeSeconds {
            if let lastUptimeSeconds, uptime < lastUptimeSeconds { restartNumbering() }
            lastUptimeSeconds = uptime
        }
        let isRepeat = isRepeat(frame.sequence)
        if frame.message.needsAck { reaction.replies.append(command(.ack(sequence: frame.sequence))) }
        if isRepeat {
            counters.duplicates += 1
            guard frame.message.isIdempotent else { return }
        } else {
            lastSequence = frame.sequence
            counters.accepted += 1
        }
        switch frame.message {
        case .hello(let boxID, let firmware, _, let offer):
            hello(boxID: boxID, firmware: firmware, offer: offer, into: &reaction)
        case .heartbeat(_, let down, nil):
            for number in buttons.keys.sorted() {
                reaction.events += contact(number, closed: down.contains(number), at: now)
            }
        case .heartbeat(_, _, let lastPress?):
            guard helloHeard(at: now, into: &reaction) else { return }
            reaction.pressGap = pressWatch.heartbeat(lastPress: lastPress, at: now)
        case .buttonDown(let number):
            reaction.events += contact(number, closed: true, at: now)
        case .buttonUp(let number):
            reaction.events += contact(number, closed: false, at: now)
        case .pressDown(let button, let press, let age):
            guard let key = pressKey(press, at: now, into: &reaction) else { return }
            pressDown(key, button: button, ageMilliseconds: age, at: now, into: &reaction)
        case .pressUp(let button, let press, let held, let afterReset):
            guard let key = pressKey(press, at: now, into: &reaction) else { return }
            pressUp(key, button: button, heldMilliseconds: held, afterReset: afterReset, at: now, into: &reaction)
        case .ack, .led, .buzzer, .query, .speakProtocol, .stored:
            break // Commands only flow to the box; a box echoing one is harmless.
        }
    }

    /// A hello names the box; one offering PLBX 2 is told to speak it. A new incarnation (or a
    /// box that fell back to protocol 1) starts the press bookkeeping over.
    private mutating func hello(boxID: String, firmware: String, offer: ButtonBoxOffer?,
                                into reaction: inout ButtonBoxReaction) {
        let incarnation = offer.flatMap { $0.highestProtocol >= Self.highestProtocol ? $0.incarnation : nil }
        let newIdentity = ButtonBoxIdentity(boxID: boxID, firmware: firmware, incarnation: incarnation)
        if newIdentity.boxID != identity?.boxID || newIdentity.incarnation != identity?.incarnation {
            heldPresses.removeAll()
            releasedPresses.removeAll()
            finishedPresses.removeAll()
            pressWatch = PressNumberWatch()
        }
        identity = newIdentity
        if incarnation != nil { reaction.replies.append(command(.speakProtocol(version: Self.highestProtocol))) }
    }

    /// The key of a numbered press, or nil while no PLBX 2 hello has named the incarnation (an
    /// agent restarted under a box already speaking PLBX 2): the frame is dropped, the box asked
    /// for its hello; it repeats its presses, so nothing is lost.
    private mutating func pressKey(_ press: UInt32, at now: Int64, into reaction: inout ButtonBoxReaction) -> PressKey? {
        guard helloHeard(at: now, into: &reaction), let identity, let incarnation = identity.incarnation else { return nil }
        return PressKey(boxID: identity.boxID, incarnation: incarnation, press: press)
    }

    /// Whether a PLBX 2 hello has named the box's incarnation; if not, asks for it (at most once a
    /// second) and counts the frame as dropped.
    private mutating func helloHeard(at now: Int64, into reaction: inout ButtonBoxReaction) -> Bool {
        if identity?.incarnation != nil { return true }
        counters.beforeHello += 1
        if lastQueryAt.map({ now - $0 >= Self.queryIntervalMilliseconds }) ?? true {
            lastQueryAt = now
            reaction.replies.append(command(.query))
        }
        return false
    }

    private mutating func pressDown(_ key: PressKey, button: Int, ageMilliseconds: Int64, at now: Int64,
                                    into reaction: inout ButtonBoxReaction) {
        pressWatch.received(key.press)
        if finishedPresses.contains(key.press) {
            reaction.replies.append(command(.stored(press: key.press)))
            return
        }
        // A late repeat of the down after its up was applied: the up's repeats finish it.
        guard !releasedPresses.contains(key.press) else { return }
        if heldPresses[key.press] != nil {
            reaction.events += tickHeldPress(key.press, at: now)
            return
        }
        guard let config = buttons[button]?.config else {
            counters.unconfiguredButtons += 1
            return
        }
        var input = ButtonInput(config: config)
        let closedAt = now - ageMilliseconds
        let events = input.contactChanged(closed: true, at: closedAt) + input.tick(at: now)
        heldPresses[key.press] = HeldPress(closedAt: closedAt, input: input)
        reaction.events += events.map { $0.from(key) }
    }

    /// Applies the release with the box's hold time and finishes the press. A press first seen by
    /// its up closed `heldMilliseconds` ago. After a box reset the hold is a lower bound, and the
    /// guard meant the press: it counts as held at least to its minimum.
    private mutating func pressUp(_ key: PressKey, button: Int, heldMilliseconds: Int64, afterReset: Bool,
                                  at now: Int64, into reaction: inout ButtonBoxReaction) {
        pressWatch.received(key.press)
        if finishedPresses.contains(key.press) {
            reaction.replies.append(command(.stored(press: key.press)))
            return
        }
        defer {
            releasedPresses.insert(key.press)
            reaction.finishedPresses.append(key)
        }
        guard !releasedPresses.contains(key.press) else { return }
        guard let config = heldPresses[key.press]?.input.config ?? buttons[button]?.config else {
            // Nothing to raise, but finished all the same, so the box stops repeating it.
            counters.unconfiguredButtons += 1
            return
        }
        let held = afterReset ? max(heldMilliseconds, config.debounceMilliseconds, config.minimumHoldMilliseconds)
                              : heldMilliseconds
        var press = heldPresses.removeValue(forKey: key.press)
            ?? HeldPress(closedAt: now - held, input: ButtonInput(config: config))
        var events = press.input.contactChanged(closed: true, at: press.closedAt)
        let openedAt = press.closedAt + held
        events += press.input.contactChanged(closed: false, at: openedAt)
        events += press.input.tick(at: max(now, openedAt + config.debounceMilliseconds))
        reaction.events += events.map { $0.from(key) }
    }

    private mutating func tickHeldPress(_ press: UInt32, at now: Int64) -> [DetectedEvent] {
        guard var held = heldPresses[press], let incarnation = identity?.incarnation, let boxID = identity?.boxID
        else { return [] }
        let events = held.input.tick(at: now)
        heldPresses[press] = held
        let key = PressKey(boxID: boxID, incarnation: incarnation, press: press)
        return events.map { $0.from(key) }
    }

    /// Whether `sequence` repeats a frame already taken; a number far behind means the box restarted.
    private mutating func isRepeat(_ sequence: UInt16) -> Bool {
        guard let lastSequence else { return false }
        let behind = lastSequence &- sequence
        if behind < Self.repeatWindow { return true }
        if behind <= UInt16.max / 2 { restartNumbering() }
        return false
    }

    private mutating func restartNumbering() {
        guard lastSequence != nil else { return }
        counters.reboots += 1
        lastSequence = nil
    }

    private mutating func contact(_ number: Int, closed: Bool, at now: Int64) -> [DetectedEvent] {
        guard let events = buttons[number]?.contactChanged(closed: closed, at: now) else {
            counters.unconfiguredButtons += 1
            return []
        }
        return events
    }

    private mutating func releaseAllButtons(at time: Int64) -> [DetectedEvent] {
        buttons.keys.sorted().flatMap { buttons[$0]?.contactChanged(closed: false, at: time) ?? [] }
    }
}

/// Watches a PLBX 2 box's press numbers for presses it assigned that never arrive.
///
/// The first heartbeat sets the baseline: presses before it belong to an earlier agent run. After
/// it, a heartbeat's `lastPress` announces presses; those still missing after a grace time (the box
/// resends its queue oldest first) were dropped from its full queue. Reported once per gap.
struct PressNumberWatch: Sendable {
    /// Every press up to here is accounted for (received or reported missing).
    private var complete: UInt32?
    /// Presses received above `complete`.
    private var receivedAbove: Set<UInt32> = []
    /// When a heartbeat first announced presses above `complete` that had not all arrived.
    private var waitingSince: Int64?

    /// More presses than a box queue could bring at once: older ones are dropped from the set.
    private static let receivedLimit = 1024

    mutating func received(_ press: UInt32) {
        guard let complete, press > complete else { return }
        receivedAbove.insert(press)
        if receivedAbove.count > Self.receivedLimit, let lowest = receivedAbove.min() { receivedAbove.remove(lowest) }
    }

    mutating func heartbeat(lastPress: UInt32, at now: Int64) -> PressGap? {
        guard let complete else {
            self.complete = lastPress
            return nil
        }
        guard lastPress > complete else {
            waitingSince = nil
            return nil
        }
        let announced = (complete + 1)...lastPress
        let arrived = receivedAbove.filter(announced.contains).count
        let missing = Int(lastPress - complete) - arrived
        if missing > 0 {
            guard let since = waitingSince else {
                waitingSince = now
                return nil
            }
            guard now - since >= ButtonBoxSession.pressGapGraceMilliseconds else { return nil }
        }
        self.complete = lastPress
        receivedAbove = receivedAbove.filter { $0 > lastPress }
        waitingSince = nil
        return missing > 0 ? PressGap(presses: announced, missing: missing) : nil
    }
}

extension DetectedEvent {
    /// The event as produced by the PLBX 2 press `key`.
    func from(_ key: PressKey) -> DetectedEvent {
        var event = self
        event.press = key
        return event
    }
}

extension ButtonBoxMessage {
    /// The box's uptime, where the message carries it.
    var uptimeSeconds: Int64? {
        switch self {
        case .hello(_, _, let uptime, _), .heartbeat(let uptime, _, _): uptime
        default: nil
        }
    }

    /// PLBX 2 frames: acted on by their content, so a frame number that looks repeated (a box
    /// that rebooted, a repeat whose answer was lost) never makes the agent ignore one.
    var isIdempotent: Bool {
        switch self {
        case .hello(_, _, _, _?), .heartbeat(_, _, _?), .pressDown, .pressUp: true
        default: false
        }
    }

    /// Whether the box waits for an ack and repeats the frame until it gets one.
    var needsAck: Bool {
        switch self {
        case .hello, .buttonDown, .buttonUp: true
        default: false
        }
    }
}
