import CSQLite

/// One SQLite connection with cached prepared statements.
///
/// Not thread-safe by itself: owners serialise access (the agent's store keeps it behind a mutex).
/// Every error names the database file and the statement, so a log line is enough to act on.
public final class SQLiteDatabase {
    public let path: String
    private var handle: OpaquePointer?
    private var cache: [String: SQLiteStatement] = [:]

    /// Opens (creating if `create`) the database at `path`.
    public init(path: String, create: Bool = true, readOnly: Bool = false) throws(SQLiteError) {
        self.path = path
        var flags = readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE
        if create && !readOnly { flags |= SQLITE_OPEN_CREATE }
        flags |= SQLITE_OPEN_NOMUTEX
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        handle = db
        guard rc == SQLITE_OK, db != nil else {
            let detail = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(db)
            handle = nil
            throw SQLiteError.sqlite(rc, detail: detail, path: path, operation: "open")
        }
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, 5000)
    }

    deinit { close() }

    /// Finalises every statement and closes the connection; later calls fail.
    public func close() {
        cache.values.forEach { $0.finalize() }
        cache.removeAll()
        if let handle { sqlite3_close_v2(handle) }
        handle = nil
    }

    /// Runs one or more statements without results (DDL, pragmas with no row).
    public func execute(_ sql: String) throws(SQLiteError) {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &message)
        if rc != SQLITE_OK {
            let detail = message.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_free(message)
            throw SQLiteError.sqlite(rc, detail: detail, path: path, operation: sql)
        }
    }

    /// A prepared statement for `sql`, reused across calls (reset and cleared before it is handed out).
    public func statement(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
        if let cached = cache[sql] {
            cached.reset()
            return cached
        }
        var raw: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &raw, nil)
        guard rc == SQLITE_OK, let raw else { throw error(rc, sql) }
        let statement = SQLiteStatement(handle: raw, database: self, sql: sql)
        cache[sql] = statement
        return statement
    }

    /// Runs `sql` with `arguments` and calls `row` for each result row.
    public func query(_ sql: String, _ arguments: [any SQLiteValue] = [], row: (SQLiteRow) throws -> Void) throws {
        let statement = try statement(sql)
        try statement.bind(arguments)
        while try statement.step() { try row(statement.row) }
        statement.reset()
    }

    /// Runs `sql` with `arguments`, ignoring any rows.
    public func run(_ sql: String, _ arguments: [any SQLiteValue] = []) throws(SQLiteError) {
        let statement = try statement(sql)
        try statement.bind(arguments)
        while try statement.step() {}
        statement.reset()
    }

    /// The first column of the first row as an integer (nil when there is no row or it is NULL).
    public func integer(_ sql: String, _ arguments: [any SQLiteValue] = []) throws(SQLiteError) -> Int64? {
        let statement = try statement(sql)
        try statement.bind(arguments)
        defer { statement.reset() }
        guard try statement.step() else { return nil }
        return statement.row.optionalInt64(0)
    }

    /// The first column of the first row as text.
    public func text(_ sql: String) throws(SQLiteError) -> String? {
        let statement = try statement(sql)
        defer { statement.reset() }
        guard try statement.step() else { return nil }
        return statement.row.optionalText(0)
    }

    /// Runs `body` in a transaction (`BEGIN IMMEDIATE`, so a writer never fails half-way on a lock),
    /// committing when it returns and rolling back when it throws.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// Rows changed by the last statement.
    public var changes: Int { Int(sqlite3_changes(handle)) }

    func error(_ rc: Int32, _ sql: String) -> SQLiteError {
        SQLiteError.sqlite(rc, detail: handle.map { String(cString: sqlite3_errmsg($0)) } ?? "closed", path: path, operation: sql)
    }
}

/// A prepared statement owned by its database's cache.
public final class SQLiteStatement {
    let handle: OpaquePointer
    private unowned let database: SQLiteDatabase
    private let sql: String

    init(handle: OpaquePointer, database: SQLiteDatabase, sql: String) {
        self.handle = handle
        self.database = database
        self.sql = sql
    }

    /// Binds `arguments` to parameters 1…n.
    public func bind(_ arguments: [any SQLiteValue]) throws(SQLiteError) {
        for (offset, argument) in arguments.enumerated() {
            let rc = argument.bind(to: handle, at: Int32(offset + 1))
            guard rc == SQLITE_OK else { throw database.error(rc, sql) }
        }
    }

    /// Advances; true when a row is ready.
    public func step() throws(SQLiteError) -> Bool {
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let error = database.error(rc, sql)
            sqlite3_reset(handle)
            throw error
        }
    }

    public var row: SQLiteRow { SQLiteRow(statement: handle) }

    public func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    func finalize() { sqlite3_finalize(handle) }
}
