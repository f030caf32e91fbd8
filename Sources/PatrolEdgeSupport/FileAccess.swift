#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file could not be read or written; the message names the file and says what to do.
public struct FileAccessError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(description: String) {
        self.description = description
    }
}

/// Small whole-file reads and atomic writes with plain POSIX calls: the agent is built without
/// full Foundation, and these are the only file operations it needs besides SQLite.
public enum FileAccess {
    public static func readText(_ path: String) throws(FileAccessError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileAccessError(description: "cannot read \(path): \(errnoText()); check the path and permissions") }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileAccessError(description: "cannot read \(path): \(errnoText())")
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Writes `text` to a temporary file beside `path` and renames it over `path`, so a reader
    /// never sees half a file. No fsync: this is for state on tmpfs that is rebuilt on start.
    public static func replace(_ path: String, with text: String) throws(FileAccessError) {
        try replace(path, with: Array(text.utf8), durably: false, mode: 0o644)
    }

    /// Like `replace`, but durable: the temporary file and its folder are fsynced, so after a
    /// power cut `path` holds the old contents or the new, never a mix: for state on the SD card
    /// that must survive a reboot (the store's sequence reservations, a JT/T 808 authentication code).
    public static func replaceDurably(_ path: String, with text: String, mode: mode_t = 0o600) throws(FileAccessError) {
        try replace(path, with: Array(text.utf8), durably: true, mode: mode)
    }

    public static func replaceDurably(_ path: String, with bytes: [UInt8], mode: mode_t) throws(FileAccessError) {
        try replace(path, with: bytes, durably: true, mode: mode)
    }

    private static func replace(_ path: String, with bytes: [UInt8], durably: Bool, mode: mode_t) throws(FileAccessError) {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw FileAccessError(description: "cannot write \(temporary): \(errnoText())") }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = !durably || fsync(fd) == 0
        close(fd)
        guard written == bytes.count, synced else { throw FileAccessError(description: "cannot write and fsync \(temporary): \(errnoText())") }
        guard rename(temporary, path) == 0 else { throw FileAccessError(description: "cannot rename \(temporary) to \(path): \(errnoText())") }
        if durably { try syncFolder(containing: path) }
    }

    /// Renames `source` to `destination` and makes the rename durable.
    public static func moveDurably(_ source: String, to destination: String) throws(FileAccessError) {
        guard rename(source, destination) == 0 else {
            throw FileAccessError(description: "cannot rename \(source) to \(destination): \(errnoText())")
        }
        try syncFolder(containing: destination)
    }

    /// fsyncs the folder holding `path`, so a file created or renamed in it survives a power cut.
    private static func syncFolder(containing path: String) throws(FileAccessError) {
        let folder = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        let fd = open(folder.isEmpty ? "/" : folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw FileAccessError(description: "cannot open folder \(folder): \(errnoText())") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw FileAccessError(description: "cannot fsync folder \(folder): \(errnoText())") }
    }

    /// Creates `path` and its parents when missing.
    public static func makeDirectory(_ path: String) throws(FileAccessError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += part + "/"
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw FileAccessError(description: "cannot create folder \(prefix): \(errnoText()); create it or point the configuration elsewhere")
            }
        }
    }

    public static func errnoText() -> String {
        String(cString: strerror(errno))
    }
}
