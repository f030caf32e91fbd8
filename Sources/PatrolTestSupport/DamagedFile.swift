import Foundation

/// Damage done to a file on purpose, as a failing SD card or a cut write does it.
public enum DamagedFile {
    /// Overwrites `pages` whole pages of `pageSize` bytes in the middle of the file with a pattern
    /// that is no valid page: structures on them break (SQLite's quick_check fails) while pages
    /// elsewhere, e.g. rows written long before, stay readable.
    public static func overwriteMiddlePages(of path: String, pageSize: Int, pages: Int = 4) throws {
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        let size = Int(try handle.seekToEnd())
        let firstPage = size / pageSize / 2
        try handle.seek(toOffset: UInt64(firstPage * pageSize))
        handle.write(Data((0..<(pageSize * pages)).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 0xA5) }))
        try handle.synchronize()
    }
}
