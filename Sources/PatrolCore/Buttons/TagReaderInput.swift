/// What a tag read at a reader means.
public enum TagReaderRole: String, Sendable, CaseIterable {
    /// A checkpoint tag held to the reader: a check-in (`check-in.tag`).
    case checkpoint
    /// A person's badge held to the unit's reader: sign-on, and the next read of the same badge
    /// sign-off (`duty.sign-on`, `duty.sign-off`).
    case duty
}

/// One tag reader: its bytes in, one event per tag visit out: a check-in, or for a `duty`
/// reader a sign-on or sign-off.
public struct TagReaderInput: Sendable {
    public let readerID: String
    public let role: TagReaderRole
    public private(set) var decoder: TagReaderDecoder
    private var deduplicator: CheckInDeduplicator
    /// The badges signed on at this reader since the agent started. A read of a badge in it signs
    /// off; any other signs on. Held in memory only: after a restart the next read of a badge signs
    /// on, and the centre's duty report shows the earlier session without a sign-off (open).
    private var signedOn: Set<TagID> = []

    public init(readerID: String, role: TagReaderRole = .checkpoint, format: TagReaderFormat, repeatWindowMilliseconds: Int64) {
        self.readerID = readerID
        self.role = role
        self.decoder = TagReaderDecoder(format: format)
        self.deduplicator = CheckInDeduplicator(windowMilliseconds: repeatWindowMilliseconds)
    }

    /// Feeds bytes read at monotonic `now`. Repeats of a tag within the repeat window are one visit,
    /// so a badge held to a duty reader toggles once, not once per read.
    public mutating func receive(_ bytes: some Sequence<UInt8>, at now: Int64) -> [DetectedEvent] {
        decoder.receive(bytes)
            .filter { deduplicator.isNewCheckIn($0, at: now) }
            .map { DetectedEvent(kind(of: $0), inputID: readerID, at: now) }
    }

    private mutating func kind(of tag: TagID) -> EventKind {
        switch role {
        case .checkpoint: return .checkIn(.tag(id: tag.text))
        case .duty: return .duty(signedOn.remove(tag) == nil ? signOn(tag) : .signOff, badge: tag.text)
        }
    }

    private mutating func signOn(_ tag: TagID) -> DutyChange {
        signedOn.insert(tag)
        return .signOn
    }
}
