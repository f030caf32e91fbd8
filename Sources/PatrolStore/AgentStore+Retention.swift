import PatrolSQLite
import PatrolCore

/// Limits on what the store keeps; nil means no limit of that kind.
public struct RetentionPolicy: Sendable, Equatable {
    /// Bytes of live database pages allowed (free pages and the WAL, at most about 0.5 MB between
    /// checkpoints, are not counted).
    public var maxDatabaseBytes: Int64?
    /// Age, against `now`, beyond which points and events are deleted.
    public var maxAge: Duration?

    public init(maxDatabaseBytes: Int64? = nil, maxAge: Duration? = nil) {
        self.maxDatabaseBytes = maxDatabaseBytes
        self.maxAge = maxAge
    }
}

/// Why retention deleted something.
public enum RetentionReason: String, Sendable, CaseIterable {
    case age
    case size
}

/// One persisted deletion counter: what was deleted, why, and whether every output had it.
public struct DeletionKind: Hashable, Sendable, CustomStringConvertible {
    public var stream: StoreStream
    public var reason: RetentionReason
    /// True when every registered output had delivered the rows (nothing was lost upstream).
    public var wasDelivered: Bool

    public init(stream: StoreStream, reason: RetentionReason, wasDelivered: Bool) {
        self.stream = stream
        self.reason = reason
        self.wasDelivered = wasDelivered
    }

    /// `track.size.delivered`, `event.age.undelivered`, …; also the counter's name after `deleted.`.
    public var description: String {
        "\(stream.rawValue).\(reason.rawValue).\(wasDelivered ? "delivered" : "undelivered")"
    }

    static let all: [DeletionKind] = StoreStream.allCases.flatMap { stream in
        RetentionReason.allCases.flatMap { reason in
            [true, false].map { DeletionKind(stream: stream, reason: reason, wasDelivered: $0) }
        }
    }

    var counterName: String { Counter.deletionPrefix + description }
}

/// What one `applyRetention` call did. Point deletions count points, event deletions events.
public struct RetentionReport: Sendable, Equatable {
    public var deleted: [DeletionKind: Int64] = [:]
    /// Database plus WAL file sizes before and after (after the file was shrunk).
    public var bytesBefore: Int64 = 0
    public var bytesAfter: Int64 = 0

    public var totalDeleted: Int64 { deleted.values.reduce(0, +) }
}

extension AgentStore {
    /// Rows examined per retention step; each step is one transaction.
    private static let retentionPageRows = 64

    /// Deletes what the policy no longer allows, counts every deletion by kind (persisted
    /// counters, see `StoreStatistics.deletions`) and gives freed pages back to the file system.
    ///
    /// Order, by age: points recorded before `now - maxAge`, then events recorded before it that
    /// every registered output has delivered, oldest first, stopping at the first row young
    /// enough (or, for events, not yet delivered). An alarm from a board that was offline longer
    /// than `maxAge` is the one that matters most: undelivered events go only when size forces
    /// them out. Then, while the live pages exceed
    /// `maxDatabaseBytes`, in this order, each oldest (lowest sequence) first:
    /// 1. track points every registered output has delivered,
    /// 2. events every registered output has delivered,
    /// 3. undelivered track points,
    /// 4. undelivered events.
    /// So alarms outlive positions and data not yet sent outlives data already sent. With no
    /// output registered nothing counts as delivered. Points are deleted in whole chunks (one
    /// batch); a chunk an output has only partly delivered counts as undelivered.
    ///
    /// Deletion always removes a prefix by sequence, so the stored numbers stay contiguous but for
    /// the gaps replaced stores left (`MetaKey.trackGapPrefix`).
    public func applyRetention(_ policy: RetentionPolicy, now: UTCTime) throws -> RetentionReport {
        try locked { state in
            let connection = state.connection
            var report = RetentionReport(bytesBefore: fileBytes())
            let delivered = (track: try Self.deliveredByAll(.track, in: connection),
                             event: try Self.deliveredByAll(.event, in: connection))

            if let maxAge = policy.maxAge {
                let cutoff = now.millisecondsSinceEpoch - Self.milliseconds(maxAge)
                for (stream, deliveredThrough) in [(StoreStream.track, delivered.track), (.event, delivered.event)] {
                    let undeliveredMayGo = stream == .track
                    while try Self.deleteOldest(stream, reason: .age, deliveredThrough: deliveredThrough,
                                                in: connection, report: &report, while: {
                                                    $0.newestTime < cutoff
                                                        && (undeliveredMayGo || $0.lastSequence <= deliveredThrough ?? .min)
                                                })
                        == Self.retentionPageRows {}
                }
            }
            if let maxBytes = policy.maxDatabaseBytes {
                let order: [(StoreStream, deliveredThrough: Int64?, deliveredOnly: Bool)] = [
                    (.track, delivered.track, true), (.event, delivered.event, true),
                    (.track, delivered.track, false), (.event, delivered.event, false),
                ]
                for (stream, deliveredThrough, deliveredOnly) in order {
                    while try Self.liveBytes(connection) > maxBytes,
                          try Self.deleteOldest(stream, reason: .size, deliveredThrough: deliveredThrough,
                                                in: connection, report: &report,
                                                while: { !deliveredOnly || $0.lastSequence <= deliveredThrough ?? .min }) > 0 {}
                }
            }
            if report.totalDeleted > 0 {
                try connection.commitDeferredWrites() // a checkpoint cannot run inside a transaction
                try connection.executeScript("PRAGMA incremental_vacuum; PRAGMA wal_checkpoint(TRUNCATE);")
            }
            report.bytesAfter = fileBytes()
            return report
        }
    }

    /// Bytes of the database file plus its WAL.
    func fileBytes() -> Int64 {
        FileSystem.size(of: path) + FileSystem.size(of: path + "-wal")
    }

    /// One row as retention sees it: a track chunk or an event.
    private struct RetentionCandidate {
        var lastSequence: Int64
        var count: Int64
        /// For a chunk its envelope: no point in it or before it is newer.
        var newestTime: Int64
    }

    /// Deletes, in one transaction, the oldest rows of `stream` (at most one page) for as long as
    /// `shouldDelete` holds, counting them in `report` and the persisted counters.
    /// Returns how many rows (chunks or events) it deleted.
    private static func deleteOldest(_ stream: StoreStream, reason: RetentionReason, deliveredThrough: Int64?,
                                     in connection: SQLiteConnection, report: inout RetentionReport,
                                     while shouldDelete: (RetentionCandidate) -> Bool) throws -> Int {
        let (selectOldest, deleteThrough) = switch stream {
        case .track: ("SELECT first_seq + point_count - 1, point_count, envelope FROM track_chunk ORDER BY first_seq LIMIT ?",
                      "DELETE FROM track_chunk WHERE first_seq <= ?")
        case .event: ("SELECT sequence, 1, time FROM event ORDER BY sequence LIMIT ?",
                      "DELETE FROM event WHERE sequence <= ?")
        }
        return try connection.transaction {
            var rows = 0, lastDeleted: Int64 = 0, stillWanted = true
            var counts = (delivered: Int64(0), undelivered: Int64(0))
            try connection.statement(selectOldest).forEachRow(retentionPageRows) { row in
                let candidate = RetentionCandidate(lastSequence: row.int64(0), count: row.int64(1), newestTime: row.int64(2))
                guard stillWanted, shouldDelete(candidate) else { stillWanted = false; return }
                rows += 1
                lastDeleted = candidate.lastSequence
                if candidate.lastSequence <= deliveredThrough ?? .min {
                    counts.delivered += candidate.count
                } else {
                    counts.undelivered += candidate.count
                }
            }
            guard rows > 0 else { return 0 }
            try connection.statement(deleteThrough).execute(lastDeleted)
            if stream == .track { try setMeta(MetaKey.trackDeletedThrough, lastDeleted, in: connection) }
            for (wasDelivered, count) in [(true, counts.delivered), (false, counts.undelivered)] where count > 0 {
                let kind = DeletionKind(stream: stream, reason: reason, wasDelivered: wasDelivered)
                report.deleted[kind, default: 0] += count
                try addToCounter(kind.counterName, count, in: connection)
            }
            return rows
        }
    }

    /// Bytes in pages that hold data (the file minus its free pages).
    static func liveBytes(_ connection: SQLiteConnection) throws -> Int64 {
        try connection.integer("SELECT (page_count - freelist_count) * page_size FROM pragma_page_count, pragma_freelist_count, pragma_page_size")
    }

    private static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
