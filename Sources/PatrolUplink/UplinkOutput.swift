import PatrolCore

/// Somewhere the agent's records go: the PatrolLink centre over HTTP (`CentreHTTPOutput`), later
/// perhaps an alarm receiving centre (SIA DC-09) or a fleet platform (JT/T 808).
///
/// An output only translates: one batch out, the receiver's verdict back. Everything about
/// *when* to send (retries, backoff, priority, heartbeats) and what was delivered lives in
/// `UplinkRunner` and the store, so a new protocol is one new type plus its configuration table.
public protocol UplinkOutput: Sendable {
    /// Names the output in configuration, logs, status and the store's delivery progress.
    var name: String { get }

    /// Sends `batch` and returns the receiver's verdict on its records.
    ///
    /// Throws `UplinkLinkError` when the verdict is unknown (no connection, timeout, a server error,
    /// an answer that cannot be read): the runner sends the same records again later, and the
    /// receiver recognises records it already has by (device, stream, sequence).
    func send(_ batch: UplinkBatch) async throws(UplinkLinkError) -> UplinkVerdict
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
    public var accepted: [UplinkStream: [ClosedRange<UInt64>]]
    /// Records refused for good, with the receiver's reason.
    public var rejected: [Rejection]
    /// Messages for the device, oldest first.
    public var downlink: [DownlinkMessage]

    /// Consecutive records of one stream refused for the same reason.
    public struct Rejection: Sendable, Equatable {
        public var stream: UplinkStream
        public var sequences: ClosedRange<UInt64>
        public var reason: String

        public init(stream: UplinkStream, sequences: ClosedRange<UInt64>, reason: String) {
            self.stream = stream
            self.sequences = sequences
            self.reason = reason
        }
    }

    public init(accepted: [UplinkStream: [ClosedRange<UInt64>]], rejected: [Rejection] = [], downlink: [DownlinkMessage] = []) {
        self.accepted = accepted
        self.rejected = rejected
        self.downlink = downlink
    }

    /// Whether `sequence` of `stream` was accepted.
    public func accepts(_ stream: UplinkStream, _ sequence: UInt64) -> Bool {
        accepted[stream, default: []].contains { $0.contains(sequence) }
    }
}

/// A message from the receiver to the device.
public struct DownlinkMessage: Sendable, Equatable {
    /// Increasing per device; the device confirms the highest it acted on in its next batch.
    public var id: UInt64
    /// The alarm (event sequence) staff acknowledged; nil for a message this agent does not know,
    /// which is confirmed all the same so the receiver stops resending it.
    public var acknowledgedAlarm: UInt64?
    public var acknowledgedBy: String
    /// The operator-facing text, e.g. "alarm 41 acknowledged by operator ann at …".
    public var text: String

    public init(id: UInt64, acknowledgedAlarm: UInt64?, acknowledgedBy: String, text: String) {
        self.id = id
        self.acknowledgedAlarm = acknowledgedAlarm
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
