/// A serial port's modem status inputs, where a button's dry contact can be wired.
public enum ModemStatusLine: String, Sendable, Equatable, CaseIterable {
    case cts, dsr, dcd, ri
}

/// A serial port's modem control outputs, which can drive an LED or a buzzer.
public enum ModemControlLine: String, Sendable, Equatable, CaseIterable {
    case dtr, rts
}

/// A button wired as a contact closure to one modem status line of a serial port.
///
/// The wiring decides which level means "pressed": a contact pulling the line to the asserted
/// level (active high), or a normally closed loop that opens when pressed (active low), which
/// also makes a cut wire look like a held button and so raise the held-beyond-limit fault.
public struct ModemLineButton: Sendable {
    public let line: ModemStatusLine
    /// The line level (true = asserted) that means pressed.
    public let activeLevel: Bool
    private var input: ButtonInput

    public init(config: ButtonConfig, line: ModemStatusLine, activeLevel: Bool) {
        self.line = line
        self.activeLevel = activeLevel
        self.input = ButtonInput(config: config)
    }

    public var config: ButtonConfig { input.config }
    public var nextDeadline: Int64? { input.nextDeadline }

    /// Feeds the line's level at `now` (an edge or a poll; repeats are harmless).
    public mutating func lineChanged(level: Bool, at now: Int64) -> [DetectedEvent] {
        input.contactChanged(closed: level == activeLevel, at: now)
    }

    public mutating func tick(at now: Int64) -> [DetectedEvent] {
        input.tick(at: now)
    }
}
