import PatrolCore

/// What the store holds and what it had to throw away, for the status page and logs.
public struct StoreStatistics: Sendable, Equatable {
    public var path: String
    public var pointsStored: Int64
    /// Times of the first and last stored point in recording order; nil when there are none.
    public var firstPointTime: UTCTime?
    public var lastPointTime: UTCTime?
    public var eventsStored: Int64
    /// Database file plus WAL, bytes.
    public var databaseBytes: Int64
    /// Bytes of pages holding data: what `RetentionPolicy.maxDatabaseBytes` limits.
    public var liveDataBytes: Int64
    /// Rows retention deleted since the database was created, by kind (persisted counters).
    public var deletions: [DeletionKind: Int64]
    /// How many times a corrupt database was moved aside and replaced. Counted in the new file,
    /// so it shows recoveries since the last one that lost the old counters: 0 or 1 mostly.
    public var corruptionRecoveries: Int64
    /// How many times the store was found empty or missing although it had held events.
    public var emptyStoreRecoveries: Int64
    /// Rows copied from damaged stores into this one (`StoreSalvager`), in all recoveries counted here.
    public var salvagedEvents: Int64
    public var salvagedTrackPoints: Int64
    /// What the last recovery found and did, with when and both files; nil when there was none.
    public var lastRecovery: String?
}

extension AgentStore {
    /// Current figures. Cheap: no table scan over the track (counts follow from sequences,
    /// since retention only ever deletes a prefix and only a replaced store leaves a gap).
    public func statistics() throws -> StoreStatistics {
        try locked { state in
            let connection = state.connection
            let chunkQuery = "SELECT first_seq, point_count, points FROM track_chunk ORDER BY first_seq "
            let first = try connection.statement(chunkQuery + "LIMIT 1").firstRow { try Self.decodeChunk($0, path: path) }
            let last = try connection.statement(chunkQuery + "DESC LIMIT 1").firstRow { try Self.decodeChunk($0, path: path) }
            var pointsStored: Int64 = 0
            if let firstPoint = first?.first, let lastPoint = last?.last {
                pointsStored = try Self.trackPointCount(after: Int64(firstPoint.sequence) - 1, through: Int64(lastPoint.sequence),
                                                        in: connection)
            }
            var counters: [String: Int64] = [:]
            try connection.statement("SELECT name, value FROM counter").forEachRow { counters[$0.text(0)] = $0.int64(1) }
            var deletions: [DeletionKind: Int64] = [:]
            for kind in DeletionKind.all {
                if let count = counters[kind.counterName] { deletions[kind] = count }
            }
            return StoreStatistics(
                path: path, pointsStored: pointsStored,
                firstPointTime: first?.first.map { UTCTime(millisecondsSinceEpoch: $0.timeMilliseconds) },
                lastPointTime: last?.last.map { UTCTime(millisecondsSinceEpoch: $0.timeMilliseconds) },
                eventsStored: try connection.integer("SELECT COUNT(*) FROM event"),
                databaseBytes: fileBytes(), liveDataBytes: try Self.liveBytes(connection), deletions: deletions,
                corruptionRecoveries: counters[Counter.corruptionRecoveries] ?? 0,
                emptyStoreRecoveries: counters[Counter.emptyStoreRecoveries] ?? 0,
                salvagedEvents: counters[Counter.salvagedEvents] ?? 0,
                salvagedTrackPoints: counters[Counter.salvagedTrackPoints] ?? 0,
                lastRecovery: try connection.statement("SELECT value FROM meta WHERE key = ?")
                    .firstRow(MetaKey.lastRecovery) { $0.optionalText(0) } ?? nil)
        }
    }
}
