/// The two kinds of records outputs forward, each numbered by its own sequence.
public enum StoreStream: String, Sendable, CaseIterable {
    case track
    case event
}

/// A stored event and its sequence number: the typed event as it was caught, so every output
/// (the centre's wire, an alarm receiver's codes) reads the kind, its detail and the position
/// from one definition instead of re-parsing a string or a JSON payload.
public struct StoredEvent: Sendable, Equatable {
    public var sequence: Int64
    public var event: PatrolEvent

    public init(sequence: Int64, event: PatrolEvent) {
        self.sequence = sequence
        self.event = event
    }
}

/// A stored event that cannot be read back (a kind this agent does not know: written by a newer
/// one). The reader sets that one record aside as a dead letter instead of stopping at it.
public struct UnreadableEvent: Error, Sendable, Equatable, CustomStringConvertible {
    public var sequence: Int64
    public var description: String

    public init(sequence: Int64, description: String) {
        self.sequence = sequence
        self.description = description
    }
}

/// A record an output's receiver refused for good (it will never be accepted, so it is not retried).
public struct DeadLetter: Sendable, Equatable {
    public var stream: StoreStream
    public var sequence: Int64
    public var reason: String

    public init(stream: StoreStream, sequence: Int64, reason: String) {
        self.stream = stream
        self.sequence = sequence
        self.reason = reason
    }
}

/// How far one output has got, for status.
public struct OutputBacklog: Sendable, Equatable {
    /// nil for a stream the output does not forward.
    public var trackDelivered: Int64?
    public var eventDelivered: Int64
    /// Stored points and events after what the output delivered (points: 0 when it takes none).
    public var trackPending: Int64
    public var eventPending: Int64
    public var deadLetters: Int64

    public init(trackDelivered: Int64?, eventDelivered: Int64, trackPending: Int64, eventPending: Int64, deadLetters: Int64) {
        self.trackDelivered = trackDelivered
        self.eventDelivered = eventDelivered
        self.trackPending = trackPending
        self.eventPending = eventPending
        self.deadLetters = deadLetters
    }
}

/// What outputs read from and report to: the agent's durable store (`AgentStore`), or an
/// in-memory one in tests. It owns durability and per-output progress; the uplink runner owns
/// retries; an output only speaks its protocol.
///
/// Retention keeps every record an output still registered for that stream has not delivered.
public protocol DeliveryBacklog: Sendable {
    /// Makes `output` one whose progress on `streams` holds back retention (registering again
    /// changes nothing; a stream left out stops holding anything back for it).
    func registerOutput(_ output: String, streams: Set<StoreStream>) throws
    /// The last sequence `output` delivered on `stream`; 0 when nothing.
    func progress(output: String, stream: StoreStream) throws -> Int64
    /// Events after `sequence`, oldest first, at most `limit`. Throws `UnreadableEvent` for the
    /// first one that cannot be read.
    func events(since sequence: Int64, limit: Int) throws -> [StoredEvent]
    /// Track points after `sequence`, in sequence order, at most `limit`.
    func trackRecords(after sequence: Int64, limit: Int) throws -> [TrackRecord]
    /// The highest track sequence numbered so far (0 when none), its point possibly gone.
    func lastTrackSequence() throws -> Int64
    /// Records in one transaction how far `output` got on each stream (only forward) and the
    /// records its receiver refused for good.
    func recordDelivery(output: String, track: Int64?, event: Int64?, deadLetters: [DeadLetter], at time: UTCTime) throws
    /// Progress, what is left, and the dead letters of `output`.
    func backlog(output: String) throws -> OutputBacklog
}
