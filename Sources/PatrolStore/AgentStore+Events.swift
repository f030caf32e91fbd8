import PatrolCore
import PatrolSQLite

extension AgentStore {
    /// Commits one event with a full fsync before returning, and returns its sequence number.
    ///
    /// Sequence numbers never repeat, across restarts and across replacement of a corrupt
    /// database (see `StoreSidecar`); a crash may leave gaps.
    @discardableResult
    public func appendEvent(_ event: EventRecord) throws -> Int64 {
        try withState { state in
            if state.eventSequence.isEmpty {
                let afterStored = (try state.database.integer("SELECT max(seq) FROM events") ?? 0) + 1
                state.eventSequence = try state.sidecar.reserveBlock(startingAt: max(afterStored, state.eventSequence.lowerBound))
            }
            let seq = state.eventSequence.lowerBound
            try state.database.run("""
                INSERT INTO events (seq, device_id, kind, time_ms, time_source, position, lat_e7, lon_e7, fix_age_ms, input_id, payload)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, [seq, event.deviceID, event.kind, event.time.millisecondsSinceEpoch, event.timeSource, event.position,
                      event.coordinate.map { Int64(($0.latitude * 1e7).rounded()) },
                      event.coordinate.map { Int64(($0.longitude * 1e7).rounded()) },
                      event.fixAgeMilliseconds, event.inputID, event.payload])
            state.eventSequence = (seq + 1)..<state.eventSequence.upperBound
            return seq
        }
    }

    /// Events with sequence numbers after `afterSeq` (and at or after `since`, when given), oldest first.
    public func events(afterSeq: Int64 = 0, since: UTCTime? = nil, limit: Int = Int.max) throws -> [StoredEvent] {
        try withDatabase { db in
            let delivered = try Self.deliveredSeq(db, stream: .event)
            var events: [StoredEvent] = []
            try db.query("""
                SELECT seq, device_id, kind, time_ms, time_source, position, lat_e7, lon_e7, fix_age_ms, input_id, payload
                FROM events WHERE seq > ? AND time_ms >= ? ORDER BY seq LIMIT ?
                """, [afterSeq, since?.millisecondsSinceEpoch ?? Int64.min, Int64(min(limit, Int(Int64.max)))]) { row in
                let coordinate = row.isNull(6) ? nil
                    : Coordinate(latitude: Double(row.int64(6)) / 1e7, longitude: Double(row.int64(7)) / 1e7)
                let record = EventRecord(
                    deviceID: row.text(1), kind: row.text(2), time: UTCTime(millisecondsSinceEpoch: row.int64(3)),
                    timeSource: row.text(4), position: row.text(5), coordinate: coordinate,
                    fixAgeMilliseconds: row.optionalInt64(8), inputID: row.optionalText(9), payload: row.text(10))
                let seq = row.int64(0)
                events.append(StoredEvent(seq: seq, record: record, delivered: delivered.map { seq <= $0 } ?? false))
            }
            return events
        }
    }
}
