import PatrolCore
import PatrolTestSupport
import Testing
@testable import PatrolStore

@Suite struct StoreOpeningTests {
    @Test func freshFileIsMigratedWithItsSettingsAndReopens() throws {
        let fixture = try StoreFixture()
        for _ in 0..<2 {
            let store = try fixture.open()
            let settings = try store.state.withLock { state in
                let connection = state.connection
                return (version: try connection.integer("PRAGMA user_version"),
                        pageSize: try connection.integer("PRAGMA page_size"),
                        autoVacuum: try connection.integer("PRAGMA auto_vacuum"),
                        synchronous: try connection.integer("PRAGMA synchronous"),
                        journal: try connection.statement("PRAGMA journal_mode").firstRow { $0.text(0) })
            }
            #expect(settings.version == Int64(Schema.migrations.count))
            #expect(settings.pageSize == Int64(Schema.pageSize))
            #expect(settings.autoVacuum == 2) // incremental
            #expect(settings.synchronous == 2) // full
            #expect(settings.journal == "wal")
            #expect(try store.integrityCheck() == "ok")
            #expect(!FileSystem.exists(fixture.path + "-shm")) // exclusive locking keeps the WAL index in memory
        }
    }

    @Test func newerSchemaIsAClearError() throws {
        let fixture = try StoreFixture()
        do {
            let store = try fixture.open()
            try store.state.withLock { try $0.connection.executeScript("PRAGMA user_version=99") }
        }
        let error = try #require(throws: StoreError.self) { try fixture.open() }
        #expect(error.code == .schemaTooNew)
        #expect(error.message.contains(fixture.path))
        #expect(error.message.contains("99"))
    }

    @Test func corruptFileIsMovedAsideReplacedAndCounted() throws {
        let fixture = try StoreFixture()
        let garbage = [UInt8]((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        try FileSystem.writeDurably(garbage, to: fixture.path)

        let store = try fixture.open()
        let statistics = try store.statistics()
        #expect(statistics.corruptionRecoveries == 1)
        #expect(statistics.pointsStored == 0)
        #expect(try store.integrityCheck() == "ok")
        let aside = fixture.directory.entries().filter { $0.hasPrefix("agent.db.corrupt-") }
        #expect(aside.count == 1)
        #expect(try FileSystem.contents(of: fixture.directory.file(aside[0])) == garbage)
        try store.append([point(0)])
        #expect(try store.statistics().pointsStored == 1)
    }

    @Test func errorsNameTheFileAndTheSQL() throws {
        let fixture = try StoreFixture()
        let store = try fixture.open()
        let error = try #require(throws: StoreError.self) {
            try store.locked { try $0.connection.statement("SELECT nope FROM nowhere").execute() }
        }
        #expect(error.message.contains(fixture.path))
        #expect(error.message.contains("SELECT nope FROM nowhere"))
    }

    /// An operator's command while the agent holds the store must answer within its short wait
    /// with the reason, not hang (each open attempt used to wait out SQLite's busy timeout, so
    /// the 30 s wait took minutes).
    @Test func aHeldStoreIsReportedWithinTheWait() throws {
        let fixture = try StoreFixture()
        let holder = try fixture.open()
        try holder.append([point(0)])
        let started = ContinuousClock.now
        let error = try #require(throws: StoreError.self) {
            try AgentStore.open(path: fixture.path, logger: .init(label: "test"), lockWaitSeconds: 1)
        }
        let waited = ContinuousClock.now - started
        #expect(error.isLocked)
        #expect(error.message.contains("Another process holds the database"))
        #expect(waited >= .seconds(1) && waited < .seconds(3), "waited \(waited)")
    }
}
