import PatrolCore
import PatrolSQLite

extension AgentStore {
    /// Commits `points` in one transaction: all of them or none.
    public func append(_ points: [TrackPoint]) throws {
        guard !points.isEmpty else { return }
        try withDatabase { db in
            try db.transaction {
                let insert = try db.statement("""
                    INSERT INTO track (time_ms, lat_e7, lon_e7, mode, alt_dm, speed_cms, track_cdeg, hdop_d, sats, time_source)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
                for point in points {
                    try insert.bind(TrackRow.columns(of: point))
                    while try insert.step() {}
                    insert.reset()
                }
            }
        }
    }

    /// Calls `body` with each stored point whose time is in `[from, to)`, in recording order,
    /// reading row by row so an export of months runs in constant memory.
    public func forEachTrackPoint(from: UTCTime? = nil, to: UTCTime? = nil, afterSeq: Int64 = 0,
                                  _ body: (StoredTrackPoint) throws -> Void) throws {
        try withDatabase { db in
            try db.query("""
                SELECT seq, time_ms, lat_e7, lon_e7, mode, alt_dm, speed_cms, track_cdeg, hdop_d, sats, time_source
                FROM track WHERE seq > ? AND time_ms >= ? AND time_ms < ? ORDER BY seq
                """, [afterSeq, from?.millisecondsSinceEpoch ?? Int64.min, to?.millisecondsSinceEpoch ?? Int64.max]) { row in
                try body(StoredTrackPoint(seq: row.int64(0), point: TrackRow.point(from: row)))
            }
        }
    }
}

/// The compact integer encoding of a track row (see `Schema`).
enum TrackRow {
    static func columns(of point: TrackPoint) -> [any SQLiteValue] {
        func scaled(_ value: Double?, _ factor: Double) -> Int64? {
            guard let value, value.isFinite else { return nil }
            return Int64((value * factor).rounded())
        }
        return [
            point.time.millisecondsSinceEpoch,
            Int64((point.coordinate.latitude * 1e7).rounded()),
            Int64((point.coordinate.longitude * 1e7).rounded()),
            Int64(point.mode.rawValue),
            scaled(point.altitudeMSL, 10), scaled(point.speed, 100), scaled(point.track, 100), scaled(point.hdop, 10),
            point.satellitesUsed.map { Int64($0) },
            point.timeSource.rawValue,
        ]
    }

    /// Decodes columns 1…10 of a row laid out as in `forEachTrackPoint`.
    static func point(from row: SQLiteRow) -> TrackPoint {
        func unscaled(_ column: Int32, _ factor: Double) -> Double? {
            row.optionalInt64(column).map { Double($0) / factor }
        }
        return TrackPoint(
            time: UTCTime(millisecondsSinceEpoch: row.int64(1)),
            timeSource: TimeSource(rawValue: row.text(10)) ?? .gnss,
            coordinate: Coordinate(latitude: Double(row.int64(2)) / 1e7, longitude: Double(row.int64(3)) / 1e7),
            mode: FixMode(rawValue: Int(row.int64(4))) ?? .twoD,
            altitudeMSL: unscaled(5, 10), speed: unscaled(6, 100), track: unscaled(7, 100), hdop: unscaled(8, 10),
            satellitesUsed: row.optionalInt64(9).map { Int($0) })
    }
}
