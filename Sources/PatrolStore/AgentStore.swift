#if canImport(Glibc)
import Glibc
#endif
import PatrolSQLite
import Logging
import PatrolCore
import PatrolEdgeSupport
import Synchronization

/// The agent's durable store: track points, events, per-output delivery progress and the
/// counters that explain what retention and recovery did. One SQLite file (WAL mode) plus a
/// sequence sidecar, `<path>.seq`.
///
/// Safe to call from any task or thread: calls are serialised by a mutex around the one
/// connection. Every method is synchronous and short (one transaction), except
/// `forEachTrackPoint`, which releases the lock between pages of results.
public final class AgentStore: Sendable {
    /// Path of the database file.
    public let path: String
    let logger: Logger
    let state: Mutex<State>
    /// Called after every track or event commit (the uplink's wake-up: no polling for new data).
    private let commitObservers = Mutex<[@Sendable (StoreStream) -> Void]>([])

    /// What the store keeps between calls; only touched under `state`'s lock.
    struct State: ~Copyable {
        let connection: SQLiteConnection
        /// Sequence of the next track point: never reused, even after retention deleted all points
        /// or the store replaced a lost one.
        var nextTrackSequence: Int64
        /// Latest point time appended so far (the envelope of the newest chunk).
        var trackEnvelope: Int64
        /// Last sequence of the newest chunk in which time went backwards.
        var lastTrackRegression: Int64
        var sequences: SequenceReservations
    }

    private init(path: String, logger: Logger, state: consuming sending State) {
        self.path = path
        self.logger = logger
        self.state = Mutex(state)
    }

    /// How long the agent waits at start for a command that is reading the store.
    public static let agentLockWaitSeconds = 30.0
    /// How long a command an operator runs (status, export, events) waits for the file: an agent
    /// that holds it keeps it for as long as it runs, so waiting longer only delays the answer.
    public static let commandLockWaitSeconds = 2.0

    /// Opens (creating if needed) the store at `path` and brings its schema up to date.
    ///
    /// A database SQLite reports as corrupt or not a database, or whose `PRAGMA quick_check` is
    /// not ok, is moved aside to `<path>.corrupt-<UTC timestamp>` (with its `-wal` and `-shm`) and
    /// replaced by a fresh one, into which every row that can still be read is copied
    /// (`StoreSalvager`): its undelivered alarms are then forwarded as if nothing had happened.
    ///
    /// A store is never started over silently: a file found empty (0 bytes) or missing while the
    /// sequence file shows events or track points were numbered held data once (a cut write, a
    /// full disk, a file removed by hand). An empty file is moved aside to
    /// `<path>.empty-<UTC timestamp>`, and either case is logged naming both files. Every recovery
    /// is logged once, counted and described in `StoreStatistics`. A schema newer than this code
    /// knows is an error.
    ///
    /// A store that replaced a lost one numbers its track after the sequence file's track
    /// reservation (`SequenceReservations`), not after what could be salvaged: the centre may
    /// already hold any number up to it, and would take a new point with such a number for a
    /// resend and drop it.
    ///
    /// The quick check reads the whole file once per start (seconds for a large store on an SD card).
    /// The file stays locked by this process until the store is released (see `Schema`).
    ///
    /// - Parameters:
    ///   - lockWaitSeconds: how long to wait in all while another process holds the file.
    ///     The agent waits for a CLI that is reading the store just as it starts; a CLI waits briefly,
    ///     since a running agent holds the file for as long as it runs.
    ///   - recovering: whether a lost or corrupt store is recovered here (the agent) or only
    ///     reported (`status`, `events`, `export`): a command run just as the agent starts must not
    ///     take the recovery from it, which belongs in the agent's log and is the agent's to count.
    public static func open(path: String, logger: Logger, lockWaitSeconds: Double = agentLockWaitSeconds,
                            recovering: Bool = true) throws -> AgentStore {
        let sequencePath = path + ".seq"
        let reserved = try SequenceFile.read(at: sequencePath)
        var recovery: Recovery?
        if let reserved, reserved.reservedAny, !FileSystem.exists(path) || FileSystem.size(of: path) == 0 {
            let lost = "Database \(path) is \(FileSystem.exists(path) ? "empty (0 bytes)" : "missing") although "
                + "\(sequencePath) shows sequence numbers were reserved (\(reserved.summary)): the store held data."
            guard recovering else { throw StoreError(code: .file, message: lost + " " + leaveRecoveryToTheAgent) }
            let aside = try FileSystem.exists(path) ? moveAside(path: path, as: "empty") : nil
            recovery = Recovery(kind: .emptied, aside: aside, reason: lost)
        }
        let connection: SQLiteConnection
        do {
            connection = try openWaitingForLock(path: path, lockWaitSeconds: lockWaitSeconds, logger: logger)
        } catch let error as StoreError where error.code == .corrupt {
            guard recovering else { throw StoreError(code: .corrupt, message: error.message + " " + leaveRecoveryToTheAgent) }
            recovery = Recovery(kind: .corrupt, aside: try moveAside(path: path, as: "corrupt"), reason: error.message)
            connection = try openWaitingForLock(path: path, lockWaitSeconds: lockWaitSeconds, logger: logger)
        }
        if let recovery {
            try recover(recovery, into: connection, path: path, reserved: reserved, logger: logger)
        }
        let state = try State(connection: connection, sequencePath: sequencePath, reserved: reserved)
        return AgentStore(path: path, logger: logger, state: state)
    }

    private static let leaveRecoveryToTheAgent = "Start the agent (patrol-agent run): it moves the file aside, "
        + "salvages what can be read into a new store and logs it."

    /// Why a store was started over, and where its old file went (nil: there was none).
    private struct Recovery {
        enum Kind { case corrupt, emptied }
        var kind: Kind
        var aside: String?
        var reason: String
    }

    /// Records where track numbering resumes, salvages what the old file holds into the new store,
    /// counts the recovery and describes it (for `status`), and logs one line naming both files.
    private static func recover(_ recovery: Recovery, into connection: SQLiteConnection, path: String,
                                reserved: SequenceFile?, logger: Logger) throws {
        // Before the salvage, which may take minutes: a power cut during it must not leave a store
        // that numbers its track after the salvaged points only.
        if let trackReserved = reserved?.track {
            try connection.transaction { try setMeta(MetaKey.trackGapPrefix + String(trackReserved), trackReserved, in: connection) }
        }
        var salvage = StoreSalvage()
        var salvageFailure = ""
        if let aside = recovery.aside {
            do {
                salvage = try StoreSalvager.salvage(from: aside, into: connection, eventsReservedThrough: reserved?.events)
            } catch {
                salvageFailure = " (salvage failed: \(error))"
            }
        }
        let outcome = recovery.aside.map { "moved aside to \($0); from it, \(salvage.summary) into the new store\(salvageFailure)" }
            ?? "started anew; there is no file to salvage from"
        let description = "\(compactTimestamp(SystemClocks.systemTime())): \(path) \(recovery.kind == .corrupt ? "corrupt" : "lost its data"), \(outcome)"
        try connection.transaction {
            try addToCounter(recovery.kind == .corrupt ? Counter.corruptionRecoveries : Counter.emptyStoreRecoveries, 1, in: connection)
            try addToCounter(Counter.salvagedEvents, salvage.events, in: connection)
            try addToCounter(Counter.salvagedTrackPoints, salvage.trackPoints, in: connection)
            try recordTrackHoles(in: connection)
            try connection.statement("INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)").execute(MetaKey.lastRecovery, description)
        }
        let forwarded = salvage.events > 0 ? "; the undelivered among them are forwarded with their sequence numbers" : ""
        logger.error("\(recovery.reason) Store \(path) \(outcome)\(forwarded).")
    }

    /// Calls `body` with the stream after every commit of track points or an event, outside the
    /// store's lock.
    public func onCommit(_ body: @escaping @Sendable (StoreStream) -> Void) {
        commitObservers.withLock { $0.append(body) }
    }

    func committed(_ stream: StoreStream) {
        for observer in commitObservers.withLock({ $0 }) { observer(stream) }
    }

    /// Runs `body` under the store's lock; SQLite's errors come out as `StoreError`s, which add
    /// what an operator can do on a board.
    func locked<T>(_ body: (inout State) throws -> sending T) throws -> sending T {
        do {
            return try state.withLock { try body(&$0) }
        } catch let error as SQLiteError {
            throw StoreError.sqlite(error)
        }
    }

    /// The result of `PRAGMA integrity_check`: `"ok"`, or SQLite's list of problems.
    public func integrityCheck() throws -> String {
        try locked { state in
            var lines: [String] = []
            try state.connection.statement("PRAGMA integrity_check").forEachRow { lines.append($0.text(0)) }
            return lines.joined(separator: "\n")
        }
    }

    /// Opens like `openChecked`, retrying until `lockWaitSeconds` have passed while another process
    /// holds the file's lock. Each attempt gives up on a busy lock quickly (`openBusyTimeout`), so
    /// the whole wait is bounded by the deadline, not by attempts times SQLite's busy timeout.
    private static func openWaitingForLock(path: String, lockWaitSeconds: Double, logger: Logger) throws -> SQLiteConnection {
        let deadline = ContinuousClock.now + .milliseconds(Int64(lockWaitSeconds * 1000))
        var waiting = false
        while true {
            do {
                return try openChecked(path: path)
            } catch let error as StoreError where error.isLocked && ContinuousClock.now < deadline {
                if !waiting { logger.notice("Database \(path) is held by another process; waiting for it") }
                waiting = true
                usleep(100_000)
            }
        }
    }

    /// Opens the file, applies the settings, verifies it with `quick_check` and migrates it.
    private static func openChecked(path: String) throws -> SQLiteConnection {
        do {
            return try openUnchecked(path: path)
        } catch let error as SQLiteError {
            throw StoreError.sqlite(error)
        }
    }

    private static func openUnchecked(path: String) throws -> SQLiteConnection {
        let connection = try SQLiteConnection(path: path, busyTimeoutMilliseconds: Schema.openBusyTimeoutMilliseconds)
        try connection.executeScript(Schema.connectionPragmas)
        let journalMode = try connection.statement("PRAGMA journal_mode").firstRow { $0.text(0) }
        guard journalMode == "wal" else {
            throw StoreError(code: .sqlite, message: "Database \(path) could not be switched to WAL mode "
                + "(journal_mode is \(journalMode ?? "unknown")). Put it on a local file system that supports it.")
        }
        let check = try connection.statement("PRAGMA quick_check").firstRow { $0.text(0) }
        guard check == "ok" else {
            throw StoreError(code: .corrupt, message: "Database \(path) failed PRAGMA quick_check: \(check ?? "no result").")
        }
        try migrate(connection)
        connection.setBusyTimeout(milliseconds: Schema.busyTimeoutMilliseconds)
        return connection
    }

    private static func migrate(_ connection: SQLiteConnection) throws {
        let version = try connection.integer("PRAGMA user_version")
        guard version <= Schema.migrations.count else {
            throw StoreError(code: .schemaTooNew, message: "Database \(connection.path) has schema version \(version), "
                + "but this patrol-agent knows versions up to \(Schema.migrations.count): it was written by a newer "
                + "agent. Run that version, or move the file aside to start an empty store.")
        }
        for (index, sql) in Schema.migrations.enumerated() where index >= version {
            try connection.transaction {
                try connection.executeScript(sql)
                try connection.executeScript("PRAGMA user_version=\(index + 1)")
            }
        }
    }

    /// Moves the file (with its `-wal` and `-shm`) to `<path>.<label>-<UTC timestamp>` and returns that path.
    private static func moveAside(path: String, as label: String) throws -> String {
        let aside = path + "." + label + "-" + compactTimestamp(SystemClocks.systemTime())
        for suffix in ["-wal", "-shm", ""] where FileSystem.exists(path + suffix) {
            try FileSystem.moveDurably(path + suffix, to: aside + suffix)
        }
        return aside
    }

    /// `20260314T101500Z`: sortable and free of characters some tools mishandle in file names.
    private static func compactTimestamp(_ time: UTCTime) -> String {
        let c = time.civil
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(c.year)\(two(c.month))\(two(c.day))T\(two(c.hour))\(two(c.minute))\(two(c.second))Z"
    }
}

extension AgentStore.State {
    /// Track numbering continues densely after the newest point (or the last one retention
    /// deleted), and after every gap a replaced store left (see `AgentStore.open`).
    init(connection: SQLiteConnection, sequencePath: String, reserved: SequenceFile?) throws {
        let newest = try connection.statement(
            "SELECT first_seq + point_count, envelope FROM track_chunk ORDER BY first_seq DESC LIMIT 1"
        ).firstRow { (next: $0.int64(0), envelope: $0.int64(1)) }
        let deletedThrough = try AgentStore.meta(MetaKey.trackDeletedThrough, in: connection) ?? 0
        let gapsThrough = try AgentStore.trackGaps(in: connection).last ?? 0
        let highestEvent = try connection.integer("SELECT MAX(sequence) FROM event")
        self.init(
            connection: connection,
            nextTrackSequence: max(newest?.next ?? 1, deletedThrough + 1, gapsThrough + 1),
            trackEnvelope: newest?.envelope ?? .min,
            lastTrackRegression: try AgentStore.meta(MetaKey.trackLastRegression, in: connection) ?? 0,
            sequences: SequenceReservations(path: sequencePath, file: reserved, highestStoredEvent: highestEvent))
    }
}

/// Keys of the `meta` table.
enum MetaKey {
    /// Highest track sequence retention deleted, so numbering continues after an emptied table.
    static let trackDeletedThrough = "track.deleted_through"
    /// `track.gap.<n>` = n: no point here has a number from the highest one below n through n. Either
    /// a store replaced a lost one whose track reservation ended at n (numbering continued after
    /// it), or a salvage could not read the chunks up to n.
    static let trackGapPrefix = "track.gap."
    /// Last sequence of the newest chunk where point time went backwards.
    static let trackLastRegression = "track.last_regression_seq"
    /// A sentence describing the last time the store was started over (text).
    static let lastRecovery = "recovery.last"
}

/// Names of the persisted `counter` rows.
enum Counter {
    static let corruptionRecoveries = "corruption_recoveries"
    static let emptyStoreRecoveries = "empty_store_recoveries"
    static let salvagedEvents = "salvaged.events"
    static let salvagedTrackPoints = "salvaged.track_points"
    static let deletionPrefix = "deleted."
}

extension AgentStore {
    static func meta(_ key: String, in connection: SQLiteConnection) throws -> Int64? {
        try connection.statement("SELECT value FROM meta WHERE key = ?").firstRow(key) { $0.int64(0) }
    }

    /// The ends of the track's gaps (`MetaKey.trackGapPrefix`) beyond `after`, ascending.
    static func trackGaps(after: Int64 = 0, in connection: SQLiteConnection) throws -> [Int64] {
        var gaps: [Int64] = []
        try connection.statement("SELECT value FROM meta WHERE key >= ? AND key < ? AND value > ? ORDER BY value")
            .forEachRow(MetaKey.trackGapPrefix, MetaKey.trackGapPrefix + "\u{7F}", after) { gaps.append($0.int64(0)) }
        return gaps
    }

    /// Records each hole a salvage left in the track (chunks it could not read) as a gap, so the
    /// counts that follow from sequences (`trackPointCount`) stay exact. Reads the track once.
    static func recordTrackHoles(in connection: SQLiteConnection) throws {
        var expected: Int64?
        var holeEnds: [Int64] = []
        try connection.statement("SELECT first_seq, point_count FROM track_chunk ORDER BY first_seq").forEachRow { row in
            if let expected, row.int64(0) > expected { holeEnds.append(row.int64(0) - 1) }
            expected = row.int64(0) + row.int64(1)
        }
        for end in holeEnds { try setMeta(MetaKey.trackGapPrefix + String(end), end, in: connection) }
    }

    /// How many stored points have a sequence in `after + 1 ... through`: the numbers there, less
    /// those in the gaps replaced stores left. No table scan, since points are numbered densely
    /// between gaps and retention deletes only a prefix; `after` must not be below the first
    /// stored point's sequence minus one.
    static func trackPointCount(after: Int64, through: Int64, in connection: SQLiteConnection) throws -> Int64 {
        guard through > after else { return 0 }
        let highestAtOrBelow = try connection.statement(
            "SELECT min(?1, first_seq + point_count - 1) FROM track_chunk WHERE first_seq <= ?1 ORDER BY first_seq DESC LIMIT 1")
        var count = through - after
        var counted = after // numbers up to here are already accounted for
        for gapEnd in try trackGaps(after: after, in: connection) where gapEnd > counted {
            let end = min(gapEnd, through)
            let start = max(counted, try highestAtOrBelow.firstRow(gapEnd) { $0.int64(0) } ?? counted)
            if end > start { count -= end - start }
            counted = end
            if counted >= through { break }
        }
        return count
    }

    static func setMeta(_ key: String, _ value: Int64, in connection: SQLiteConnection) throws {
        try connection.statement("INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
            .execute(key, value)
    }

    static func addToCounter(_ name: String, _ delta: Int64, in connection: SQLiteConnection) throws {
        try connection.statement(
            "INSERT INTO counter(name, value) VALUES(?, ?) ON CONFLICT(name) DO UPDATE SET value = value + excluded.value"
        ).execute(name, delta)
    }
}
