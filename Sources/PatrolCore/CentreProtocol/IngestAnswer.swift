/// `POST /v1/ingest`'s answer, as the centre writes it and the agent reads it (one definition for
/// both ends): exactly what was accepted (ranges of sequences per stream, duplicates included),
/// what was refused for good and why, and messages for the device. `Docs/openapi.json` describes it.
///
/// Every part is made of ranges, so the answer stays small whatever the batch: a day's backlog is
/// one accepted range, and a run of refused records is one rejected range.
public struct IngestResponse: Codable, Sendable, Equatable {
    public var centreTimeMs: Int64
    /// Per stream name, inclusive `[first, last]` sequence ranges.
    public var accepted: [String: [[UInt64]]]
    public var rejected: [RejectedRange]
    public var downlink: [DownlinkView]

    public init(centreTimeMs: Int64, accepted: [String: [[UInt64]]], rejected: [RejectedRange], downlink: [DownlinkView]) {
        self.centreTimeMs = centreTimeMs
        self.accepted = accepted
        self.rejected = rejected
        self.downlink = downlink
    }
}

/// Consecutive sequences of one stream refused for good, all for the same reason.
public struct RejectedRange: Codable, Sendable, Equatable {
    public var stream: UplinkStream
    /// Inclusive.
    public var first: UInt64
    public var last: UInt64
    public var reason: String

    public init(stream: UplinkStream, first: UInt64, last: UInt64, reason: String) {
        self.stream = stream
        self.first = first
        self.last = last
        self.reason = reason
    }

    public var sequences: ClosedRange<UInt64> { first...max(first, last) }
}

/// A message for the device; today only `alarm-acknowledged`.
public struct DownlinkView: Codable, Sendable, Equatable {
    public var id: Int64
    public var type: String
    /// The acknowledged alarm's event sequence (for `alarm-acknowledged`).
    public var alarmSequence: UInt64?
    public var by: String
    public var atMs: Int64
    public var text: String

    public init(id: Int64, type: String, alarmSequence: UInt64?, by: String, atMs: Int64, text: String) {
        self.id = id
        self.type = type
        self.alarmSequence = alarmSequence
        self.by = by
        self.atMs = atMs
        self.text = text
    }
}
