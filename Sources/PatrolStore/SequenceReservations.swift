/// Hands out event and track sequence numbers that never repeat: not after a restart, not after
/// a power cut, not after a damaged or emptied database was moved aside and replaced.
///
/// The database alone cannot promise that, since it is exactly what may be lost, and the centre
/// stores each (device, stream, sequence) once: a number used again is taken for a resend and the
/// new record is silently dropped. So numbers are reserved in blocks (hi/lo): before a number
/// beyond the last block is used, a new block's upper end is written to the sidecar file
/// `<database>.seq` (`SequenceFile`, written with `FileSystem.writeDurably`).
///
/// - Events start after the last reserved block at every start, so at most one block of numbers
///   is skipped per restart; numbers are unique, not dense. 1000 per block.
/// - Track points stay dense at an ordinary restart (next = last stored + 1: the database is
///   intact, so it knows). Only a store that replaced a lost one starts after the track
///   reservation (`AgentStore.open` records that floor in the new store), so each replacement
///   leaves one gap. 100,000 per block: one sidecar write per ~28 hours of 1 Hz track.
///
/// One sidecar write per block keeps the extra writes negligible. If the sidecar is missing
/// (first start, or deleted by hand) the database is the floor. Both lost together (a new SD
/// card) cannot be detected here.
struct SequenceReservations {
    static let eventBlockSize: Int64 = 1000
    static let trackBlockSize: Int64 = 100_000

    let path: String
    private var reserved: SequenceFile
    private var nextEvent: Int64

    /// Starts events after both the sidecar's reservation (`file`, as read at `path`) and
    /// `highestStoredEvent`, the largest event sequence in the database.
    init(path: String, file: SequenceFile?, highestStoredEvent: Int64) {
        self.path = path
        reserved = file ?? SequenceFile()
        reserved.events = max(reserved.events, highestStoredEvent)
        nextEvent = reserved.events + 1
    }

    /// The next event sequence number, reserving (durably) a new block first when the current one is used up.
    mutating func takeEvent() throws -> Int64 {
        if nextEvent > reserved.events {
            var file = reserved
            file.events = nextEvent + Self.eventBlockSize - 1
            try file.write(to: path)
            reserved = file
        }
        defer { nextEvent += 1 }
        return nextEvent
    }

    /// Makes sure track sequences through `last` are reserved (durably) before a point with them is
    /// committed: a new block from `last` on when it is beyond the current one.
    mutating func reserveTrack(through last: Int64) throws {
        guard last > reserved.track ?? 0 else { return }
        var file = reserved
        file.track = last + Self.trackBlockSize - 1
        try file.write(to: path)
        reserved = file
    }
}

/// The sidecar `<database>.seq`: the upper end of the last reserved block of each stream, one
/// `<stream> <number>` line each:
///
///     events 4000
///     track 200000
///
/// A file holding one bare number (written before track numbers were reserved) is the events'
/// reservation, with none for the track.
struct SequenceFile: Equatable {
    /// Highest event sequence reserved; 0 when none was.
    var events: Int64 = 0
    /// Highest track sequence reserved; nil when none was (a file from before track reservations).
    var track: Int64?

    /// Beyond any sequence a store reaches (a million points a second for 140,000 years), so a
    /// block can always be added to a value read without overflowing.
    static let maximum: Int64 = 1 << 62

    /// Whether the file shows the store numbered anything (so it held data).
    var reservedAny: Bool { events > 0 || (track ?? 0) > 0 }

    /// E.g. "events through 4000, track through 200000"; what was reserved.
    var summary: String {
        [events > 0 ? "events through \(events)" : nil, track.map { "track through \($0)" }].compactMap { $0 }.joined(separator: ", ")
    }

    /// The file at `path`, nil when there is none.
    static func read(at path: String) throws -> SequenceFile? {
        guard let bytes = try FileSystem.contents(of: path) else { return nil }
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        func unreadable(_ line: Int, _ problem: String) -> StoreError {
            StoreError(code: .file, message: "Sequence file \(path) line \(line): \(problem). Sequence numbers must never "
                + "repeat, so the agent will not guess: restore the file, or write `events <n>` and `track <n>` lines "
                + "into it, each n larger than any sequence of that stream ever sent upstream.")
        }
        func number(_ text: Substring, line: Int) throws -> Int64 {
            guard let value = Int64(text), value >= 0 else { throw unreadable(line, "\"\(text.prefix(40))\" is not a sequence number") }
            guard value <= maximum else { throw unreadable(line, "\(value) is beyond the largest sequence number (\(maximum))") }
            return value
        }
        let meaningful = lines.enumerated().map { (line: $0.offset + 1, words: $0.element.split(whereSeparator: \.isWhitespace)) }
            .filter { !$0.words.isEmpty }
        if meaningful.count == 1, meaningful[0].words.count == 1 {
            return SequenceFile(events: try number(meaningful[0].words[0], line: meaningful[0].line)) // the one-number format
        }
        var file = SequenceFile()
        var seen: Set<Substring> = []
        for (line, words) in meaningful {
            guard words.count == 2, ["events", "track"].contains(words[0]) else {
                throw unreadable(line, "expected `events <number>` or `track <number>`, found \"\(lines[line - 1].prefix(40))\"")
            }
            guard seen.insert(words[0]).inserted else { throw unreadable(line, "`\(words[0])` appears twice") }
            let value = try number(words[1], line: line)
            if words[0] == "events" { file.events = value } else { file.track = value }
        }
        guard !meaningful.isEmpty else { throw unreadable(1, "the file is empty") }
        return file
    }

    func write(to path: String) throws {
        try FileSystem.writeDurably(Array(("events \(events)\n" + (track.map { "track \($0)\n" } ?? "")).utf8), to: path)
    }
}
