#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PatrolCore

/// The few POSIX file operations the store needs beside SQLite (no Foundation on the agent).
enum FileSystem {
    /// Size in bytes, or 0 when the file does not exist.
    static func size(of path: String) -> Int64 {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : 0
    }

    static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    /// The whole file as bytes, or nil when it does not exist.
    static func contents(of path: String) throws -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 {
            if errno == ENOENT { return nil }
            throw failure("open", path)
        }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 { throw failure("read", path) }
            if count == 0 { return bytes }
            bytes += buffer[0..<count]
        }
    }

    /// Replaces `path` with `bytes` so that after a power cut the file holds either the old or
    /// the new contents, never a mix: write a temporary file, fsync it, rename it over the
    /// target, fsync the directory so the rename itself is durable.
    static func writeDurably(_ bytes: [UInt8], to path: String) throws {
        let temporary = path + ".tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw failure("create", temporary) }
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        let synced = fsync(descriptor) == 0
        close(descriptor)
        guard written == bytes.count, synced else { throw failure("write and fsync", temporary) }
        guard rename(temporary, path) == 0 else { throw failure("rename to \(path)", temporary) }
        try syncDirectory(containing: path)
    }

    /// Renames `source` to `destination` and makes the rename durable.
    static func moveDurably(_ source: String, to destination: String) throws {
        guard rename(source, destination) == 0 else { throw failure("rename to \(destination)", source) }
        try syncDirectory(containing: destination)
    }

    private static func syncDirectory(containing path: String) throws {
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        let descriptor = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure("open directory", directory) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw failure("fsync directory", directory) }
    }

    /// The current UTC time from the system clock; used only to name files, never to stamp data.
    static func systemTimeNow() -> UTCTime {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return UTCTime(millisecondsSinceEpoch: Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000)
    }

    private static func failure(_ operation: String, _ path: String) -> StoreError {
        let reason = String(cString: strerror(errno))
        return StoreError(code: .file, message: "Could not \(operation) \(path): \(reason). "
            + "Check that the store's directory exists, is writable by the agent's user, and the disk is not full.")
    }
}
