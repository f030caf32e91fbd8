import Foundation
import PatrolSQLite
import PatrolCore
import PatrolTestSupport
import Testing
@testable import PatrolStore

/// Delivery progress costs no commit of its own: it is seen at once, and reaches the disk with the
/// store's next commit. What the disk holds is read from a copy of the files, which is what a board
/// would find after a power cut at that moment.
@Suite struct DeliveryProgressTests {
    @Test func progressRidesOnTheNextCommitAndIsSeenAtOnce() throws {
        let fixture = try StoreFixture()
        let store = try fixture.open()
        try store.registerOutput("centre", streams: [.track, .event])
        try store.append(points(0..<10))
        let walBefore = try walBytes(fixture.path)

        try store.recordDelivery(output: "centre", track: 10, event: nil, deadLetters: [], at: baseTime)
        #expect(try store.progress(output: "centre", stream: .track) == 10)
        #expect(try walBytes(fixture.path) == walBefore, "recording progress alone wrote to the WAL")
        #expect(try progressAfterPowerCut(fixture, output: "centre") == 0, "registered at nothing delivered, no further")

        try store.append(points(10..<20))
        #expect(try progressAfterPowerCut(fixture, output: "centre") == 10)
    }

    @Test func deadLettersAreCommittedAtOnceWithTheProgress() throws {
        let fixture = try StoreFixture()
        let store = try fixture.open()
        try store.registerOutput("centre", streams: [.track, .event])
        try store.append(points(0..<10))
        try store.recordDelivery(output: "centre", track: 5, event: nil, deadLetters: [], at: baseTime)
        let refused = DeadLetter(stream: .track, sequence: 6, reason: "time in the future")
        try store.recordDelivery(output: "centre", track: 6, event: nil, deadLetters: [refused], at: baseTime)
        #expect(try progressAfterPowerCut(fixture, output: "centre") == 6)
        #expect(try store.backlog(output: "centre").deadLetters == 1)
    }

    @Test func progressIsCommittedWhenTheAgentStops() throws {
        let fixture = try StoreFixture()
        let store = try fixture.open()
        try store.registerOutput("centre", streams: [.track, .event])
        try store.append(points(0..<10))
        try store.recordDelivery(output: "centre", track: 10, event: nil, deadLetters: [], at: baseTime)
        try store.commitDeliveryProgress()
        #expect(try progressAfterPowerCut(fixture, output: "centre") == 10)
    }

    private func walBytes(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0
    }

    /// The track progress a fresh process would read from the files as they are on disk now; nil
    /// when the output has no committed progress row.
    private func progressAfterPowerCut(_ fixture: borrowing StoreFixture, output: String) throws -> Int64? {
        let copy = fixture.directory.file("after-power-cut.db")
        for suffix in ["", "-wal"] {
            try? FileManager.default.removeItem(atPath: copy + suffix)
            try FileManager.default.copyItem(atPath: fixture.path + suffix, toPath: copy + suffix)
        }
        let connection = try SQLiteConnection(path: copy)
        return try connection.statement("SELECT last_delivered FROM delivery_progress WHERE output = ? AND stream = 'track'")
            .firstRow(output) { $0.int64(0) }
    }
}
