import PatrolCore
import Testing
@testable import PatrolStore

@Suite struct RetentionTests {
    private func kind(_ stream: StoreStream, _ reason: RetentionReason, delivered: Bool) -> DeletionKind {
        DeletionKind(stream: stream, reason: reason, wasDelivered: delivered)
    }

    @Test func sizeLimitDeletesDeliveredBeforeUndeliveredTracksBeforeEventsOldestFirst() throws {
        let fixture = try StoreFixture()
        let store = try fixture.open()
        try store.registerOutput("centre", streams: [.track, .event])
        for start in stride(from: 0, to: 2000, by: 10) { try store.append(points(start..<(start + 10))) } // 200 chunks
        let events = try (0..<3).map { _ in try store.appendEvent(event()) }
        try store.setProgress(output: "centre", stream: .track, delivered: 10) // the first chunk
        try store.setProgress(output: "centre", stream: .event, delivered: events[0])

        // Just over the limit: one delivered chunk and one delivered event free no page, so it
        // goes on to the oldest undelivered chunks, one step of 64, and stops there.
        let limit = try store.statistics().liveDataBytes - 1
        let report = try store.applyRetention(RetentionPolicy(maxDatabaseBytes: limit), now: baseTime)

        #expect(report.deleted == [
            kind(.track, .size, delivered: true): 10,
            kind(.event, .size, delivered: true): 1,
            kind(.track, .size, delivered: false): 640,
        ])
        #expect(try allPoints(store).first?.sequence == 651)
        #expect(try store.events(since: 0).map(\.sequence) == Array(events.dropFirst()))
        #expect(try store.statistics().liveDataBytes <= limit)
        #expect(try store.statistics().deletions == report.deleted)
    }

    /// An alarm receiver takes no track, so its progress must not keep the whole track for ever;
    /// and an output removed from the configuration no longer holds anything back.
    @Test func onlyOutputsThatForwardAStreamAndAreStillConfiguredHoldItBack() throws {
        let fixture = try StoreFixture()
        let store = try fixture.open()
        try store.registerOutput("centre", streams: [.track, .event])
        try store.registerOutput("arc", streams: [.event])
        try store.registerOutput("removed", streams: [.track, .event])
        for start in stride(from: 0, to: 100, by: 10) { try store.append(points(start..<(start + 10))) }
        try store.setProgress(output: "centre", stream: .track, delivered: 100)
        #expect(try store.deliveredThrough(.track) == 0, "the removed output still holds the track back")

        #expect(try store.forgetOutputs(except: ["centre", "arc"]) == ["removed"])
        #expect(try store.deliveredThrough(.track) == 100, "the alarm receiver does not hold the track back")
        let report = try store.applyRetention(RetentionPolicy(maxDatabaseBytes: 0), now: baseTime)
        #expect(report.deleted == [kind(.track, .size, delivered: true): 100])
    }

    @Test func withoutOutputsEverythingIsUndeliveredAndTheFileShrinks() throws {
        let fixture = try StoreFixture()
        let store = try fixture.open()
        for start in stride(from: 0, to: 5000, by: 10) { try store.append(points(start..<(start + 10))) }
        _ = try store.appendEvent(event())

        let report = try store.applyRetention(RetentionPolicy(maxDatabaseBytes: 0), now: baseTime)
        #expect(report.deleted == [kind(.track, .size, delivered: false): 5000, kind(.event, .size, delivered: false): 1])
        #expect(report.bytesAfter < report.bytesBefore / 4)
        #expect(try store.integrityCheck() == "ok")
    }

    @Test func ageLimitDeletesOldestUntilTheFirstYoungEnoughAndCountsPersist() throws {
        let fixture = try StoreFixture()
        do {
            let store = try fixture.open()
            try store.registerOutput("centre", streams: [.track, .event])
            try store.append(points(0..<10))
            try store.append(points(3600..<3610))
            _ = try store.appendEvent(event(second: 0))
            _ = try store.appendEvent(event(second: 3600))
            try store.setProgress(output: "centre", stream: .track, delivered: 20)

            let now = baseTime.adding(milliseconds: 2 * 3_600_000)
            let report = try store.applyRetention(RetentionPolicy(maxAge: .seconds(5400)), now: now)
            #expect(report.deleted == [kind(.track, .age, delivered: true): 10])
            #expect(try allPoints(store).map(\.point.time) == points(3600..<3610).map(\.time))
            #expect(try store.events(since: 0).count == 2, "undelivered events are kept whatever their age")
        }
        let reopened = try fixture.open()
        #expect(try reopened.statistics().deletions[kind(.track, .age, delivered: true)] == 10)
    }

    /// A board offline for longer than `max_age_days`: its old alarm is still undelivered and must
    /// reach the centre when the link is back; old track may go, and delivered events do.
    @Test func ageLimitKeepsUndeliveredEventsAndDeletesDeliveredOnes() throws {
        let fixture = try StoreFixture()
        let store = try fixture.open()
        try store.registerOutput("centre", streams: [.track, .event])
        try store.append(points(0..<10))
        let delivered = try store.appendEvent(event(second: 0))
        let offline = try store.appendEvent(event(second: 5))
        let recent = try store.appendEvent(event(second: 30 * 86_400))
        try store.setProgress(output: "centre", stream: .event, delivered: delivered)

        let report = try store.applyRetention(RetentionPolicy(maxAge: .seconds(7 * 86_400)),
                                              now: baseTime.adding(milliseconds: 31 * 86_400_000))
        #expect(report.deleted == [kind(.track, .age, delivered: false): 10, kind(.event, .age, delivered: true): 1])
        #expect(try store.events(since: 0).map(\.sequence) == [offline, recent])
    }
}
