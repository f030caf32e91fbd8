/// How an event input's link is doing, for status: the same three states as a GPS source, because
/// the same reconnect supervisor reports them (connecting, connected, down with the logged reason).
public typealias InputState = GPSSourceState

/// Something that detects events at the edge: modem-line buttons, a button box, a tag reader.
///
/// The agent runs each input as a service: `run` keeps going until its task is cancelled and
/// never throws for a lost device; it reports `.down`, raises the port fault through `emit`,
/// and reconnects by itself. Every event is reported exactly once, with the monotonic time its
/// condition was met (see ``DetectedEvent``); storing and sending is the caller's business.
public protocol EventInput: Sendable {
    /// A short description for logs and status, e.g. `buttons /dev/ttyUSB0`.
    var name: String { get }

    func run(emit: @escaping @Sendable (DetectedEvent) async -> Void,
             stateChanged: @escaping @Sendable (InputState) async -> Void) async

    /// Shows `cue` on the input's own LED and buzzer (see ``LocalFeedback``), replacing what they
    /// showed. The caller has already left out silent events. An input without indicators, or
    /// whose device is unplugged, ignores it: feedback is a courtesy, never a reason to fail.
    func indicate(_ cue: FeedbackCue) async
}
