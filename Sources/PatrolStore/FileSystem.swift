#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PatrolEdgeSupport

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
    /// the new contents, never a mix (`FileAccess.replaceDurably`: temporary file, fsync, rename,
    /// fsync of the directory).
    static func writeDurably(_ bytes: [UInt8], to path: String) throws {
        do { try FileAccess.replaceDurably(path, with: bytes, mode: 0o644) } catch { throw storeError(error) }
    }

    /// Renames `source` to `destination` and makes the rename durable.
    static func moveDurably(_ source: String, to destination: String) throws {
        do { try FileAccess.moveDurably(source, to: destination) } catch { throw storeError(error) }
    }

    private static func failure(_ operation: String, _ path: String) -> StoreError {
        storeError(FileAccessError(description: "cannot \(operation) \(path): \(FileAccess.errnoText())"))
    }

    private static func storeError(_ error: FileAccessError) -> StoreError {
        StoreError(code: .file, message: error.description.prefix(1).uppercased() + error.description.dropFirst() + ". "
            + "Check that the store's directory exists, is writable by the agent's user, and the disk is not full.")
    }
}
