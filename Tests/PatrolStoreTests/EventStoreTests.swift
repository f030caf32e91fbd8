import PatrolCore
import PatrolSQLite
import PatrolTestSupport
import Testing
@testable import PatrolStore

@Suite struct EventStoreTests {
    @Test func eventsReadBackInOrder() throws {
        let fixture = try StoreFixture()
        let store = try fixture.open()
        let first = try store.appendEvent(event(.panic(silent: false)))
        var bare = event(.fault(.gpsLost), second: 5)
        bare.position = .none
        bare.inputID = nil
        var tag = event(.checkIn(.tag(id: "04A1B2C3")), second: 6)
        tag.position = .lastKnown(Coordinate(latitude: 47.5, longitude: 8.25), ageMilliseconds: 90_000)
        tag.time.source = .systemUntrusted
        let second = try store.appendEvent(bare)
        let third = try store.appendEvent(tag)

        let read = try store.events(since: 0, limit: 10)
        #expect(read.map(\.sequence) == [first, second, third])
        #expect(read.map(\.event) == [event(.panic(silent: false)), bare, tag], "the typed event comes back: kind, detail, fix label")
        #expect(try store.events(since: first, limit: 10).map(\.sequence) == [second, third])
    }

    /// Who is on duty survives a power cut: a badge is signed on at a reader when its last duty
    /// event there signed on, whatever happened at other readers and across reopening the store.
    @Test func badgesSignedOnAreTheLastDutyEventAtEachReader() throws {
        let fixture = try StoreFixture()
        func duty(_ change: DutyChange, _ badge: String, at reader: String, second: Int) throws {
            var read = event(.duty(change, badge: badge), second: second)
            read.inputID = reader
            try fixture.open().appendEvent(read)
        }
        try duty(.signOn, "0011223344", at: "cab", second: 1)
        try duty(.signOn, "5566778899", at: "cab", second: 2)
        try duty(.signOff, "0011223344", at: "cab", second: 3)
        try duty(.signOn, "0011223344", at: "gate", second: 4)
        try duty(.signOn, "AABBCCDDEE", at: "cab", second: 5)
        try duty(.signOff, "AABBCCDDEE", at: "cab", second: 6)
        try duty(.signOn, "AABBCCDDEE", at: "cab", second: 7)

        let reopened = try fixture.open()
        #expect(try reopened.badgesSignedOn(reader: "cab") == ["5566778899", "AABBCCDDEE"])
        #expect(try reopened.badgesSignedOn(reader: "gate") == ["0011223344"])
        #expect(try reopened.badgesSignedOn(reader: "boot") == [])
    }

    /// Events stored before schema 2 kept the tag id and the fix label only in their JSON payload;
    /// the migration gives them their columns, so they read back typed like new ones.
    @Test func eventsStoredBeforeTypedColumnsReadBackTyped() throws {
        let fixture = try StoreFixture()
        do {
            let connection = try SQLiteConnection(path: fixture.path)
            try connection.executeScript(Schema.migrations[0] + "PRAGMA user_version=1;")
            try connection.executeScript("""
                INSERT INTO event(sequence, device_id, kind, time, time_source, latitude_e7, longitude_e7, fix_age_ms, button_id, payload)
                VALUES (1, 'car-17', 'check-in.tag', 1764144000000, 'gnss', 475000000, 82500000, 90000, 'reader-1',
                        '{"kind":"check-in.tag","fix":"last-known","tag":"04A1B2C3"}'),
                       (2, 'car-17', 'panic', 1764144001000, 'system-untrusted', NULL, NULL, NULL, 'panic-1',
                        '{"kind":"panic","fix":"none"}');
                """)
        }
        let store = try fixture.open()
        let events = try store.events(since: 0, limit: 10).map(\.event)
        #expect(events.map(\.kind) == [.checkIn(.tag(id: "04A1B2C3")), .panic(silent: false)])
        #expect(events.first?.position == .lastKnown(Coordinate(latitude: 47.5, longitude: 8.25), ageMilliseconds: 90_000))
        #expect(events.last?.position == EventPosition.none)
        #expect(events.last?.time.source == .systemUntrusted)
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
        try store.registerOutput("centre", streams: [.track, .event])
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
