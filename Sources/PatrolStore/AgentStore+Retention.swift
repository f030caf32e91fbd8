#if canImport(Glibc)
import Glibc
#endif
import PatrolCore
import PatrolSQLite

/// How much the store may keep.
public struct RetentionPolicy: Sendable, Equatable {
    /// Database plus WAL, bytes.
    public var maximumBytes: Int64
    /// Delivered data and track points older than this are deleted.
    public var maximumAgeDays: Int

    public init(maximumBytes: Int64, maximumAgeDays: Int) {
        self.maximumBytes = maximumBytes
        self.maximumAgeDays = maximumAgeDays
    }
}

/// What one retention pass deleted, by reason (the same names as the persisted counters).
public struct RetentionReport: Sendable, Equatable {
    public var deleted: [String: Int64] = [:]
    public var total: Int64 { deleted.values.reduce(0, +) }
}

extension AgentStore {
    /// The order in which data goes when the store is too large; the first class goes first, oldest first.
    ///
    /// Delivered data is already at the centre, so it goes before anything undelivered; a track
    /// point is worth less than an alarm or check-in, so tracks go before events; undelivered
    /// events go only when nothing else is left.
    static let deletionOrder: [(counter: String, table: String, stream: StoreStream, delivered: Bool)] = [
        ("retention.track.delivered", "track", .track, true),
        ("retention.events.delivered", "events", .event, true),
        ("retention.track.undelivered", "track", .track, false),
        ("retention.events.undelivered", "events", .event, false),
    ]

    /// Deletes by age and then by size; every deletion is counted (persisted) by reason.
    ///
    /// - Parameter now: GNSS time of the latest fix (the system clock may be years off).
    public func applyRetention(_ policy: RetentionPolicy, now: UTCTime) throws -> RetentionReport {
        try withDatabase { db in
            var report = RetentionReport()
            let cutoff = now.millisecondsSinceEpoch - Int64(policy.maximumAgeDays) * 86_400_000
            try db.transaction {
                // Age: delivered data of both streams, and any track (an old undelivered track is stale).
                // Undelivered events stay until size forces them out.
                for rule in Self.deletionOrder where rule.delivered || rule.stream == .track {
                    let deleted = try delete(db, rule, extraCondition: "time_ms < ?", [cutoff], limit: Int64.max)
                    try record(db, rule.counter + ".age", deleted, into: &report)
                }
            }
            for rule in Self.deletionOrder {
                while try usedBytes(db) > policy.maximumBytes {
                    let rows = try db.integer("SELECT count(*) FROM \(rule.table)") ?? 0
                    let batch = max(100, rows / 20)
                    let deleted = try db.transaction {
                        try delete(db, rule, extraCondition: nil, [], limit: batch)
                    }
                    guard deleted > 0 else { break }
                    try db.transaction { try record(db, rule.counter + ".size", deleted, into: &report) }
                }
            }
            if report.total > 0 {
                try db.execute("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA incremental_vacuum")
            }
            return report
        }
    }

    private func delete(_ db: SQLiteDatabase, _ rule: (counter: String, table: String, stream: StoreStream, delivered: Bool),
                        extraCondition: String?, _ arguments: [any SQLiteValue], limit: Int64) throws -> Int64 {
        let delivered = try Self.deliveredSeq(db, stream: rule.stream) ?? 0
        var conditions = [rule.delivered ? "seq <= ?" : "seq > ?"]
        if let extraCondition { conditions.append(extraCondition) }
        try db.run("""
            DELETE FROM \(rule.table) WHERE seq IN
            (SELECT seq FROM \(rule.table) WHERE \(conditions.joined(separator: " AND ")) ORDER BY seq LIMIT ?)
            """, [delivered] + arguments + [limit])
        return Int64(db.changes)
    }

    private func record(_ db: SQLiteDatabase, _ counter: String, _ deleted: Int64, into report: inout RetentionReport) throws {
        guard deleted > 0 else { return }
        try Self.addToCounter(db, counter, deleted)
        report.deleted[counter, default: 0] += deleted
        logger.notice("retention deleted \(deleted) rows (\(counter))")
    }

    /// Bytes the data occupies: pages in use (free pages are reclaimed by incremental vacuum).
    private func usedBytes(_ db: SQLiteDatabase) throws -> Int64 {
        let pages = try db.integer("PRAGMA page_count") ?? 0
        let free = try db.integer("PRAGMA freelist_count") ?? 0
        let pageSize = try db.integer("PRAGMA page_size") ?? 1024
        return (pages - free) * pageSize
    }

    /// Counts, time span and size for `status`.
    public func statistics() throws -> StoreStatistics {
        try withState { state in
            let db = state.database
            var counters: [String: Int64] = [:]
            try db.query("SELECT name, value FROM counters") { counters[$0.text(0)] = $0.int64(1) }
            counters["corruption-recoveries"] = state.sidecar.corruptionRecoveries
            let first = try db.integer("SELECT time_ms FROM track ORDER BY seq LIMIT 1")
            let last = try db.integer("SELECT time_ms FROM track ORDER BY seq DESC LIMIT 1")
            let deliveredEvents = try Self.deliveredSeq(db, stream: .event) ?? 0
            return StoreStatistics(
                path: path,
                trackPoints: try db.integer("SELECT count(*) FROM track") ?? 0,
                firstPointTime: first.map(UTCTime.init(millisecondsSinceEpoch:)),
                lastPointTime: last.map(UTCTime.init(millisecondsSinceEpoch:)),
                events: try db.integer("SELECT count(*) FROM events") ?? 0,
                undeliveredEvents: try db.integer("SELECT count(*) FROM events WHERE seq > ?", [deliveredEvents]) ?? 0,
                bytesOnDisk: Self.fileSize(path) + Self.fileSize(path + "-wal"),
                counters: counters)
        }
    }

    static func fileSize(_ path: String) -> Int64 {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : 0
    }
}
