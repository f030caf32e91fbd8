import CSQLite

/// One SQLite connection with a cache of prepared statements.
///
/// Not thread-safe by itself: its owner (the agent's store, the centre's storage) keeps it inside a
/// mutex or an actor, which is why SQLite is opened without its own locking (`SQLITE_OPEN_NOMUTEX`).
public final class SQLiteConnection {
    public let path: String
    private let handle: OpaquePointer
    private var cachedStatements: [String: SQLiteStatement] = [:]

    /// - Parameters:
    ///   - readOnly: open an existing file without the right to change it (a file another program
    ///     owns, read as a copy is: `patrol-centre import-sqlite`); otherwise it is created if missing.
    ///   - busyTimeoutMilliseconds: how long a statement waits for another connection's lock.
    public init(path: String, readOnly: Bool = false, busyTimeoutMilliseconds: Int32 = 5000) throws {
        var database: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &database, flags, nil)
        guard rc == SQLITE_OK, let database else {
            let detail = database.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(database)
            throw SQLiteError(resultCode: rc, detail: detail, path: path, operation: "open")
        }
        sqlite3_extended_result_codes(database, 1)
        sqlite3_busy_timeout(database, busyTimeoutMilliseconds)
        self.path = path
        self.handle = database
    }

    /// Changes how long a statement waits for another connection's lock.
    public func setBusyTimeout(milliseconds: Int32) {
        sqlite3_busy_timeout(handle, milliseconds)
    }

    deinit {
        try? commitDeferredWrites() // closing would roll them back
        cachedStatements.removeAll() // finalize before closing
        sqlite3_close_v2(handle)
    }

    /// The prepared statement for `sql`, prepared once and reused: the hot paths (appending a
    /// batch, reading chunks) run the same few statements thousands of times an hour.
    public func statement(_ sql: String) throws -> SQLiteStatement {
        if let cached = cachedStatements[sql] { return cached }
        let statement = try SQLiteStatement(database: handle, path: path, sql: sql)
        cachedStatements[sql] = statement
        return statement
    }

    /// Runs one or more statements that return nothing worth reading (schema, pragmas that set).
    public func executeScript(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &message)
        guard rc == SQLITE_OK else {
            let detail = message.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(message)
            throw SQLiteError(resultCode: rc, detail: detail, path: path,
                              operation: "`\(sql.split(separator: "\n").map { $0.trimmingPrefix(" ") }.joined(separator: " "))`")
        }
    }

    /// The single value a pragma or aggregate query returns as an integer (0 when NULL or no row).
    public func integer(_ sql: String) throws -> Int64 {
        try statement(sql).firstRow { $0.int64(0) } ?? 0
    }

    /// Runs `body` in an IMMEDIATE transaction (the write lock is taken up front, so a commit never
    /// fails half-way on a lock upgrade), committing when it returns and rolling back when it throws.
    ///
    /// Writes `deferredTransaction` left open are committed with it: they become durable with this
    /// commit's fsync instead of one of their own. When `body` throws, only its own writes are undone.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        guard hasDeferredWrites else {
            try statement("BEGIN IMMEDIATE").execute()
            return try committing(body)
        }
        let result = try inSavepoint("carried_by_commit", body)
        return try committing { result }
    }

    /// Runs `body` in a write transaction that stays open when it returns: what it wrote is seen at
    /// once on this connection but reaches the disk with the next `transaction`, or with
    /// `commitDeferredWrites()`. For writes a power cut may undo because they can be redone — they
    /// then cost no fsync and no page write of their own. When `body` throws, its writes are undone.
    public func deferredTransaction(_ body: () throws -> Void) throws {
        if !hasDeferredWrites { try statement("BEGIN IMMEDIATE").execute() }
        try inSavepoint("deferred", body)
    }

    /// Runs `body` inside the open transaction so that, when it throws, only its own writes are undone.
    private func inSavepoint<T>(_ name: String, _ body: () throws -> T) throws -> T {
        try statement("SAVEPOINT \(name)").execute()
        do {
            let result = try body()
            try statement("RELEASE \(name)").execute()
            return result
        } catch {
            try? statement("ROLLBACK TO \(name)").execute()
            try? statement("RELEASE \(name)").execute()
            throw error
        }
    }

    /// Commits what `deferredTransaction` left open, if anything.
    public func commitDeferredWrites() throws {
        if hasDeferredWrites { try committing {} }
    }

    /// Whether a transaction is open between calls (only `deferredTransaction` leaves one open).
    private var hasDeferredWrites: Bool { sqlite3_get_autocommit(handle) == 0 }

    /// Runs `body` and commits the open transaction; rolls all of it back when either fails.
    private func committing<T>(_ body: () throws -> T) throws -> T {
        do {
            let result = try body()
            try statement("COMMIT").execute()
            return result
        } catch {
            if hasDeferredWrites { try? statement("ROLLBACK").execute() }
            throw error
        }
    }

    public var changes: Int64 { Int64(sqlite3_changes64(handle)) }
}
