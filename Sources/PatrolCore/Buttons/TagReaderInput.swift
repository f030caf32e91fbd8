/// One checkpoint tag reader: its bytes in, one check-in event per tag visit out.
public struct TagReaderInput: Sendable {
    public let readerID: String
    public private(set) var decoder: TagReaderDecoder
    private var deduplicator: CheckInDeduplicator

    public init(readerID: String, format: TagReaderFormat, repeatWindowMilliseconds: Int64) {
        self.readerID = readerID
        self.decoder = TagReaderDecoder(format: format)
        self.deduplicator = CheckInDeduplicator(windowMilliseconds: repeatWindowMilliseconds)
    }

    /// Feeds bytes read at monotonic `now`.
    public mutating func receive(_ bytes: some Sequence<UInt8>, at now: Int64) -> [DetectedEvent] {
        decoder.receive(bytes)
            .filter { deduplicator.isNewCheckIn($0, at: now) }
            .map { DetectedEvent(.checkIn(.tag(id: $0.text)), inputID: readerID, at: now) }
    }
}
