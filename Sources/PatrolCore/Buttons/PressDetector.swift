/// How long a contact must be closed for what, in milliseconds.
public struct PressTiming: Sendable, Equatable {
    /// A change of the contact counts only once it has lasted this long (contact bounce, vibration
    /// in a vehicle, a wire picking up noise).
    public var debounceMilliseconds: Int64
    /// A press shorter than this is ignored, so a brush against the button is not an alarm.
    /// Measured from the closing edge.
    public var minimumHoldMilliseconds: Int64
    /// Holding this long reports a long press in addition to the press; nil when not configured.
    public var longPressMilliseconds: Int64?
    /// Holding this long means the button is stuck or jammed: reported once, then once on release.
    public var maximumHoldMilliseconds: Int64

    public init(debounceMilliseconds: Int64, minimumHoldMilliseconds: Int64,
                longPressMilliseconds: Int64? = nil, maximumHoldMilliseconds: Int64) {
        self.debounceMilliseconds = debounceMilliseconds
        self.minimumHoldMilliseconds = minimumHoldMilliseconds
        self.longPressMilliseconds = longPressMilliseconds
        self.maximumHoldMilliseconds = maximumHoldMilliseconds
    }
}

/// What a ``PressDetector`` reports about one physical press.
public struct PressSignal: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The press counts: closed past debounce and minimum hold. Once per physical press.
        case pressed
        /// Still held at the long-press time.
        case longPressed
        /// Still held at the maximum hold time.
        case heldBeyondLimit
        /// Released after ``heldBeyondLimit`` was reported.
        case releasedAfterLimit
    }

    public var kind: Kind
    /// Monotonic milliseconds when the condition was met (the release: its opening edge).
    public var at: Int64

    public init(_ kind: Kind, at: Int64) {
        self.kind = kind
        self.at = at
    }
}

/// Turns the open/closed changes of one contact into press signals, from edges alone.
///
/// The press is reported as soon as the contact has been closed for both the debounce and the
/// minimum hold, never at release, so an alarm is not delayed by how long the guard holds the
/// button. Contact bounce and a held button give one press. The caller feeds every edge
/// (repeated samples of the same level are harmless) and calls ``tick(at:)`` at ``nextDeadline``;
/// a late tick still reports each signal with the time its condition was met.
public struct PressDetector: Sendable {
    public let timing: PressTiming

    /// Signals of a press in the order they fall due, as offsets from the closing edge.
    private let stages: [(offset: Int64, kind: PressSignal.Kind)]

    /// The contact as last reported, and when it last changed.
    private var rawClosed = false
    private var rawChangedAt: Int64 = 0
    /// The debounced press in progress; nil while the contact is (debounced) open.
    private var hold: Hold?

    private struct Hold {
        /// The closing edge the press is measured from.
        var since: Int64
        /// How many of `stages` have been reported.
        var reportedStages = 0
    }

    public init(timing: PressTiming) {
        self.timing = timing
        var stages: [(offset: Int64, kind: PressSignal.Kind)] = [
            (max(timing.debounceMilliseconds, timing.minimumHoldMilliseconds), .pressed),
            (timing.maximumHoldMilliseconds, .heldBeyondLimit),
        ]
        if let longPress = timing.longPressMilliseconds { stages.append((longPress, .longPressed)) }
        self.stages = stages.sorted { $0.offset < $1.offset }
    }

    /// Whether a debounced press is in progress.
    public var isHeld: Bool { hold != nil }

    /// When the caller should call ``tick(at:)`` next; nil when nothing is pending.
    public var nextDeadline: Int64? {
        if rawClosed != isHeld { return rawChangedAt + timing.debounceMilliseconds }
        guard let hold, hold.reportedStages < stages.count else { return nil }
        return hold.since + stages[hold.reportedStages].offset
    }

    /// Feeds the contact's state at `now`: an edge, or a sample that may repeat the last state.
    public mutating func contactChanged(closed: Bool, at now: Int64) -> [PressSignal] {
        var signals = tick(at: now)
        if closed != rawClosed {
            rawClosed = closed
            rawChangedAt = now
            signals += tick(at: now)
        }
        return signals
    }

    /// Reports what fell due by `now`.
    public mutating func tick(at now: Int64) -> [PressSignal] {
        var signals = dueStages(at: now)
        guard rawClosed != isHeld, now >= rawChangedAt + timing.debounceMilliseconds else { return signals }
        if rawClosed {
            hold = Hold(since: rawChangedAt)
            signals += dueStages(at: now)
        } else {
            if let hold, stages[..<hold.reportedStages].contains(where: { $0.kind == .heldBeyondLimit }) {
                signals.append(PressSignal(.releasedAfterLimit, at: rawChangedAt))
            }
            hold = nil
        }
        return signals
    }

    /// The stages of the current press that fell due while the contact is known to have been held:
    /// up to `now`, or only up to the opening edge while an opening is still being debounced.
    private mutating func dueStages(at now: Int64) -> [PressSignal] {
        guard var hold else { return [] }
        let heldUntil = rawClosed ? now : rawChangedAt
        var signals: [PressSignal] = []
        while hold.reportedStages < stages.count {
            let stage = stages[hold.reportedStages]
            let dueAt = hold.since + stage.offset
            guard dueAt <= heldUntil else { break }
            signals.append(PressSignal(stage.kind, at: dueAt))
            hold.reportedStages += 1
        }
        self.hold = hold
        return signals
    }
}
