import PatrolSQLite

/// What could be read back from a store that was moved aside, and copied into the new one.
public struct StoreSalvage: Sendable, Equatable {
    public var events: Int64 = 0
    public var trackPoints: Int64 = 0
    /// Reads of the damaged file that failed and were skipped (a row, or a range of rows once the
    /// budget of reads ran out).
    public var unreadable: Int64 = 0

    /// E.g. "3 events and 120 track points salvaged (2 unreadable reads skipped)".
    public var summary: String {
        "\(events) event\(events == 1 ? "" : "s") and \(trackPoints) track point\(trackPoints == 1 ? "" : "s") salvaged"
            + (unreadable > 0 ? " (\(unreadable) unreadable read\(unreadable == 1 ? "" : "s") skipped)" : "")
    }
}

/// Copies what is readable from a damaged store file into a new store, so its undelivered alarms
/// are forwarded after all instead of staying in the moved-aside file for ever.
///
/// Debian 12's libsqlite3 (3.40) does not ship the recovery extension (`sqlite3_recover_*`), so
/// the rows are read by key range through `ATTACH`: `INSERT … SELECT` of a range of event
/// sequences or track chunk keys; a range whose read fails (a damaged page on its path) is halved
/// until the single rows that cannot be read are skipped. Rows keep their keys, so events keep
/// their device sequence numbers and the centre stores each once, whether or not it already had it.
enum StoreSalvager {
    /// Keys per first attempt: a few pages of events or track chunks.
    static let rangeSize: Int64 = 1024
    /// Failed reads per table before the rest of it is given up: a damaged interior page makes every
    /// key below it fail, and halving each range down to single keys must not take hours.
    static let failedReadBudget: Int64 = 20_000
    /// Without a known last key, ranges that read fine and hold nothing end the scan after this many.
    static let emptyRangesAfterLastKey = 64

    /// Copies the readable rows of the damaged store at `damagedPath` into `connection`'s (new,
    /// empty) store. `eventsReservedThrough` (the sequence file's reservation) bounds the event
    /// sequences to look for when the damaged file cannot tell its largest.
    static func salvage(from damagedPath: String, into connection: SQLiteConnection,
                        eventsReservedThrough: Int64?) throws -> StoreSalvage {
        try connection.statement("ATTACH DATABASE ? AS damaged").execute(damagedPath)
        defer { try? connection.executeScript("DETACH DATABASE damaged") }
        // One statement at a time, without a transaction around them: a statement that fails on a
        // damaged page is undone alone, the rows copied before it stay.
        var salvage = StoreSalvage()
        // The columns every schema version has (the damaged file may be older); the typed columns
        // are filled from the payload as schema 2's migration does (unqualified `event` is `main`).
        salvage.unreadable += copyRange(of: "event", key: "sequence", columns: """
            sequence, device_id, kind, time, time_source, latitude_e7, longitude_e7, fix_age_ms, button_id, payload
            """, lastKeyHint: eventsReservedThrough, in: connection)
        try connection.executeScript(Schema.typedEventColumnsFromPayload)
        salvage.unreadable += copyRange(of: "track_chunk", key: "first_seq", columns: "first_seq, point_count, envelope, points",
                                        lastKeyHint: nil, in: connection)
        // Small tables: what delivery progress and numbering were, and the counters' history.
        // Whatever of them cannot be read is rebuilt (events resent, which the centre ignores).
        // Rows the new store already has (where its track numbering resumes) are kept.
        for table in ["delivery_progress", "meta", "counter"] {
            do { try connection.executeScript("INSERT OR IGNORE INTO main.\(table) SELECT * FROM damaged.\(table)") } catch {
                salvage.unreadable += 1
            }
        }
        salvage.events = try connection.integer("SELECT COUNT(*) FROM main.event")
        salvage.trackPoints = try connection.integer("SELECT COALESCE(SUM(point_count), 0) FROM main.track_chunk")
        return salvage
    }

    /// Copies the rows of `table` that can be read, range by range of `key`; returns the failed reads.
    private static func copyRange(of table: String, key: String, columns: String, lastKeyHint: Int64?,
                                  in connection: SQLiteConnection) -> Int64 {
        // A table whose definition or root cannot be read has nothing to give.
        guard (try? connection.executeScript("SELECT \(columns) FROM damaged.\(table) LIMIT 0")) != nil else { return 1 }
        let copySQL = "INSERT INTO main.\(table)(\(columns)) SELECT \(columns) FROM damaged.\(table) WHERE \(key) BETWEEN ? AND ?"
        var failed: Int64 = 0
        var copied: Int64 = 0

        /// Copies keys `low...high`, halving on failure; false when the budget ran out.
        func copy(_ low: Int64, _ high: Int64) -> Bool {
            do {
                try connection.statement(copySQL).execute(low, high)
                copied += connection.changes
                return true
            } catch {
                failed += 1
                guard failed < failedReadBudget else { return false }
                guard low < high else { return true }
                let middle = low + (high - low) / 2
                return copy(low, middle) && copy(middle + 1, high)
            }
        }

        let first = (try? connection.statement("SELECT MIN(\(key)) FROM damaged.\(table)").firstRow { $0.int64(0) }) ?? nil
        let last = (try? connection.statement("SELECT MAX(\(key)) FROM damaged.\(table)").firstRow { $0.int64(0) }) ?? nil
        let end = [last, lastKeyHint].compactMap { $0 }.max()
        var low = max(first ?? 1, 1)
        var emptyRanges = 0
        while end.map({ low <= $0 }) ?? (emptyRanges < emptyRangesAfterLastKey) {
            let high = low.addingReportingOverflow(rangeSize - 1)
            let rangeEnd = high.overflow ? Int64.max : high.partialValue
            let before = copied
            guard copy(low, rangeEnd) else { break }
            emptyRanges = copied > before ? 0 : emptyRanges + 1
            guard !high.overflow else { break }
            low = rangeEnd + 1
        }
        return failed
    }
}
