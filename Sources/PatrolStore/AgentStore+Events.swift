import PatrolCore

/// One event as the store keeps it: an alarm, check-in, fault, … Kinds are strings here so the
/// store does not depend on the domain's event types.
public struct EventRecord: Sendable, Equatable {
    public var deviceID: String
    public var kind: String
    public var time: UTCTime
    /// Where `time` came from, e.g. `gnss` (see `TimeSource`) or a source the domain defines.
    public var timeSource: String
    /// Last known position, stored to 1e-7°.
    public var coordinate: Coordinate?
    /// Age of that position's fix when the event happened, milliseconds.
    public var fixAgeMilliseconds: Int64?
    public var buttonID: String?
    /// A small JSON object with kind-specific details.
    public var payloadJSON: String

    public init(deviceID: String, kind: String, time: UTCTime, timeSource: String, coordinate: Coordinate? = nil,
                fixAgeMilliseconds: Int64? = nil, buttonID: String? = nil, payloadJSON: String = "{}") {
        self.deviceID = deviceID
        self.kind = kind
        self.time = time
        self.timeSource = timeSource
        self.coordinate = coordinate
        self.fixAgeMilliseconds = fixAgeMilliseconds
        self.buttonID = buttonID
        self.payloadJSON = payloadJSON
    }
}

/// A stored event and its sequence number.
public struct StoredEvent: Sendable, Equatable {
    public var sequence: Int64
    public var record: EventRecord

    public init(sequence: Int64, record: EventRecord) {
        self.sequence = sequence
        self.record = record
    }
}

extension AgentStore {
    /// Stores one event in its own transaction, fsynced before this returns (an alarm must not be
    /// lost to a power cut), and returns its sequence number.
    ///
    /// Sequence numbers are per device (one agent, one store) and never repeat, across restarts
    /// and across a corrupt database being replaced (`SequenceReservations`); they may skip.
    public func appendEvent(_ event: EventRecord) throws -> Int64 {
        defer { committed(.event) }
        return try locked { state in
            let sequence = try state.sequences.takeEvent()
            let connection = state.connection
            try connection.transaction {
                try connection.statement("""
                    INSERT INTO event(sequence, device_id, kind, time, time_source, latitude_e7, longitude_e7,
                                      fix_age_ms, button_id, payload)
                    VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """).execute(
                        sequence, event.deviceID, event.kind, event.time.millisecondsSinceEpoch, event.timeSource,
                        event.coordinate.map { e7($0.latitude) }, event.coordinate.map { e7($0.longitude) },
                        event.fixAgeMilliseconds, event.buttonID, event.payloadJSON)
            }
            return sequence
        }
    }

    /// Events with a sequence greater than `sequence`, oldest first, at most `limit` of them
    /// (an output catching up reads in pages).
    public func events(since sequence: Int64, limit: Int = 1000) throws -> [StoredEvent] {
        try locked { state in
            var events: [StoredEvent] = []
            try state.connection.statement("""
                SELECT sequence, device_id, kind, time, time_source, latitude_e7, longitude_e7, fix_age_ms,
                       button_id, payload
                FROM event WHERE sequence > ? ORDER BY sequence LIMIT ?
                """).forEachRow(sequence, limit) { row in
                    var coordinate: Coordinate?
                    if let latitude = row.optionalInt64(5), let longitude = row.optionalInt64(6) {
                        coordinate = Coordinate(latitude: Double(latitude) / 1e7, longitude: Double(longitude) / 1e7)
                    }
                    let record = EventRecord(
                        deviceID: row.text(1), kind: row.text(2), time: UTCTime(millisecondsSinceEpoch: row.int64(3)),
                        timeSource: row.text(4), coordinate: coordinate, fixAgeMilliseconds: row.optionalInt64(7),
                        buttonID: row.optionalText(8), payloadJSON: row.text(9))
                    events.append(StoredEvent(sequence: row.int64(0), record: record))
                }
            return events
        }
    }

    private func e7(_ degrees: Double) -> Int64 {
        Int64((degrees * 1e7).rounded())
    }
}
