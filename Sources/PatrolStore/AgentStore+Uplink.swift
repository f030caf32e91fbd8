import PatrolCore
import PatrolSQLite

extension AgentStore {
    /// Points with a sequence greater than `sequence`, in sequence order, at most `limit` of them:
    /// what an output sends next. Reads whole chunks, so a page costs one short query.
    public func trackRecords(after sequence: Int64, limit: Int) throws -> [TrackRecord] {
        try locked { state in
            var points: [TrackRecord] = []
            let connection = state.connection
            // The chunk holding `sequence + 1` starts at or before it; later chunks follow in key order.
            let start = try connection.statement(
                "SELECT first_seq FROM track_chunk WHERE first_seq <= ? ORDER BY first_seq DESC LIMIT 1"
            ).firstRow(sequence + 1) { $0.int64(0) } ?? sequence + 1
            let rows = try connection.statement(
                "SELECT first_seq, point_count, points FROM track_chunk WHERE first_seq >= ? ORDER BY first_seq LIMIT ?")
            var done = false
            // Every chunk holds at least one point, so `limit + 1` chunks always suffice.
            try rows.forEachRow(start, limit + 1) { row in
                guard !done else { return }
                for record in try Self.decodeChunk(row, path: connection.path) where Int64(record.sequence) > sequence {
                    points.append(record)
                    if points.count == limit { done = true; break }
                }
            }
            return points
        }
    }

    /// The highest track sequence numbered so far; 0 when none was. Its point may be gone (deleted by
    /// retention), or there may be none yet (a store that replaced a lost one starts after the
    /// lost one's reservation).
    public func lastTrackSequence() throws -> Int64 {
        try locked { $0.nextTrackSequence - 1 }
    }

    /// Records in one transaction what an output's receiver answered: the records refused for good
    /// go to `dead_letter`, and the output's progress moves to `track` and `event` (each only forward).
    /// One transaction, so a crash can neither lose the dead letters nor count them twice.
    ///
    /// Progress alone is not committed on its own: it becomes durable with the store's next commit
    /// (the next track window, event or retention run, or closing the store). A power cut before
    /// that only makes the output send those records again, and the receiver keeps a duplicate
    /// once; in return a live uplink costs the SD card no fsync and page write per answer (measured
    /// in README with `Benchmarks/agent-footprint.sh --uplink`). Dead letters are committed at once.
    public func recordDelivery(output: String, track: Int64?, event: Int64?, deadLetters: [DeadLetter],
                               at time: UTCTime) throws {
        try locked { state in
            let connection = state.connection
            let write = deadLetters.isEmpty ? connection.deferredTransaction : connection.transaction
            try write {
                let insert = try connection.statement(
                    "INSERT INTO dead_letter(output, stream, sequence, recorded_at, reason) VALUES(?, ?, ?, ?, ?)")
                for letter in deadLetters {
                    try insert.execute(output, letter.stream.rawValue, letter.sequence, time.millisecondsSinceEpoch, letter.reason)
                }
                for (stream, sequence) in [(StoreStream.track, track), (.event, event)] {
                    guard let sequence else { continue }
                    try connection.statement(
                        "UPDATE delivery_progress SET last_delivered = max(last_delivered, ?) WHERE output = ? AND stream = ?"
                    ).execute(sequence, output, stream.rawValue)
                }
            }
        }
    }

    /// Commits the progress `recordDelivery` left to ride on the next commit (at shutdown).
    public func commitDeliveryProgress() throws {
        try locked { try $0.connection.commitDeferredWrites() }
    }

    /// Progress, what is left to send, and the dead letters of `output`.
    public func backlog(output: String) throws -> OutputBacklog {
        try locked { state in
            let connection = state.connection
            func delivered(_ stream: StoreStream) throws -> Int64? {
                try connection.statement("SELECT last_delivered FROM delivery_progress WHERE output = ? AND stream = ?")
                    .firstRow(output, stream.rawValue) { $0.int64(0) }
            }
            let track = try delivered(.track)
            let event = try delivered(.event) ?? 0
            let stored = try connection.statement("SELECT MIN(first_seq), MAX(first_seq + point_count - 1) FROM track_chunk")
                .firstRow { row in row.optionalInt64(0).map { (first: $0, last: row.int64(1)) } } ?? nil
            // An output that does not forward track has none pending.
            let trackPending = try track.flatMap { track in
                try stored.map { try Self.trackPointCount(after: max(track, $0.first - 1), through: $0.last, in: connection) }
            } ?? 0
            let eventPending = try connection.statement("SELECT count(*) FROM event WHERE sequence > ?").firstRow(event) { $0.int64(0) } ?? 0
            let dead = try connection.statement("SELECT count(*) FROM dead_letter WHERE output = ?").firstRow(output) { $0.int64(0) } ?? 0
            return OutputBacklog(trackDelivered: track, eventDelivered: event, trackPending: trackPending,
                                 eventPending: eventPending, deadLetters: dead)
        }
    }
}
