#if canImport(Glibc)
import Glibc
#endif
import Logging
import PatrolCore
import PatrolSQLite
import Synchronization

/// The agent's durable store: track points, events, per-output delivery progress, in one SQLite
/// file (WAL, `synchronous=FULL`: a commit survives a power cut).
///
/// It owns durability: callers hand it data and, when a call returns, the data is on the card.
/// A damaged database is moved aside with one log line and a fresh one started, so a bad SD
/// sector costs the old data, never the ability to record new alarms.
public final class AgentStore: Sendable {
    /// Only ever touched under `state`'s lock, which is what makes sharing it safe.
    struct State: @unchecked Sendable {
        var database: SQLiteDatabase
        var sidecar: StoreSidecar
        var eventSequence: Range<Int64> = 0..<0
    }

    public let path: String
    let logger: Logger
    let state: Mutex<State>

    /// Opens or creates the store at `path`, running migrations.
    public static func open(path: String, logger: Logger) throws -> AgentStore {
        var sidecar = try StoreSidecar(databasePath: path)
        let database: SQLiteDatabase
        do {
            database = try prepareDatabase(path: path)
        } catch let error as SQLiteError where error.code == .corrupt {
            database = try replaceCorruptDatabase(path: path, sidecar: &sidecar, cause: error, logger: logger)
        }
        return AgentStore(path: path, logger: logger, state: State(database: database, sidecar: sidecar))
    }

    private init(path: String, logger: Logger, state: State) {
        self.path = path
        self.logger = logger
        self.state = Mutex(state)
    }

    /// Runs `body` on the database; a corruption found while doing so moves the file aside, starts a
    /// fresh database and runs `body` once more there (so the data being written is not lost).
    func withState<T>(_ body: (inout State) throws -> T) throws -> T {
        try state.withLock { state in
            do {
                return try body(&state)
            } catch let error as SQLiteError where error.code == .corrupt {
                state.database.close()
                state.database = try Self.replaceCorruptDatabase(path: path, sidecar: &state.sidecar, cause: error, logger: logger)
                return try body(&state)
            }
        }
    }

    func withDatabase<T>(_ body: (SQLiteDatabase) throws -> T) throws -> T {
        try withState { try body($0.database) }
    }

    /// `PRAGMA integrity_check`: "ok" when the file is sound.
    public func integrityCheck() throws -> String {
        try withDatabase { db in
            var lines: [String] = []
            try db.query("PRAGMA integrity_check") { lines.append($0.text(0)) }
            return lines.joined(separator: "\n")
        }
    }

    /// Closes the database (a final WAL checkpoint happens here).
    public func close() {
        state.withLock { $0.database.close() }
    }

    // MARK: Opening

    static func prepareDatabase(path: String) throws -> SQLiteDatabase {
        let database = try SQLiteDatabase(path: path)
        do {
            // Reading the schema is what detects a file that is not a database at all.
            if try database.integer("PRAGMA page_count") == 0 {
                // Small pages: a 10-second batch of points fits one 1 KiB page, so a commit writes
                // ~1 KiB of WAL instead of 4 KiB (SD wear, bytes written per hour).
                try database.execute("PRAGMA page_size = 1024; PRAGMA auto_vacuum = INCREMENTAL")
            }
            try database.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL")
            try migrate(database)
            return database
        } catch {
            database.close()
            throw error
        }
    }

    /// Applies the migrations not applied yet. The version is read inside the write transaction, so
    /// two processes opening a new file at once (the agent and `status`) cannot both migrate it.
    static func migrate(_ database: SQLiteDatabase) throws {
        try database.transaction {
            let version = Int(try database.integer("PRAGMA user_version") ?? 0)
            guard version <= Schema.migrations.count else {
                throw SQLiteError(code: .schemaTooNew, message: "database \(database.path) has schema version \(version), newer than this agent knows (\(Schema.migrations.count)); install the newer patrol-agent or move the file away")
            }
            for migration in Schema.migrations.dropFirst(version) {
                try database.execute(migration)
            }
            try database.execute("PRAGMA user_version = \(Schema.migrations.count)")
        }
    }

    /// Moves a corrupt database (with its WAL and shared-memory files) aside and creates a fresh one.
    static func replaceCorruptDatabase(path: String, sidecar: inout StoreSidecar, cause: SQLiteError,
                                       logger: Logger) throws -> SQLiteDatabase {
        let stamp = UTCTime(millisecondsSinceEpoch: Int64(time(nil)) * 1000).iso8601
            .replacingAll(":", with: "").replacingAll(".", with: "")
        let aside = "\(path).corrupt-\(stamp)"
        for suffix in ["", "-wal", "-shm"] where access(path + suffix, F_OK) == 0 {
            guard rename(path + suffix, aside + suffix) == 0 else {
                throw SQLiteError(code: .file, message: "database \(path) is corrupt and could not be moved aside to \(aside): \(String(cString: strerror(errno))); move it away by hand")
            }
        }
        StoreSidecar.syncFolder(of: path)
        try sidecar.countCorruptionRecovery()
        logger.error("database \(path) is corrupt (\(cause.message)); moved it to \(aside) and started a fresh database")
        return try prepareDatabase(path: path)
    }
}

extension String {
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
