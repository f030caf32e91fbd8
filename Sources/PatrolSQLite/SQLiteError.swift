import CSQLite

/// A failure SQLite reported, naming the database file, what was being done (the SQL or the step)
/// and SQLite's own message, so one log line is enough to find the cause.
///
/// It carries no advice: what to do depends on the program (the agent moves a corrupt file aside,
/// the centre must not), so each program's own error type adds it (see `StoreError`).
public struct SQLiteError: Error, CustomStringConvertible, Sendable {
    /// SQLite's extended result code.
    public let resultCode: Int32
    /// SQLite's message for the failure.
    public let detail: String
    /// The database file.
    public let path: String
    /// What was being done: "open", "prepare of `SQL`", "step of `SQL`", …
    public let operation: String

    public init(resultCode: Int32, detail: String, path: String, operation: String) {
        self.resultCode = resultCode
        self.detail = detail
        self.path = path
        self.operation = operation
    }

    /// The primary result code (`SQLITE_BUSY`, `SQLITE_CORRUPT`, …) without the extended bits.
    public var primaryResultCode: Int32 { resultCode & 0xFF }

    /// True when SQLite says the file is not a database or is malformed.
    public var isCorrupt: Bool { primaryResultCode == SQLITE_CORRUPT || primaryResultCode == SQLITE_NOTADB }

    public var description: String {
        "SQLite error \(resultCode) (\(detail)) in database \(path) during \(operation)."
    }
}
