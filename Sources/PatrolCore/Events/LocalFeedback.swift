/// How far an event has got, as shown to the guard who raised it.
public enum FeedbackState: String, Sendable, Equatable, CaseIterable {
    /// Safely on disk: it will reach the centre even if power fails now.
    case stored
    /// Handed to the centre's link, not yet confirmed.
    case delivered
    /// The centre confirmed it: someone has seen the alarm.
    case acknowledged
    /// It could not be stored or sent: the guard must use another way (radio, phone).
    case failed
}

/// What the LED and the buzzer show for one event in one state.
public struct FeedbackCue: Sendable, Equatable {
    public var led: IndicatorPattern
    public var buzzer: IndicatorPattern

    public init(led: IndicatorPattern, buzzer: IndicatorPattern) {
        self.led = led
        self.buzzer = buzzer
    }
}

/// The local indication for events, and how it is put on each kind of output.
///
/// Silent panics and duress show nothing at all, in any state: whoever threatens the guard must
/// see no sign that an alarm went out.
public enum LocalFeedback {
    /// The cue for `kind` in `state`; nil when nothing is to be shown.
    ///
    /// Alarms keep the LED on while they are open: blinking slowly once stored, fast once
    /// delivered, steady once the centre acknowledged. Check-ins, tests, restores and cancels
    /// only confirm with short pulses. A fault blinks slowly until its restore turns it off.
    public static func cue(for kind: EventKind, state: FeedbackState) -> FeedbackCue? {
        guard !kind.isSilent else { return nil }
        switch (Indication(kind), state) {
        case (_, .failed): return FeedbackCue(led: .fastBlink, buzzer: .longPulse)
        case (.alarm, .stored): return FeedbackCue(led: .slowBlink, buzzer: .singlePulse)
        case (.alarm, .delivered): return FeedbackCue(led: .fastBlink, buzzer: .off)
        case (.alarm, .acknowledged): return FeedbackCue(led: .steady, buzzer: .doublePulse)
        case (.confirmation, .stored): return FeedbackCue(led: .singlePulse, buzzer: .singlePulse)
        case (.confirmation, .acknowledged): return FeedbackCue(led: .doublePulse, buzzer: .off)
        case (.fault, .stored): return FeedbackCue(led: .slowBlink, buzzer: .longPulse)
        case (.faultRestore, .stored): return FeedbackCue(led: .off, buzzer: .off)
        default: return nil
        }
    }

    /// The families of events that look alike locally.
    private enum Indication {
        case alarm, confirmation, fault, faultRestore

        init(_ kind: EventKind) {
            switch kind {
            case .panic, .duress, .sos: self = .alarm
            case .checkIn, .duty, .testPress, .alarmRestore, .alarmCancel: self = .confirmation
            case .fault: self = .fault
            case .faultRestore: self = .faultRestore
            }
        }
    }

    /// The cue as button box commands for the box's LED number `ledIndex`.
    public static func boxCommands(_ cue: FeedbackCue, ledIndex: Int) -> [ButtonBoxMessage] {
        [.led(index: ledIndex, pattern: cue.led), .buzzer(pattern: cue.buzzer)]
    }

    /// The cue as patterns for the modem control lines an LED and a buzzer are wired to (either
    /// may be absent). The caller drives each line with ``IndicatorPattern/isOn(afterMilliseconds:)``.
    public static func linePatterns(_ cue: FeedbackCue, led: ModemControlLine?,
                                    buzzer: ModemControlLine?) -> [ModemControlLine: IndicatorPattern] {
        var patterns: [ModemControlLine: IndicatorPattern] = [:]
        if let led { patterns[led] = cue.led }
        if let buzzer { patterns[buzzer] = cue.buzzer }
        return patterns
    }
}
