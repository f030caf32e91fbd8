import PatrolCore
import PatrolSQLite

extension AgentStore {
    /// Makes `output` known, so that data counts as delivered only once it has it too.
    public func registerOutput(_ output: String) throws {
        try withDatabase { db in
            for stream in StoreStream.allCases {
                try db.run("INSERT OR IGNORE INTO output_progress (output, stream, delivered_seq) VALUES (?, ?, 0)",
                           [output, stream.rawValue])
            }
        }
    }

    /// The highest sequence number of `stream` that `output` has delivered (0 for none).
    public func progress(output: String, stream: StoreStream) throws -> Int64 {
        try withDatabase { db in
            try db.integer("SELECT delivered_seq FROM output_progress WHERE output = ? AND stream = ?",
                           [output, stream.rawValue]) ?? 0
        }
    }

    /// Records that `output` has delivered everything of `stream` up to `seq`. Progress never goes back.
    public func setProgress(output: String, stream: StoreStream, deliveredThrough seq: Int64) throws {
        try withDatabase { db in
            try db.run("""
                INSERT INTO output_progress (output, stream, delivered_seq) VALUES (?, ?, ?)
                ON CONFLICT (output, stream) DO UPDATE SET delivered_seq = max(delivered_seq, excluded.delivered_seq)
                """, [output, stream.rawValue, seq])
        }
    }

    /// Keeps a record an output's receiver rejected for good, so it is counted, shown and never retried.
    public func deadLetter(output: String, stream: StoreStream, seq: Int64, reason: String, at time: UTCTime) throws {
        try withDatabase { db in
            try db.transaction {
                try db.run("INSERT INTO dead_letters (output, stream, seq, reason, recorded_ms) VALUES (?, ?, ?, ?, ?)",
                           [output, stream.rawValue, seq, reason, time.millisecondsSinceEpoch])
                try Self.addToCounter(db, "dead-letters", 1)
            }
        }
    }

    /// The sequence number every registered output has delivered through, or nil with no outputs.
    static func deliveredSeq(_ db: SQLiteDatabase, stream: StoreStream) throws -> Int64? {
        try db.integer("SELECT min(delivered_seq) FROM output_progress WHERE stream = ?", [stream.rawValue])
    }

    static func addToCounter(_ db: SQLiteDatabase, _ name: String, _ amount: Int64) throws {
        try db.run("INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
                   [name, amount])
    }
}
