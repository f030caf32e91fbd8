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
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileAccessError(description: "cannot write \(temporary): \(errnoText())") }
        var utf8 = Array(text.utf8)
        let written = utf8.withUnsafeMutableBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == utf8.count, rename(temporary, path) == 0 else {
            throw FileAccessError(description: "cannot write \(path): \(errnoText())")
        }
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
