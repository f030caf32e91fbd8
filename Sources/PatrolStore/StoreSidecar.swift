#if canImport(Glibc)
import Glibc
#endif
import PatrolSQLite

/// State that must outlive the database file itself, kept in `<database>.state` beside it.
///
/// Event sequence numbers must never repeat, even when a corrupt database is moved aside and a
/// fresh one started (the centre deduplicates by device and sequence: a reused number would make
/// a new alarm look like a duplicate). Numbers are reserved in blocks: the file holds the first
/// number not yet reserved, written with fsync before any number of the block is used, so a crash
/// wastes at most one block and never reuses a number. One write per `blockSize` events.
struct StoreSidecar {
    static let blockSize: Int64 = 100

    let path: String
    private(set) var nextUnreserved: Int64 = 1
    private(set) var corruptionRecoveries: Int64 = 0

    init(databasePath: String) throws(SQLiteError) {
        path = databasePath + ".state"
        guard let text = try Self.load(path) else { return }
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let value = Int64(parts[1]) else { continue }
            switch parts[0] {
            case "next_event_seq": nextUnreserved = max(1, value)
            case "corruption_recoveries": corruptionRecoveries = max(0, value)
            default: continue
            }
        }
    }

    /// Reserves `[start, start + blockSize)` for use, persisting the reservation first.
    mutating func reserveBlock(startingAt start: Int64) throws(SQLiteError) -> Range<Int64> {
        let begin = max(start, nextUnreserved)
        nextUnreserved = begin + Self.blockSize
        try save()
        return begin..<nextUnreserved
    }

    mutating func countCorruptionRecovery() throws(SQLiteError) {
        corruptionRecoveries += 1
        try save()
    }

    private func save() throws(SQLiteError) {
        let text = "next_event_seq=\(nextUnreserved)\ncorruption_recoveries=\(corruptionRecoveries)\n"
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw fileError("write \(temporary)") }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == bytes.count, synced, rename(temporary, path) == 0 else { throw fileError("write \(path)") }
        Self.syncFolder(of: path)
    }

    private static func load(_ path: String) throws(SQLiteError) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw SQLiteError(code: .file, message: "cannot read \(path): \(String(cString: strerror(errno))); check permissions")
        }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : ""
    }

    /// fsyncs the folder holding `path`, so a rename in it survives a power cut.
    static func syncFolder(of path: String) {
        let folder = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        let fd = open(folder.isEmpty ? "/" : folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }

    private func fileError(_ what: String) -> SQLiteError {
        SQLiteError(code: .file, message: "cannot \(what): \(String(cString: strerror(errno))); check free space and permissions of the store's folder")
    }
}
