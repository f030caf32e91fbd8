import CSQLite

/// A prepared statement, reused across calls: every use binds, steps, and resets it, so a cached
/// statement never holds a read transaction open between calls.
public final class SQLiteStatement {
    let handle: OpaquePointer
    public let sql: String
    private let path: String
    private let database: OpaquePointer

    init(database: OpaquePointer, path: String, sql: String) throws {
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v3(database, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard rc == SQLITE_OK, let statement else {
            throw SQLiteError(resultCode: rc, detail: String(cString: sqlite3_errmsg(database)), path: path,
                              operation: "prepare of `\(sql)`")
        }
        self.handle = statement
        self.sql = sql
        self.path = path
        self.database = database
    }

    deinit { sqlite3_finalize(handle) }

    /// Runs a statement that returns no rows.
    public func execute(_ values: any SQLiteValue...) throws {
        try run(values) { _ in }
    }

    /// Calls `body` for every row the statement returns.
    public func forEachRow(_ values: any SQLiteValue..., body: (SQLiteRow) throws -> Void) throws {
        try run(values, body)
    }

    /// The first row read through `read`, or nil when the statement returns no rows.
    public func firstRow<T>(_ values: any SQLiteValue..., read: (SQLiteRow) throws -> T) throws -> T? {
        try bind(values)
        defer { reset() }
        return try step() ? read(row()) : nil
    }

    /// Starts a walk through the rows that the caller paces with `nextRow`, doing other work (a
    /// network write) between rows: for a reader of more rows than fit in memory at once.
    public func startRows(_ values: any SQLiteValue...) throws {
        reset()
        try bind(values)
    }

    /// Reads the walk's next row through `read`; false, and the statement reset, after the last.
    public func nextRow(_ read: (SQLiteRow) throws -> Void) throws -> Bool {
        do {
            guard try step() else {
                reset()
                return false
            }
            try read(row())
            return true
        } catch {
            reset()
            throw error
        }
    }

    private func run(_ values: [any SQLiteValue], _ body: (SQLiteRow) throws -> Void) throws {
        try bind(values)
        defer { reset() }
        while try step() { try body(row()) }
    }

    private func bind(_ values: [any SQLiteValue]) throws {
        for (offset, value) in values.enumerated() {
            let rc = value.bind(to: handle, at: Int32(offset + 1))
            guard rc == SQLITE_OK else { throw failure(rc, during: "bind of parameter \(offset + 1)") }
        }
    }

    /// True when a row is ready, false when the statement is done.
    private func step() throws -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let rc: throw failure(rc, during: "step")
        }
    }

    private func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    private func failure(_ rc: Int32, during phase: String) -> SQLiteError {
        SQLiteError(resultCode: rc, detail: String(cString: sqlite3_errmsg(database)), path: path,
                    operation: "\(phase) of `\(sql)`")
    }
}
