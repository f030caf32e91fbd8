import PatrolCore

/// The two streams of data the store keeps and outputs deliver.
public enum StoreStream: String, Sendable, CaseIterable {
    case track
    case event
}

/// A track point as stored, with its sequence number (delivery progress is counted in these).
public struct StoredTrackPoint: Sendable, Equatable {
    public var seq: Int64
    public var point: TrackPoint
}

/// An event to commit. Store-level on purpose: the kind is its stable string code, so the store
/// never needs to change when event kinds are added.
public struct EventRecord: Sendable, Equatable {
    public var deviceID: String
    public var kind: String
    public var time: UTCTime
    /// "gnss", "system" or "system-untrusted".
    public var timeSource: String
    /// "current", "last-known" or "none".
    public var position: String
    public var coordinate: Coordinate?
    public var fixAgeMilliseconds: Int64?
    public var inputID: String?
    /// A small JSON object with everything else.
    public var payload: String

    public init(deviceID: String, kind: String, time: UTCTime, timeSource: String, position: String,
                coordinate: Coordinate?, fixAgeMilliseconds: Int64?, inputID: String?, payload: String) {
        self.deviceID = deviceID
        self.kind = kind
        self.time = time
        self.timeSource = timeSource
        self.position = position
        self.coordinate = coordinate
        self.fixAgeMilliseconds = fixAgeMilliseconds
        self.inputID = inputID
        self.payload = payload
    }
}

/// An event as stored: its per-device sequence number and whether every output has delivered it.
public struct StoredEvent: Sendable, Equatable {
    public var seq: Int64
    public var record: EventRecord
    public var delivered: Bool
}

/// What `status` shows about the store.
public struct StoreStatistics: Sendable, Equatable {
    public var path: String
    public var trackPoints: Int64
    public var firstPointTime: UTCTime?
    public var lastPointTime: UTCTime?
    public var events: Int64
    public var undeliveredEvents: Int64
    /// Database file plus WAL, bytes.
    public var bytesOnDisk: Int64
    /// Persisted counters: retention deletions by reason, corruption recoveries, dead letters.
    public var counters: [String: Int64]
}
