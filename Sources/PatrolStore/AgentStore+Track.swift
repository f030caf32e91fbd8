import PatrolSQLite
import PatrolCore

extension AgentStore {
    /// Chunks read per lock hold while streaming, bounding both memory and how long a reader
    /// (an export) can delay the batcher's next append.
    private static let chunksPerPage = 64

    /// Stores `points` in one transaction, durable (fsynced) when this returns.
    ///
    /// The points become one chunk (see `Schema`) and get consecutive sequence numbers, reserved
    /// in the sequence file first when they reach beyond its block (`SequenceReservations`).
    /// Call it once per batch, not per point: each call is a commit, and commits are what cost
    /// storage writes (`TrackPointBatcher` does the batching).
    public func append(_ points: [TrackPoint]) throws {
        guard !points.isEmpty else { return }
        // Quantised once, here; the numbers come from the chunk's first sequence when read.
        let encoded = TrackChunkCodec.encode(points.map { TrackRecord(sequence: 0, point: $0) })
        try locked { state in
            let first = state.nextTrackSequence
            let last = first + Int64(points.count) - 1
            var envelope = state.trackEnvelope
            try state.sequences.reserveTrack(through: last)
            var timeWentBack = false
            for point in points {
                let time = point.time.millisecondsSinceEpoch
                if time < envelope { timeWentBack = true }
                envelope = max(envelope, time)
            }
            let connection = state.connection
            try connection.transaction {
                try connection.statement(
                    "INSERT INTO track_chunk(first_seq, point_count, envelope, points) VALUES(?, ?, ?, ?)"
                ).execute(first, points.count, envelope, encoded)
                if timeWentBack { try Self.setMeta(MetaKey.trackLastRegression, last, in: connection) }
            }
            state.nextTrackSequence = last + 1
            state.trackEnvelope = envelope
            if timeWentBack { state.lastTrackRegression = last }
        }
        committed(.track)
    }

    /// Calls `body` with every stored point whose time is in `from..<to` (either bound optional;
    /// half-open, so consecutive ranges never export a point twice),
    /// in recording order (sequence), which is time order except where the receiver's time went
    /// backwards.
    ///
    /// Streams in constant memory: chunks are read a page at a time and the store's lock is
    /// released while `body` runs, so `body` may call the store and appends are not held up.
    /// Without an index on time (it would double the bytes written per commit), the start is
    /// found by binary search over the monotonic `envelope`, and the scan stops at the first
    /// chunk entirely after `to` once no later chunk went back in time.
    public func forEachTrackPoint(from: UTCTime? = nil, to: UTCTime? = nil,
                                  _ body: (StoredTrackPoint) throws -> Void) throws {
        let lower = from?.millisecondsSinceEpoch ?? .min
        let upper = to?.millisecondsSinceEpoch ?? .max
        var cursor = try locked { state in
            try Self.firstChunk(reaching: lower, below: state.nextTrackSequence, in: state.connection)
        }
        while let start = cursor {
            let page = try locked { state in
                try Self.readPage(startingAt: start, lower: lower, upper: upper,
                                  lastRegression: state.lastTrackRegression, in: state.connection)
            }
            for point in page.points { try body(point) }
            cursor = page.next
        }
    }

    /// The first sequence of the earliest chunk whose envelope reaches `time`: every earlier
    /// chunk holds only points before `time`.
    private static func firstChunk(reaching time: Int64, below end: Int64,
                                   in connection: SQLiteConnection) throws -> Int64? {
        let atOrAfter = try connection.statement(
            "SELECT first_seq, envelope FROM track_chunk WHERE first_seq >= ? ORDER BY first_seq LIMIT 1")
        var low: Int64 = 0, high = end
        var found: Int64?
        while low < high {
            let middle = low + (high - low) / 2
            guard let chunk = try atOrAfter.firstRow(middle, read: { (sequence: $0.int64(0), envelope: $0.int64(1)) })
            else { high = middle; continue }
            if chunk.envelope >= time {
                found = chunk.sequence
                high = middle
            } else {
                low = chunk.sequence + 1
            }
        }
        return found
    }

    /// Up to `chunksPerPage` chunks from `start`, filtered to `lower..<upper`, and where to go on
    /// (nil when done).
    private static func readPage(startingAt start: Int64, lower: Int64, upper: Int64, lastRegression: Int64,
                                 in connection: SQLiteConnection) throws -> (points: [StoredTrackPoint], next: Int64?) {
        var points: [StoredTrackPoint] = []
        var next: Int64?
        var chunksRead = 0
        var finished = false
        try connection.statement(
            "SELECT first_seq, point_count, points FROM track_chunk WHERE first_seq >= ? ORDER BY first_seq LIMIT ?"
        ).forEachRow(start, chunksPerPage) { row in
            guard !finished else { return }
            let firstSequence = row.int64(0)
            let chunk = try decodeChunk(row, path: connection.path)
            chunksRead += 1
            next = firstSequence + Int64(chunk.count)
            let earliest = chunk.map(\.timeMilliseconds).min() ?? .max
            if earliest >= upper, firstSequence > lastRegression {
                finished = true // time only moves forward from here on
                return
            }
            points += chunk.filter { (lower..<upper).contains($0.timeMilliseconds) }.map(StoredTrackPoint.init)
        }
        return (points, finished || chunksRead < chunksPerPage ? nil : next)
    }

    /// Decodes a row whose columns 0, 1, 2 are `first_seq`, `point_count`, `points`.
    static func decodeChunk(_ row: SQLiteRow, path: String) throws -> [TrackRecord] {
        do {
            return try TrackChunkCodec.decode(row.blob(2), count: Int(row.int64(1)), firstSequence: row.int64(0))
        } catch let error as StoreError {
            throw StoreError(code: error.code, message: "In database \(path): " + error.message)
        }
    }
}
