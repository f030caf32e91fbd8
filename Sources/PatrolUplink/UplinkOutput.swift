import PatrolCore

/// Somewhere the agent's records go: the PatrolLink centre over HTTP (PatrolUplinkCentre), an
/// alarm receiving centre over SIA DC-09, a fleet platform over JT/T 808.
///
/// An output only translates: one `OutboundBatch` (the agent's own types) out, the receiver's
/// verdict back. Everything about *when* to send (retries, backoff, priority, heartbeats) and what
/// was delivered lives in `UplinkRunner` and the store, so a new protocol is a new target with its
/// output and its `UplinkOutputKind`, plus one line in the agent's list of kinds.
public protocol UplinkOutput: Sendable {
    /// Names the output in configuration, logs, status and the store's delivery progress.
    var name: String { get }
    /// Where it sends, for logs and status, e.g. `https://centre.example:8443` or `tcp://arc:5000`.
    var destination: String { get }
    /// What it forwards: an output without `.track` is never given track points, and its
    /// progress does not hold the track back from retention.
    var streams: Set<StoreStream> { get }

    /// Sends `batch` and returns the receiver's verdict on its records.
    ///
    /// Throws `UplinkLinkError` when the verdict is unknown (no connection, timeout, a server error,
    /// an answer that cannot be read): the runner sends the same records again later, and the
    /// receiver recognises records it already has (the centre by (device, stream, sequence)).
    func send(_ batch: OutboundBatch) async throws(UplinkLinkError) -> UplinkVerdict

    /// Closes its connection once its runner has stopped for good (a configuration reload removed
    /// or changed the output), so that the receiver does not keep a link nobody uses.
    func close() async
}

/// What a receiver decided about one batch.
public enum UplinkVerdict: Sendable, Equatable {
    /// Per-record answers; every record of the batch is either accepted or rejected.
    case answered(UplinkAnswer)
    /// The batch as a whole can never be accepted as it is (malformed, too large): the runner
    /// sends fewer records at a time until the one at fault is alone, and dead-letters it.
    case refused(reason: String)
}

/// The receiver's answer to a batch it took.
public struct UplinkAnswer: Sendable, Equatable {
    /// Inclusive sequence ranges stored (or already held) per stream.
    public var accepted: [StoreStream: [ClosedRange<UInt64>]]
    /// Records refused for good, with the receiver's reason.
    public var rejected: [Rejection]
    /// Alarms staff at the receiver acknowledged, oldest first.
    public var acknowledgements: [UplinkAcknowledgement]
    /// Text messages from the receiver (a JT/T 808 platform's 0x8300), oldest first, for status.
    public var messages: [UplinkMessage] = []
    /// The least time the receiver asks for between track rounds (a JT/T 808 platform's reporting
    /// interval, 0x8103 parameter 0x0029); nil: send points as soon as they are stored. The
    /// runner takes the value of every answer, so an output reports its current one each time.
    /// Events never wait for it, nor does a backlog: full batches go one after the other.
    public var trackInterval: Duration?

    /// Consecutive records of one stream refused for the same reason.
    public struct Rejection: Sendable, Equatable {
        public var stream: StoreStream
        public var sequences: ClosedRange<UInt64>
        public var reason: String

        public init(stream: StoreStream, sequences: ClosedRange<UInt64>, reason: String) {
            self.stream = stream
            self.sequences = sequences
            self.reason = reason
        }
    }

    public init(accepted: [StoreStream: [ClosedRange<UInt64>]], rejected: [Rejection] = [],
                acknowledgements: [UplinkAcknowledgement] = []) {
        self.accepted = accepted
        self.rejected = rejected
        self.acknowledgements = acknowledgements
    }

    /// Whether `sequence` of `stream` was accepted.
    public func accepts(_ stream: StoreStream, _ sequence: UInt64) -> Bool {
        accepted[stream, default: []].contains { $0.contains(sequence) }
    }
}

/// A text the receiver sent for the crew (shown by `patrol-agent status`), with when it arrived.
public struct UplinkMessage: Sendable, Equatable {
    public var text: String
    public var receivedAt: UTCTime

    public init(text: String, receivedAt: UTCTime) {
        self.text = text
        self.receivedAt = receivedAt
    }
}

/// Staff at a receiver saw an alarm: the guard's box shows "acknowledged".
public struct UplinkAcknowledgement: Sendable, Equatable {
    /// The alarm's event sequence.
    public var eventSequence: Int64
    public var acknowledgedBy: String
    /// The operator-facing text, e.g. "alarm 41 acknowledged by operator ann at …".
    public var text: String

    public init(eventSequence: Int64, acknowledgedBy: String, text: String) {
        self.eventSequence = eventSequence
        self.acknowledgedBy = acknowledgedBy
        self.text = text
    }
}

/// Why a batch's fate is unknown; the text is what status and the log show while the link is down.
public struct UplinkLinkError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String

    public init(_ reason: String) {
        self.reason = reason
    }

    public var description: String { reason }
}
