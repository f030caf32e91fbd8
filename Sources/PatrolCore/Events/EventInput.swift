/// How an event input's link is doing, for status: the same three states as a GPS source, because
/// the same reconnect supervisor reports them (connecting, connected, down with the logged reason).
public typealias InputState = GPSSourceState

/// What an input hands to the journal.
public enum InputReport: Sendable, Equatable {
    case event(DetectedEvent)
    /// A PLBX 2 press whose release has been applied; every event it produced was reported before
    /// it. Recorded as finished in the store, after those events, so the box may be told `STORED`.
    case pressFinished(PressKey)
}

/// What became of a report when ``EventInput/run(emit:stateChanged:)``'s `emit` returns: an input
/// that confirms something to its device (the button box's `STORED`) may do so only once it is on disk.
public enum ReportOutcome: Sendable, Equatable {
    /// Committed now.
    case stored
    /// The store already had it: the same kind of event for the same press, or the press already
    /// recorded as finished. Nothing new was stored.
    case alreadyStored
    /// The store failed: the journal keeps the report in memory and retries, but it is not on disk.
    case keptForRetry

    /// Whether the report is on disk now, by this commit or an earlier one.
    public var isOnDisk: Bool { self != .keptForRetry }
}

/// Something that detects events at the edge: modem-line buttons, a button box, a tag reader.
///
/// The agent runs each input as a service: `run` keeps going until its task is cancelled and
/// never throws for a lost device; it reports `.down`, raises the port fault through `emit`,
/// and reconnects by itself. Every event is reported exactly once, with the monotonic time its
/// condition was met (see ``DetectedEvent``); storing and sending is the caller's business.
/// `emit` returns once the report is committed or kept for retry, and says which.
public protocol EventInput: Sendable {
    /// A short description for logs and status, e.g. `buttons /dev/ttyUSB0`.
    var name: String { get }

    func run(emit: @escaping @Sendable (InputReport) async -> ReportOutcome,
             stateChanged: @escaping @Sendable (InputState) async -> Void) async

    /// Shows `cue` on the input's own LED and buzzer (see ``LocalFeedback``), replacing what they
    /// showed. The caller has already left out silent events. An input without indicators, or
    /// whose device is unplugged, ignores it: feedback is a courtesy, never a reason to fail.
    func indicate(_ cue: FeedbackCue) async
}
