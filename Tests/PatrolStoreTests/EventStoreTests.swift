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
