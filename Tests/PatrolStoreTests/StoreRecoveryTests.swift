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
            for second in 0..<3 { sequences.append(try store.appendEvent(event(.panic(silent: false), second: second))) }
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
        let next = try store.appendEvent(event(.panic(silent: false)))
        #expect(next > sequences.max()!)
        #expect(try store.integrityCheck() == "ok")
    }

    /// A store removed while its sequence file stays is said so, once, and counted.
    @Test func aMissingStoreThatHeldEventsIsLoggedAndCounted() throws {
        let fixture = try StoreFixture()
        do { _ = try fixture.open().appendEvent(event(.panic(silent: false))) }
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
                let record = event(.panic(silent: false), second: second)
                stored.append(StoredEvent(sequence: try store.appendEvent(record), event: record))
            }
            try store.registerOutput("centre", streams: [.track, .event])
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

    /// How a store was lost before the agent started again.
    enum Loss: String, CaseIterable, CustomTestStringConvertible {
        case emptied, missing, damagedInItsPages, damagedAtItsEnd
        var testDescription: String { rawValue }

        func inflict(on fixture: borrowing StoreFixture) throws {
            switch self {
            case .emptied: try FileSystem.writeDurably([], to: fixture.path)
            case .missing: for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: fixture.path + suffix) }
            case .damagedInItsPages: try DamagedFile.overwriteMiddlePages(of: fixture.path, pageSize: Schema.pageSize)
            case .damagedAtItsEnd: try DamagedFile.overwriteLastPages(of: fixture.path, pageSize: Schema.pageSize)
            }
        }
    }

    /// `status`, `events` or `export` run just as the agent starts used to do the recovery
    /// themselves (moving the file aside in the command's process, logged on its terminal, not in
    /// the agent's journal). A command only says what is wrong; the agent recovers.
    @Test(arguments: Loss.allCases)
    func aCommandLeavesTheRecoveryToTheAgent(_ loss: Loss) throws {
        let fixture = try StoreFixture()
        do { _ = try fixture.open().appendEvent(event(.panic(silent: false))) }
        try loss.inflict(on: fixture)
        let before = fixture.directory.entries().sorted()
        #expect {
            try AgentStore.open(path: fixture.path, logger: .init(label: "status"), lockWaitSeconds: AgentStore.commandLockWaitSeconds,
                                recovering: false)
        } throws: { error in
            "\(error)".contains(fixture.path) && "\(error)".contains("Start the agent")
        }
        #expect(fixture.directory.entries().sorted() == before, "nothing moved aside or created")
        let (logger, logs) = CollectingLogHandler.logger()
        _ = try AgentStore.open(path: fixture.path, logger: logger)
        #expect(logs.messages(at: .error).count == 1, "the agent recovers and says so")
    }

    /// The track of a replaced store used to be numbered again from after the highest point
    /// salvaged (from 1 after an emptied or missing store): numbers the centre already held, so it
    /// took the new points for resends and dropped them. Now numbering resumes after the sequence
    /// file's track reservation, also when the agent restarts before recording anything new.
    @Test(arguments: Loss.allCases)
    func trackRecordedAfterAReplacedStoreIsNumberedAboveEveryEarlierNumber(_ loss: Loss) throws {
        let fixture = try StoreFixture()
        var used: Int64 = 0
        do {
            let store = try fixture.open() // track only: the sequence file shows it held data all the same
            for batch in 0..<300 { try store.append(points((batch * 10)..<(batch * 10 + 10))) }
            used = try store.lastTrackSequence()
        }
        let reserved = try #require(try SequenceFile.read(at: fixture.path + ".seq")?.track)
        #expect(reserved >= used)
        try loss.inflict(on: fixture)

        do { _ = try fixture.open() } // recovers, then stops before recording anything
        let store = try fixture.open()
        try store.append(points(5000..<5010))
        let new = try allPoints(store).filter { $0.point.time >= point(5000).time }.map(\.sequence)
        #expect(new == Array((reserved + 1)...(reserved + 10)), "above every number reserved before: \(reserved)")
    }

    /// Numbering stays dense at an ordinary restart (no gap, nothing for status to explain), and
    /// the sequence file is written once per block of track, not per commit or per start.
    @Test func anOrdinaryRestartKeepsTrackNumberingDenseAndTheSequenceFileUntouched() throws {
        let fixture = try StoreFixture()
        let sequenceFile = fixture.path + ".seq"
        func inode() throws -> UInt64? {
            (try FileManager.default.attributesOfItem(atPath: sequenceFile)[.systemFileNumber] as? NSNumber)?.uint64Value
        }
        do { try fixture.open().append(points(0..<10)) }
        let written = try inode()
        #expect(try SequenceFile.read(at: sequenceFile)?.track == 10 + SequenceReservations.trackBlockSize - 1)
        for restart in 1...3 {
            let store = try fixture.open()
            for batch in 0..<10 { try store.append(points((restart * 100 + batch * 10)..<(restart * 100 + batch * 10 + 10))) }
        }
        let store = try fixture.open()
        #expect(try allPoints(store).map(\.sequence) == Array(1...310))
        #expect(try store.statistics().pointsStored == 310)
        #expect(try inode() == written, "the sequence file was not replaced again within the block")
    }

    /// Everything that reads track sequences takes the gap a replaced store leaves, and the holes a
    /// salvage leaves: the uplink's next points, the backlog, the statistics, export, retention.
    @Test func readersOfTheTrackCountAndDeliverAcrossTheGap() throws {
        let fixture = try StoreFixture()
        do {
            let store = try fixture.open()
            _ = try store.appendEvent(event(.panic(silent: false)))
            for batch in 0..<300 { try store.append(points((batch * 10)..<(batch * 10 + 10))) }
            try store.setProgress(output: "centre", stream: .track, delivered: 100)
        }
        let reserved = try #require(try SequenceFile.read(at: fixture.path + ".seq")?.track)
        try DamagedFile.overwriteMiddlePages(of: fixture.path, pageSize: Schema.pageSize)

        let store = try fixture.open()
        let salvaged = try allPoints(store)
        #expect(!salvaged.isEmpty && salvaged.count < 3000, "\(salvaged.count)")
        try store.append(points(5000..<5050))
        let stored = try allPoints(store)
        #expect(stored.count == salvaged.count + 50)
        #expect(stored.suffix(50).map(\.sequence) == Array((reserved + 1)...(reserved + 50)))
        #expect(try store.statistics().pointsStored == Int64(stored.count))
        let undelivered = stored.filter { $0.sequence > 100 }
        #expect(try store.backlog(output: "centre").trackPending == Int64(undelivered.count))
        #expect(try store.trackRecords(after: 100, limit: 100_000) == undelivered.map { TrackRecord(sequence: UInt64($0.sequence), point: $0.point) })
        let lastSalvaged = try #require(salvaged.last?.sequence)
        #expect(try store.trackRecords(after: lastSalvaged, limit: 10).map { Int64($0.sequence) } == Array((reserved + 1)...(reserved + 10)))
        try store.setProgress(output: "centre", stream: .track, delivered: lastSalvaged)
        #expect(try store.backlog(output: "centre").trackPending == 50)

        // Age retention removes the salvaged prefix across the gap; numbering goes on after it.
        _ = try store.applyRetention(RetentionPolicy(maxAge: .seconds(60)), now: point(5100).time)
        #expect(try store.statistics().pointsStored == 50)
        #expect(try store.backlog(output: "centre").trackPending == 50)
        try store.append(points(5050..<5051))
        #expect(try store.lastTrackSequence() == reserved + 51)
    }
}
