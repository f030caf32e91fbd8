/// Makes one check-in of repeated reads of the same tag.
///
/// Readers repeat a read for as long as a tag is held to them, and guards tap twice to be sure.
/// The window runs from the latest read of the tag, not the first, so a tag held (or left) on the
/// reader stays one check-in however long it lies there.
public struct CheckInDeduplicator: Sendable {
    public let windowMilliseconds: Int64
    private var lastReadAt: [TagID: Int64] = [:]

    public init(windowMilliseconds: Int64) {
        self.windowMilliseconds = windowMilliseconds
    }

    /// Records a read at monotonic `now`; true when it is a new check-in.
    public mutating func isNewCheckIn(_ tag: TagID, at now: Int64) -> Bool {
        lastReadAt = lastReadAt.filter { now - $0.value < windowMilliseconds }
        let isNew = lastReadAt[tag] == nil
        lastReadAt[tag] = now
        return isNew
    }
}
