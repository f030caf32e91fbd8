import CSQLite
import PatrolSQLite

/// A failure of the agent's store, with a message meant for the log: it names the database file,
/// what was being done (the SQL or the file operation), and what the operator can do about it.
///
/// A struct around a code rather than an enum, so codes can be added without breaking callers.
public struct StoreError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is, for callers that react differently (e.g. a corrupt database).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// SQLite reported the file is not a database or is malformed.
        public static let corrupt = Code("corrupt")
        /// The file was written by a newer agent with a schema this one does not know.
        public static let schemaTooNew = Code("schemaTooNew")
        /// A stored row could not be decoded.
        public static let invalidRow = Code("invalidRow")
        /// A file next to the database (sequence reservation, moving a corrupt file aside) failed.
        public static let file = Code("file")
        /// Any other SQLite failure (busy, full disk, permissions, …).
        public static let sqlite = Code("sqlite")

        public var description: String { name }
    }

    public let code: Code
    /// The SQLite result code (extended) when SQLite reported the failure.
    public let sqliteResultCode: Int32?
    public let message: String

    public var description: String { message }

    init(code: Code, sqliteResultCode: Int32? = nil, message: String) {
        self.code = code
        self.sqliteResultCode = sqliteResultCode
        self.message = message
    }

    /// Another process holds the database's lock.
    public var isLocked: Bool {
        guard let code = sqliteResultCode else { return false }
        return code & 0xFF == SQLITE_BUSY || code & 0xFF == SQLITE_LOCKED
    }

    /// An error SQLite returned, with what the operator can do about it on a board.
    static func sqlite(_ error: SQLiteError) -> StoreError {
        StoreError(
            code: error.isCorrupt ? .corrupt : .sqlite,
            sqliteResultCode: error.resultCode,
            message: error.description + " " + advice(forPrimaryCode: error.primaryResultCode))
    }

    private static func advice(forPrimaryCode code: Int32) -> String {
        switch code {
        case SQLITE_CORRUPT, SQLITE_NOTADB:
            "The file is damaged: restart the agent, which moves it aside and starts a fresh database."
        case SQLITE_BUSY, SQLITE_LOCKED:
            "Another process holds the database: make sure only one patrol-agent uses this file."
        case SQLITE_FULL:
            "The disk is full: free space or lower the store's maximum database size."
        case SQLITE_READONLY, SQLITE_CANTOPEN, SQLITE_PERM:
            "Check that the directory exists and is writable by the agent's user."
        case SQLITE_IOERR:
            "The storage failed to read or write: check the SD card and the kernel log (dmesg)."
        default:
            "If it persists, run an integrity check and report this line."
        }
    }
}
