/// An on/off pattern for an LED, a buzzer or a modem control line driving either.
///
/// The raw values are the button box protocol's tokens. For a modem line the caller drives the
/// line itself: ``isOn(afterMilliseconds:)`` says the level and ``nextChange(afterMilliseconds:)``
/// when to set it again.
public enum IndicatorPattern: String, Sendable, Equatable, CaseIterable {
    case off = "OFF"
    case steady = "ON"
    /// 1 Hz, half on.
    case slowBlink = "SLOW"
    /// 4 Hz, half on.
    case fastBlink = "FAST"
    /// One 200 ms pulse, then off.
    case singlePulse = "P1"
    /// Two 150 ms pulses, then off.
    case doublePulse = "P2"
    /// One 1 s pulse, then off.
    case longPulse = "LONG"

    /// Alternating on and off durations in ms, starting with on; `repeats` loops them for ever.
    /// Nil for the patterns that never change.
    private var cycle: (durations: [Int64], repeats: Bool)? {
        switch self {
        case .off, .steady: nil
        case .slowBlink: ([500, 500], true)
        case .fastBlink: ([125, 125], true)
        case .singlePulse: ([200], false)
        case .doublePulse: ([150, 150, 150], false)
        case .longPulse: ([1000], false)
        }
    }

    /// Whether the output is on `elapsed` ms after the pattern started.
    public func isOn(afterMilliseconds elapsed: Int64) -> Bool {
        position(at: elapsed).isOn
    }

    /// Elapsed ms at which the output next changes, or nil when it stays as it is.
    public func nextChange(afterMilliseconds elapsed: Int64) -> Int64? {
        position(at: elapsed).nextChange
    }

    private func position(at elapsed: Int64) -> (isOn: Bool, nextChange: Int64?) {
        guard let (durations, repeats) = cycle else { return (self == .steady, nil) }
        let period = durations.reduce(0, +)
        let cycleStart = repeats ? elapsed - elapsed % period : 0
        var segmentEnd = cycleStart
        for (index, duration) in durations.enumerated() {
            segmentEnd += duration
            if elapsed < segmentEnd { return (index % 2 == 0, segmentEnd) }
        }
        return (false, nil)
    }
}
