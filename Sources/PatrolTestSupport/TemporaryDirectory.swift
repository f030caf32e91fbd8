#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A fresh directory on the real file system for one test, removed with its contents by
/// `remove()` (or kept, for a post-mortem, by not calling it).
///
/// Created under `$TMPDIR` (or `/tmp`) with `mkdtemp`, so tests running in parallel never share one.
public struct TemporaryDirectory: Sendable {
    public let path: String

    public init(prefix: String = "patrol-test") throws {
        let base = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        var template = Array("\(base)/\(prefix)-XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard created != nil else { throw TemporaryDirectoryError(errno: errno, path: base) }
        path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// `path/name`.
    public func file(_ name: String) -> String { path + "/" + name }

    /// Names of the entries directly inside the directory, sorted.
    public func entries() -> [String] {
        Self.entries(of: path).sorted()
    }

    /// Deletes the directory and everything under it.
    public func remove() {
        Self.removeTree(path)
    }

    private static func removeTree(_ path: String) {
        var status = stat()
        if lstat(path, &status) == 0, status.st_mode & S_IFMT == S_IFDIR {
            for name in entries(of: path) { removeTree(path + "/" + name) }
            rmdir(path)
        } else {
            unlink(path)
        }
    }

    private static func entries(of path: String) -> [String] {
        guard let directory = opendir(path) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name != ".", name != ".." { names.append(name) }
        }
        return names
    }
}

public struct TemporaryDirectoryError: Error, CustomStringConvertible {
    public let errno: Int32
    public let path: String
    public var description: String { "cannot create a temporary directory in \(path): \(String(cString: strerror(errno)))" }
}
