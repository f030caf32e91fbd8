/// What the session knows about the box at the other end.
public struct ButtonBoxIdentity: Sendable, Equatable {
    public var boxID: String
    public var firmware: String

    public init(boxID: String, firmware: String) {
        self.boxID = boxID
        self.firmware = firmware
    }
}

/// What one call into a ``ButtonBoxSession`` produced.
public struct ButtonBoxReaction: Sendable, Equatable {
    /// Press events, long presses, stuck-button and box-silent faults and their restores.
    public var events: [DetectedEvent] = []
    /// Frames to write to the box, in order.
    public var replies: [ButtonBoxFrame] = []

    public init(events: [DetectedEvent] = [], replies: [ButtonBoxFrame] = []) {
        self.events = events
        self.replies = replies
    }
}

/// The agent's side of one button box link: frames in, press events and acknowledgements out.
///
/// - A repeated frame (same box sequence number, sent again because our ack was lost) is acked
///   again but is not a second press.
/// - A reboot of the box restarts its numbering; it is recognised by the uptime in its hello and
///   heartbeat going backwards, or by a number far behind the last one, and numbering starts over.
/// - Silence (no valid frame for the limit) is one `box-silent` fault, and one restore when a frame
///   comes again. Buttons held at that moment count as released: the box can no longer tell.
/// - Down and up frames go through the same press logic as modem line buttons, so minimum hold,
///   long press and stuck limits mean the same; the box has already debounced its contacts.
/// - Corrupt or unknown frames are counted and dropped.
public struct ButtonBoxSession: Sendable {
    public struct Counters: Sendable, Equatable {
        public var accepted = 0
        public var duplicates = 0
        public var corrupt = 0
        public var reboots = 0
        /// Down/up frames for a button number no ``ButtonConfig`` is given for.
        public var unconfiguredButtons = 0
    }

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
        ([silence.nextDeadline] + buttons.values.map(\.nextDeadline)).compactMap { $0 }.min()
    }

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
        for transition in silence.check(at: now) {
            events.append(transition.event(for: .boxSilent, inputID: boxInputID))
            if case .silent(let at) = transition { events += releaseAllButtons(at: at) }
        }
        return events
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
            return
        }
        lastSequence = frame.sequence
        counters.accepted += 1
        switch frame.message {
        case .hello(let boxID, let firmware, _):
            identity = ButtonBoxIdentity(boxID: boxID, firmware: firmware)
        case .heartbeat(_, let down):
            for number in buttons.keys.sorted() {
                reaction.events += contact(number, closed: down.contains(number), at: now)
            }
        case .buttonDown(let number):
            reaction.events += contact(number, closed: true, at: now)
        case .buttonUp(let number):
            reaction.events += contact(number, closed: false, at: now)
        case .ack, .led, .buzzer, .query:
            break // Commands only flow to the box; a box echoing one is harmless.
        }
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

extension ButtonBoxMessage {
    /// The box's uptime, where the message carries it.
    var uptimeSeconds: Int64? {
        switch self {
        case .hello(_, _, let uptime), .heartbeat(let uptime, _): uptime
        default: nil
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
