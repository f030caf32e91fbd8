/// What pressing a button means.
public enum ButtonRole: String, Sendable, Equatable, CaseIterable {
    /// A panic button that may be indicated locally (LED, buzzer).
    case panic
    /// A panic button that must stay silent locally, so an intruder is not warned.
    case silentPanic = "silent-panic"
    case duress
    case sos
    case checkIn = "check-in"
    case test

    /// The event a press of this button raises.
    public var pressKind: EventKind {
        switch self {
        case .panic: .panic(silent: false)
        case .silentPanic: .panic(silent: true)
        case .duress: .duress
        case .sos: .sos
        case .checkIn: .checkIn(.button)
        case .test: .testPress
        }
    }
}

/// What holding a button past its long-press time means.
public enum LongPressAction: String, Sendable, Equatable, CaseIterable {
    /// The incident is over.
    case restore
    /// The alarm was a mistake.
    case cancel

    public var kind: EventKind {
        switch self {
        case .restore: .alarmRestore
        case .cancel: .alarmCancel
        }
    }
}

/// A long press gesture: how long, and what it means.
public struct LongPress: Sendable, Equatable {
    public var afterMilliseconds: Int64
    public var action: LongPressAction

    public init(afterMilliseconds: Int64, action: LongPressAction) {
        self.afterMilliseconds = afterMilliseconds
        self.action = action
    }
}

/// One button: its identity, meaning and timing, wherever it is wired (a modem line or a box).
///
/// A long press first raises the press event and then the restore or cancel: the alarm is never
/// held back to find out whether the press will turn out long, since a guard under attack may only
/// manage a short press. The centre sees the alarm followed by its restore or cancel.
public struct ButtonConfig: Sendable, Equatable {
    public var id: String
    public var role: ButtonRole
    public var debounceMilliseconds: Int64
    public var minimumHoldMilliseconds: Int64
    public var longPress: LongPress?
    public var maximumHoldMilliseconds: Int64

    public init(id: String, role: ButtonRole, debounceMilliseconds: Int64 = 30, minimumHoldMilliseconds: Int64 = 100,
                longPress: LongPress? = nil, maximumHoldMilliseconds: Int64 = 60_000) {
        self.id = id
        self.role = role
        self.debounceMilliseconds = debounceMilliseconds
        self.minimumHoldMilliseconds = minimumHoldMilliseconds
        self.longPress = longPress
        self.maximumHoldMilliseconds = maximumHoldMilliseconds
    }

    public var timing: PressTiming {
        PressTiming(debounceMilliseconds: debounceMilliseconds, minimumHoldMilliseconds: minimumHoldMilliseconds,
                    longPressMilliseconds: longPress?.afterMilliseconds, maximumHoldMilliseconds: maximumHoldMilliseconds)
    }

    /// The event a press signal of this button means; nil for a long press that is not configured.
    public func event(for signal: PressSignal) -> DetectedEvent? {
        let kind: EventKind
        switch signal.kind {
        case .pressed: kind = role.pressKind
        case .longPressed:
            guard let longPress else { return nil }
            kind = longPress.action.kind
        case .heldBeyondLimit: kind = .fault(.buttonHeld)
        case .releasedAfterLimit: kind = .faultRestore(.buttonHeld)
        }
        return DetectedEvent(kind, inputID: id, at: signal.at)
    }
}

/// One button's press logic, from contact changes to events: the part shared by buttons wired to
/// modem lines and buttons on a button box.
public struct ButtonInput: Sendable {
    public let config: ButtonConfig
    private var detector: PressDetector

    public init(config: ButtonConfig) {
        self.config = config
        self.detector = PressDetector(timing: config.timing)
    }

    public var isHeld: Bool { detector.isHeld }
    public var nextDeadline: Int64? { detector.nextDeadline }

    public mutating func contactChanged(closed: Bool, at now: Int64) -> [DetectedEvent] {
        detector.contactChanged(closed: closed, at: now).compactMap(config.event(for:))
    }

    public mutating func tick(at now: Int64) -> [DetectedEvent] {
        detector.tick(at: now).compactMap(config.event(for:))
    }
}
