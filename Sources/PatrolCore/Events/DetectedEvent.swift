/// An event as an input detected it, before ``EventStamper`` gives it a UTC time and a position.
///
/// `at` is the monotonic time the condition was met (a hold limit reached, a silence run out).
/// It can be earlier than the call that reports it when the caller's timer fired late, and the
/// event is stamped as of `at`, not as of the report.
public struct DetectedEvent: Sendable, Equatable {
    public var kind: EventKind
    /// The button, reader, box or port; nil for agent-wide events such as GPS loss.
    public var inputID: String?
    /// Monotonic milliseconds.
    public var at: Int64
    /// The PLBX 2 box press that produced the event; nil for everything else.
    public var press: PressKey?

    public init(_ kind: EventKind, inputID: String?, at: Int64, press: PressKey? = nil) {
        self.kind = kind
        self.inputID = inputID
        self.at = at
        self.press = press
    }
}
