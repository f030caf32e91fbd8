/// Hands out event sequence numbers that never repeat: not after a restart, not after a power
/// cut, not after a corrupt database was moved aside and replaced by an empty one.
///
/// The database alone cannot promise that, since it is exactly what may be lost. So numbers are
/// reserved in blocks (hi/lo): before the first number of a block is used, the block's upper end
/// is written to a small sidecar file `<database>.seq` (temporary file, fsync, rename, fsync of
/// the directory). A new process starts after the last reserved block, whatever the database
/// holds, so at most one block of numbers is skipped per restart; numbers are unique, not dense.
/// One sidecar write per `blockSize` events keeps the extra writes negligible.
///
/// If the sidecar is missing (first start, or deleted by hand) the highest sequence in the
/// database is the floor. Both lost together (a new SD card) cannot be detected here.
struct EventSequenceReservation {
    static let blockSize: Int64 = 1000

    let path: String
    private var next: Int64
    private var reservedThrough: Int64

    /// Starts after both the sidecar's reservation and `highestStored`, the largest sequence in
    /// the database.
    init(path: String, highestStored: Int64) throws {
        self.path = path
        let reserved = try Self.readReservation(at: path) ?? 0
        reservedThrough = max(reserved, highestStored)
        next = reservedThrough + 1
    }

    /// The next sequence number, reserving (durably) a new block first when the current one is used up.
    mutating func take() throws -> Int64 {
        if next > reservedThrough {
            let end = next + Self.blockSize - 1
            try FileSystem.writeDurably(Array("\(end)\n".utf8), to: path)
            reservedThrough = end
        }
        defer { next += 1 }
        return next
    }

    /// The upper end of the last reserved block, nil when there is no sequence file.
    static func readReservation(at path: String) throws -> Int64? {
        guard let bytes = try FileSystem.contents(of: path) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self).filter { !$0.isWhitespace }
        guard let value = Int64(text), value >= 0 else {
            throw StoreError(code: .file, message: "Event sequence file \(path) is unreadable (\"\(text.prefix(40))\"). "
                + "Sequence numbers must never repeat, so the agent will not guess: restore the file, or write "
                + "a number larger than any event sequence ever sent upstream into it.")
        }
        return value
    }
}
