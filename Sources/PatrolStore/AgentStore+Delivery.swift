import PatrolSQLite

/// The two kinds of data outputs forward, each with its own sequence numbers.
public enum StoreStream: String, Sendable, CaseIterable {
    case track
    case event
}

extension AgentStore {
    /// Makes `name` an output whose progress counts for retention ("delivered" means delivered
    /// by every registered output). Starts at nothing delivered; registering again changes nothing.
    public func registerOutput(_ name: String) throws {
        try locked { state in
            let connection = state.connection
            try connection.transaction { try Self.register(name, in: connection) }
        }
    }

    /// The last sequence `output` delivered on `stream`; 0 when nothing (or the output is unknown).
    public func progress(output: String, stream: StoreStream) throws -> Int64 {
        try locked { state in
            try state.connection.statement(
                "SELECT last_delivered FROM delivery_progress WHERE output = ? AND stream = ?"
            ).firstRow(output, stream.rawValue) { $0.int64(0) } ?? 0
        }
    }

    /// Records that `output` delivered everything on `stream` up to and including `sequence`.
    /// Registers the output if needed. Progress never moves backwards.
    public func setProgress(output: String, stream: StoreStream, delivered sequence: Int64) throws {
        try locked { state in
            let connection = state.connection
            try connection.transaction {
                try Self.register(output, in: connection)
                try connection.statement(
                    "UPDATE delivery_progress SET last_delivered = max(last_delivered, ?) WHERE output = ? AND stream = ?"
                ).execute(sequence, output, stream.rawValue)
            }
        }
    }

    /// The sequence every registered output has delivered on `stream`; nil when none is registered.
    public func deliveredThrough(_ stream: StoreStream) throws -> Int64? {
        try locked { state in try Self.deliveredByAll(stream, in: state.connection) }
    }

    /// Gives `output` a progress row on every stream, so it holds back retention on all of them.
    static func register(_ output: String, in connection: SQLiteConnection) throws {
        for stream in StoreStream.allCases {
            try connection.statement(
                "INSERT OR IGNORE INTO delivery_progress(output, stream, last_delivered) VALUES(?, ?, 0)"
            ).execute(output, stream.rawValue)
        }
    }

    /// The sequence every registered output has delivered on `stream`, nil when none is registered
    /// (then nothing counts as delivered).
    static func deliveredByAll(_ stream: StoreStream, in connection: SQLiteConnection) throws -> Int64? {
        try connection.statement("SELECT MIN(last_delivered) FROM delivery_progress WHERE stream = ?")
            .firstRow(stream.rawValue) { $0.optionalInt64(0) } ?? nil
    }
}
