import PatrolCore
import PatrolSQLite

extension AgentStore: DeliveryBacklog {
    /// Makes `name` an output whose progress on `streams` counts for retention ("delivered" means
    /// delivered by every output registered for that stream). A stream starts at nothing
    /// delivered; registering again keeps the progress; a stream left out is forgotten, so an
    /// output that stopped forwarding track no longer holds the track back.
    public func registerOutput(_ name: String, streams: Set<StoreStream>) throws {
        try locked { state in
            let connection = state.connection
            try connection.transaction { try Self.register(name, streams: streams, in: connection) }
        }
    }

    /// Forgets the progress of every output not in `names` (removed from the configuration), so it
    /// no longer holds retention back; returns the names forgotten. Its dead letters stay, as history.
    @discardableResult
    public func forgetOutputs(except names: Set<String>) throws -> [String] {
        try locked { state in
            let connection = state.connection
            var forgotten: [String] = []
            try connection.statement("SELECT DISTINCT output FROM delivery_progress ORDER BY output").forEachRow { row in
                if !names.contains(row.text(0)) { forgotten.append(row.text(0)) }
            }
            guard !forgotten.isEmpty else { return [] }
            try connection.transaction {
                for name in forgotten {
                    try connection.statement("DELETE FROM delivery_progress WHERE output = ?").execute(name)
                }
            }
            return forgotten
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
    /// Registers the output for that stream if needed. Progress never moves backwards.
    public func setProgress(output: String, stream: StoreStream, delivered sequence: Int64) throws {
        try locked { state in
            let connection = state.connection
            try connection.transaction {
                try Self.register(output, stream: stream, in: connection)
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

    /// How far each registered output has delivered `stream`, by output name.
    public func progressByOutput(_ stream: StoreStream) throws -> [String: Int64] {
        try locked { state in
            var progress: [String: Int64] = [:]
            try state.connection.statement("SELECT output, last_delivered FROM delivery_progress WHERE stream = ?")
                .forEachRow(stream.rawValue) { progress[$0.text(0)] = $0.int64(1) }
            return progress
        }
    }

    /// Gives `output` a progress row on each of `streams` and drops its rows on the others.
    static func register(_ output: String, streams: Set<StoreStream>, in connection: SQLiteConnection) throws {
        for stream in StoreStream.allCases {
            if streams.contains(stream) {
                try register(output, stream: stream, in: connection)
            } else {
                try connection.statement("DELETE FROM delivery_progress WHERE output = ? AND stream = ?").execute(output, stream.rawValue)
            }
        }
    }

    static func register(_ output: String, stream: StoreStream, in connection: SQLiteConnection) throws {
        try connection.statement(
            "INSERT OR IGNORE INTO delivery_progress(output, stream, last_delivered) VALUES(?, ?, 0)"
        ).execute(output, stream.rawValue)
    }

    /// The sequence every registered output has delivered on `stream`, nil when none is registered
    /// (then nothing counts as delivered).
    static func deliveredByAll(_ stream: StoreStream, in connection: SQLiteConnection) throws -> Int64? {
        try connection.statement("SELECT MIN(last_delivered) FROM delivery_progress WHERE stream = ?")
            .firstRow(stream.rawValue) { $0.optionalInt64(0) } ?? nil
    }
}
