/// One round of what an output is to send, in the agent's own types: every protocol (the
/// centre's batch, SIA DC-09, JT/T 808) translates from this and nothing else.
///
/// Either events (alarms, check-ins, faults, in sequence order) or a run of backlog track, and
/// the newest position when it is not already the last backlog point; a round with neither is a
/// heartbeat (the link's "still here").
public struct OutboundBatch: Sendable, Equatable {
    public var events: [StoredEvent]
    /// The oldest undelivered points, in sequence order; only for outputs that forward track.
    public var track: [TrackRecord]
    /// The newest recorded point, so the receiver sees where the unit is while a backlog drains.
    /// Not delivery progress: it is sent again in its turn.
    public var live: TrackRecord?
    /// Records still waiting for this output (events and points), for a heartbeat to report.
    public var pendingRecords: Int64

    public init(events: [StoredEvent] = [], track: [TrackRecord] = [], live: TrackRecord? = nil, pendingRecords: Int64 = 0) {
        self.events = events
        self.track = track
        self.live = live
        self.pendingRecords = pendingRecords
    }

    /// Nothing to deliver: the round only proves the link (and the live point, if any).
    public var isHeartbeat: Bool { events.isEmpty && track.isEmpty }

    public var recordCount: Int { events.count + track.count + (live == nil ? 0 : 1) }
}
