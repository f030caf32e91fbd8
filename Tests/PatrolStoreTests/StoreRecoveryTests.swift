import Foundation
import PatrolCore
import PatrolTestSupport
import Testing
@testable import PatrolStore

/// A store that held data is never started over silently, and what a damaged one still holds is
/// copied into the new one: real SQLite files, damaged as storage damages them.
@Suite struct StoreRecoveryTests {
    /// A store emptied to 0 bytes (a cut write, a full disk) used to be taken as a new store: no
    /// log line, nothing moved aside, "corruption recoveries: 0", three stored panics gone.
    @Test func anEmptiedStoreIsMovedAsideLoggedAndCounted() throws {
        let fixture = try StoreFixture()
        var sequences: [Int64] = []
        do {
            let store = try fixture.open()
            for second in 0..<3 { sequences.append(try store.appendEvent(event("panic", second: second))) }
        }
        try FileSystem.writeDurably([], to: fixture.path)

        let (logger, logs) = CollectingLogHandler.logger()
        let store = try AgentStore.open(path: fixture.path, logger: logger)
        let aside = fixture.directory.entries().filter { $0.hasPrefix("agent.db.empty-") && !$0.hasSuffix("-wal") && !$0.hasSuffix("-shm") }
        #expect(aside.count == 1)
        let asidePath = fixture.directory.file(aside.first ?? "")
        let errors = logs.messages(at: .error)
        #expect(errors.count == 1)
        #expect(errors.first.map { $0.contains(fixture.path) && $0.contains(asidePath) && $0.contains("empty") } == true, "\(errors)")
        let statistics = try store.statistics()
        #expect(statistics.emptyStoreRecoveries == 1)
        #expect(statistics.lastRecovery?.contains(asidePath) == true, "\(statistics.lastRecovery ?? "nil")")
        // The agent carries on, and its numbers still never repeat.
        let next = try store.appendEvent(event("panic"))
        #expect(next > sequences.max()!)
        #expect(try store.integrityCheck() == "ok")
    }

    /// A store removed while its sequence file stays is said so, once, and counted.
    @Test func aMissingStoreThatHeldEventsIsLoggedAndCounted() throws {
        let fixture = try StoreFixture()
        do { _ = try fixture.open().appendEvent(event("panic")) }
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: fixture.path + suffix) }

        let (logger, logs) = CollectingLogHandler.logger()
        do {
            let store = try AgentStore.open(path: fixture.path, logger: logger)
            let errors = logs.messages(at: .error)
            #expect(errors.count == 1 && errors[0].contains("missing") && errors[0].contains(fixture.path + ".seq"), "\(errors)")
            #expect(try store.statistics().emptyStoreRecoveries == 1)
        }
        let reopened = try AgentStore.open(path: fixture.path, logger: logger)
        #expect(try reopened.statistics().emptyStoreRecoveries == 1)
        #expect(logs.messages(at: .error).count == 1, "said once, not at every start")
    }

    /// A store damaged in its pages used to be moved aside with its undelivered alarms in it for ever.
    @Test func aStoreDamagedInItsPagesGivesItsReadableEventsToTheNewOne() throws {
        let fixture = try StoreFixture()
        var stored: [StoredEvent] = []
        do {
            let store = try fixture.open()
            for second in 0..<3 {
                let record = event("panic", second: second)
                stored.append(StoredEvent(sequence: try store.appendEvent(record), record: record))
            }
            try store.registerOutput("centre")
            try store.setProgress(output: "centre", stream: .event, delivered: stored[0].sequence)
            for batch in 0..<300 { try store.append(points((batch * 10)..<(batch * 10 + 10))) }
        }
        try DamagedFile.overwriteMiddlePages(of: fixture.path, pageSize: Schema.pageSize)

        let (logger, logs) = CollectingLogHandler.logger()
        let store = try AgentStore.open(path: fixture.path, logger: logger)
        #expect(try store.events(since: 0) == stored, "every event keeps its sequence number and content")
        #expect(try store.progress(output: "centre", stream: .event) == stored[0].sequence)
        let statistics = try store.statistics()
        #expect(statistics.corruptionRecoveries == 1)
        #expect(statistics.salvagedEvents == 3)
        #expect(statistics.salvagedTrackPoints > 0 && statistics.salvagedTrackPoints < 3000, "\(statistics.salvagedTrackPoints)")
        #expect(statistics.lastRecovery?.contains("3 events") == true, "\(statistics.lastRecovery ?? "nil")")
        let aside = fixture.directory.entries().filter { $0.hasPrefix("agent.db.corrupt-") && !$0.hasSuffix("-wal") && !$0.hasSuffix("-shm") }
        #expect(aside.count == 1)
        let errors = logs.messages(at: .error)
        #expect(errors.count == 1 && errors[0].contains(fixture.directory.file(aside.first ?? "")) && errors[0].contains("3 events"), "\(errors)")
        #expect(try store.integrityCheck() == "ok")
    }
}
