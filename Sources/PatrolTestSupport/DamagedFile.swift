import Foundation

/// Damage done to a file on purpose, as a failing SD card or a cut write does it.
public enum DamagedFile {
    /// Overwrites `pages` whole pages of `pageSize` bytes in the middle of the file with a pattern
    /// that is no valid page: structures on them break (SQLite's quick_check fails) while pages
    /// elsewhere, e.g. rows written long before, stay readable.
    public static func overwriteMiddlePages(of path: String, pageSize: Int, pages: Int = 4) throws {
        try overwritePages(of: path, pageSize: pageSize, pages: pages) { size in size / pageSize / 2 }
    }

    /// Overwrites the last `pages` pages like `overwriteMiddlePages`: in a store written in
    /// order, those hold the newest rows, so what is lost is the newest data.
    public static func overwriteLastPages(of path: String, pageSize: Int, pages: Int = 4) throws {
        try overwritePages(of: path, pageSize: pageSize, pages: pages) { size in max(0, size / pageSize - pages) }
    }

    /// Overwrites `pages` pages from the page `firstPage` picks for the file's size.
    private static func overwritePages(of path: String, pageSize: Int, pages: Int, firstPage: (Int) -> Int) throws {
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        let size = Int(try handle.seekToEnd())
        try handle.seek(toOffset: UInt64(firstPage(size) * pageSize))
        handle.write(Data((0..<(pageSize * pages)).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 0xA5) }))
        try handle.synchronize()
    }
}
