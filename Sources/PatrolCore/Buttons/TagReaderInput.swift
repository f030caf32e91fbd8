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
    /// The badges signed on at this reader. A read of a badge in it signs off; any other signs on.
    private var signedOn: Set<TagID>

    /// - Parameter signedOnBadges: the badges whose last read at this reader signed on, as the store
    ///   remembers them, so that a guard who signed on before the board lost power signs off with
    ///   the next read instead of signing on a second time.
    public init(readerID: String, role: TagReaderRole = .checkpoint, format: TagReaderFormat, repeatWindowMilliseconds: Int64,
                signedOnBadges: Set<String> = []) {
        self.readerID = readerID
        self.role = role
        self.signedOn = Set(signedOnBadges.map(TagID.init))
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
