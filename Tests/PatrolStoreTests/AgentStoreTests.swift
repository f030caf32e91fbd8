import Foundation
import Logging
import PatrolCore
import PatrolStore
import PatrolTestSupport
import Testing

private func point(_ second: Int, lat: Double = 52.5, lon: Double = -13.25) -> TrackPoint {
    TrackPoint(time: UTCTime(year: 2026, month: 5, day: 1, hour: 8).adding(milliseconds: Int64(second) * 1000),
               coordinate: Coordinate(latitude: lat + Double(second) * 1e-5, longitude: lon), mode: .threeD,
               altitudeMSL: 12.3, speed: 13.89, track: 271.25, hdop: 0.9, satellitesUsed: 11)
}

private func event(_ kind: String = "panic") -> EventRecord {
    EventRecord(deviceID: "car-12", kind: kind, time: UTCTime(year: 2026, month: 5, day: 1), timeSource: "gnss",
                position: "current", coordinate: Coordinate(latitude: 52.5, longitude: 13.4), fixAgeMilliseconds: 800,
                inputID: "cts", payload: "{}")
}

private func allPoints(_ store: AgentStore, from: UTCTime? = nil, to: UTCTime? = nil) throws -> [TrackPoint] {
    var points: [TrackPoint] = []
    try store.forEachTrackPoint(from: from, to: to) { points.append($0.point) }
    return points
}

@Suite struct AgentStoreTests {
    let logs = CollectingLogHandler.Store()
    var logger: Logger { Logger(label: "test") { _ in CollectingLogHandler(store: logs) } }

    @Test func pointsComeBackAsWrittenAndSurviveReopening() throws {
        let folder = try TemporaryDirectory()
        let path = folder.path + "/agent.db"
        let written = (0..<5).map { point($0) } + [TrackPoint(time: UTCTime(year: 2026, month: 5, day: 2),
                                                              coordinate: Coordinate(latitude: -33.9, longitude: 151.2), mode: .twoD)]
        try AgentStore.open(path: path, logger: logger).append(written)
        let store = try AgentStore.open(path: path, logger: logger)
        let read = try allPoints(store)
        #expect(read.count == written.count)
        for (a, b) in zip(read, written) {
            #expect(a.time == b.time)
            #expect(abs(a.coordinate.latitude - b.coordinate.latitude) < 1e-7)
            #expect(abs(a.coordinate.longitude - b.coordinate.longitude) < 1e-7)
            #expect(a.mode == b.mode)
            #expect(a.altitudeMSL == b.altitudeMSL)
            #expect(a.speed == b.speed)
            #expect(a.track == b.track)
            #expect(a.hdop == b.hdop)
            #expect(a.satellitesUsed == b.satellitesUsed)
        }
        #expect(try store.integrityCheck() == "ok")
    }

    @Test func timeRangeSelectsHalfOpenInterval() throws {
        let folder = try TemporaryDirectory()
        let store = try AgentStore.open(path: folder.path + "/agent.db", logger: logger)
        try store.append((0..<10).map { point($0) })
        let range = try allPoints(store, from: point(3).time, to: point(6).time)
        #expect(range.map(\.time) == [point(3).time, point(4).time, point(5).time])
    }

    @Test func corruptDatabaseIsMovedAsideAndAFreshOneStarted() throws {
        let folder = try TemporaryDirectory()
        let path = folder.path + "/agent.db"
        try Data(repeating: 0x5A, count: 8192).write(to: URL(fileURLWithPath: path))
        let store = try AgentStore.open(path: path, logger: logger)
        try store.append([point(0)])
        #expect(try allPoints(store).count == 1)
        let aside = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix("agent.db.corrupt-") }
        #expect(aside.count == 1)
        #expect(try store.statistics().counters["corruption-recoveries"] == 1)
        #expect(logs.messages(at: .error).contains { $0.contains("is corrupt") && $0.contains("agent.db.corrupt-") })
    }

    @Test func eventSequenceNumbersNeverRepeatAcrossRestartsAndReplacement() throws {
        let folder = try TemporaryDirectory()
        let path = folder.path + "/agent.db"
        var seen: [Int64] = []
        for _ in 0..<3 {
            let store = try AgentStore.open(path: path, logger: logger)
            seen.append(try store.appendEvent(event()))
            seen.append(try store.appendEvent(event()))
            store.close()
        }
        // The SD card damages the database: the next numbers still follow the old ones.
        try Data(repeating: 0x00, count: 4096).write(to: URL(fileURLWithPath: path))
        try? FileManager.default.removeItem(atPath: path + "-wal")
        let store = try AgentStore.open(path: path, logger: logger)
        seen.append(try store.appendEvent(event()))
        #expect(Set(seen).count == seen.count)
        #expect(seen == seen.sorted())
        let stored = try store.events()
        #expect(stored.map(\.seq) == [seen.last!])
        #expect(stored.first?.record == event())
    }

    @Test func retentionDeletesDeliveredBeforeUndeliveredAndTracksBeforeEvents() throws {
        let folder = try TemporaryDirectory()
        let store = try AgentStore.open(path: folder.path + "/agent.db", logger: logger)
        try store.registerOutput("centre")
        try store.append((0..<3000).map { point($0) })
        for _ in 0..<20 { try store.appendEvent(event()) }
        try store.setProgress(output: "centre", stream: .track, deliveredThrough: 1000)
        try store.setProgress(output: "centre", stream: .event, deliveredThrough: 5)
        let before = try store.statistics()
        // Room for about half: all delivered track goes, then delivered events, then the oldest
        // undelivered track; undelivered events stay.
        let report = try store.applyRetention(RetentionPolicy(maximumBytes: before.bytesOnDisk / 2, maximumAgeDays: 3650),
                                              now: point(3000).time)
        let after = try store.statistics()
        #expect(report.deleted["retention.track.delivered.size"] == 1000)
        #expect(report.deleted["retention.events.delivered.size"] == 5)
        #expect(report.deleted["retention.track.undelivered.size"] ?? 0 > 0)
        #expect(report.deleted["retention.events.undelivered.size"] == nil)
        #expect(after.events == 15)
        var firstSeq: Int64 = 0
        try store.forEachTrackPoint { if firstSeq == 0 { firstSeq = $0.seq } }
        #expect(firstSeq == 1000 + 1 + report.deleted["retention.track.undelivered.size"]!, "the oldest points went first")
        #expect(after.counters["retention.track.delivered.size"] == report.deleted["retention.track.delivered.size"])
        // Age: everything delivered and all track older than the limit goes; undelivered events stay.
        let aged = try store.applyRetention(RetentionPolicy(maximumBytes: 1 << 40, maximumAgeDays: 1),
                                            now: point(3000).time.adding(seconds: 3 * 86_400))
        #expect(aged.total > 0)
        let final = try store.statistics()
        #expect(final.trackPoints == 0)
        #expect(final.events == 15, "the 15 undelivered events are kept")
        #expect(try store.integrityCheck() == "ok")
    }
}

@Suite struct TrackPointBatcherTests {
    let logger = CollectingLogHandler.logger().0

    @Test func commitsOncePerWindowAndOnShutdown() async throws {
        let folder = try TemporaryDirectory()
        let store = try AgentStore.open(path: folder.path + "/agent.db", logger: logger)
        let batcher = TrackPointBatcher(store: store, window: .milliseconds(300), logger: logger)
        let runner = Task { await batcher.run() }
        for s in 0..<5 { await batcher.append(point(s)) }
        #expect(try store.statistics().trackPoints == 0, "nothing is written before the window ends")
        #expect(await eventually(timeout: .seconds(3)) { (try? store.statistics().trackPoints) == 5 })
        await batcher.append(point(5))
        runner.cancel()
        await runner.value
        #expect(try store.statistics().trackPoints == 6, "shutdown commits what is pending")
    }

    @Test func commitsEarlyWhenTheBatchIsFull() async throws {
        let folder = try TemporaryDirectory()
        let store = try AgentStore.open(path: folder.path + "/agent.db", logger: logger)
        let batcher = TrackPointBatcher(store: store, window: .seconds(3600), maximumBatch: 10, logger: logger)
        for s in 0..<25 { await batcher.append(point(s)) }
        #expect(try store.statistics().trackPoints == 20)
        #expect(await batcher.pendingCount == 5)
    }
}
