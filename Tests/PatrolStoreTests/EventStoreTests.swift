import PatrolCore
import PatrolTestSupport
import Testing
@testable import PatrolStore

@Suite struct EventStoreTests {
    @Test func eventsReadBackInOrder() throws {
        let fixture = try StoreFixture()
        let store = try fixture.open()
        let first = try store.appendEvent(event("alarm"))
        var bare = event("fault", second: 5)
        bare.coordinate = nil
        bare.fixAgeMilliseconds = nil
        bare.buttonID = nil
        let second = try store.appendEvent(bare)

        let read = try store.events(since: 0)
        #expect(read.map(\.sequence) == [first, second])
        #expect(read.map(\.record) == [event("alarm"), bare])
        #expect(try store.events(since: first).map(\.sequence) == [second])
    }

    @Test func sequenceNumbersNeverRepeatAcrossReopenAndReplacement() throws {
        let fixture = try StoreFixture()
        var seen: [Int64] = []
        do {
            let store = try fixture.open()
            for _ in 0..<3 { seen.append(try store.appendEvent(event())) }
        }
        do {
            let store = try fixture.open()
            seen.append(try store.appendEvent(event()))
        }
        // The database is lost to corruption; the sidecar survives beside it.
        try FileSystem.writeDurably(Array(repeating: 0x5A, count: 4096), to: fixture.path)
        do {
            let store = try fixture.open()
            #expect(try store.statistics().corruptionRecoveries == 1)
            #expect(try store.events(since: 0).isEmpty)
            seen.append(try store.appendEvent(event()))
        }
        #expect(Set(seen).count == seen.count)
        #expect(seen == seen.sorted())
        #expect(FileSystem.exists(fixture.path + ".seq"))
    }

    /// A sequence file written before track numbers were reserved (one number: the events') still
    /// opens the store, and numbering goes on after it; the next track reservation keeps it.
    @Test func aOneNumberSequenceFileFromBeforeTrackReservationsIsTheEventReservation() throws {
        let fixture = try StoreFixture()
        try FileSystem.writeDurably(Array("4000\n".utf8), to: fixture.path + ".seq")
        let store = try fixture.open()
        #expect(try store.appendEvent(event()) == 4001)
        try store.append(points(0..<3))
        #expect(try allPoints(store).map(\.sequence) == [1, 2, 3])
        #expect(try SequenceFile.read(at: fixture.path + ".seq")
            == SequenceFile(events: 4000 + SequenceReservations.eventBlockSize, track: 2 + SequenceReservations.trackBlockSize))
    }

    /// A sequence file the agent cannot read is refused, naming the file, the line and what to write.
    @Test(arguments: [("events 12\ntrack x\n", "line 2: \"x\" is not a sequence number"),
                      ("events 12\nposition 3\n", "line 2: expected `events <number>` or `track <number>`"),
                      ("events 1\nevents 2\n", "line 2: `events` appears twice"),
                      ("track 9223372036854775807\n", "line 1: 9223372036854775807 is beyond the largest sequence number"),
                      ("\n", "line 1: the file is empty")])
    func anUnreadableSequenceFileIsRefusedNamingTheLine(_ contents: String, _ problem: String) throws {
        let fixture = try StoreFixture()
        try FileSystem.writeDurably(Array(contents.utf8), to: fixture.path + ".seq")
        let error = try #require(throws: StoreError.self) { try fixture.open() }
        #expect(error.message.contains("Sequence file \(fixture.path).seq \(problem)"), "\(error.message)")
        #expect(error.message.contains("write `events <n>` and `track <n>` lines"), "\(error.message)")
    }

    @Test func progressIsPerOutputAndStreamAndNeverMovesBack() throws {
        let fixture = try StoreFixture()
        let store = try fixture.open()
        try store.registerOutput("centre")
        #expect(try store.progress(output: "centre", stream: .track) == 0)
        try store.setProgress(output: "centre", stream: .track, delivered: 40)
        try store.setProgress(output: "centre", stream: .track, delivered: 30)
        try store.setProgress(output: "backup", stream: .event, delivered: 7)
        #expect(try store.progress(output: "centre", stream: .track) == 40)
        #expect(try store.progress(output: "centre", stream: .event) == 0)
        #expect(try store.progress(output: "backup", stream: .event) == 7)
        #expect(try store.progress(output: "backup", stream: .track) == 0)
    }
}
