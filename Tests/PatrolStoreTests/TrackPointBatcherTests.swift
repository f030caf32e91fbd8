import Testing
@testable import PatrolStore

@Suite struct TrackPointBatcherTests {
    @Test func commitsWhenTheWindowEndsNotBefore() async throws {
        let fixture = try StoreFixture()
        let store = try fixture.open()
        let clock = ManualClock()
        let batcher = TrackPointBatcher(store: store, window: .seconds(10), clock: clock, logger: StoreFixture.logger)
        let service = Task { await batcher.run() }
        try await clock.waitForSleepers(1)

        await batcher.add(point(0))
        await batcher.add(point(1))
        clock.advance(by: .seconds(9))
        try await Task.sleep(for: .milliseconds(20))
        #expect(try store.statistics().pointsStored == 0)

        clock.advance(by: .seconds(1))
        try await clock.waitForSleepers(1) // it flushed and sleeps until the next deadline
        #expect(await batcher.bufferedCount == 0)
        #expect(try store.statistics().pointsStored == 2)

        await batcher.add(point(2))
        service.cancel()
        await service.value // shutdown commits what is left
        #expect(try store.statistics().pointsStored == 3)
    }

    @Test func commitsAtOnceWhenTheBufferIsFull() async throws {
        let fixture = try StoreFixture()
        let store = try fixture.open()
        let batcher = TrackPointBatcher(store: store, maxBatchSize: 3, clock: ManualClock(), logger: StoreFixture.logger)
        await batcher.add(point(0))
        await batcher.add(point(1))
        #expect(try store.statistics().pointsStored == 0)
        await batcher.add(point(2))
        #expect(try store.statistics().pointsStored == 3)
    }

    @Test func flushCommitsEverythingAsOneBatch() async throws {
        let fixture = try StoreFixture()
        let store = try fixture.open()
        let batcher = TrackPointBatcher(store: store, clock: ManualClock(), logger: StoreFixture.logger)
        for second in 0..<7 { await batcher.add(point(second)) }
        try await batcher.flush()
        #expect(try allPoints(store).map(\.point) == points(0..<7))
        let chunks = try store.state.withLock { try $0.connection.integer("SELECT COUNT(*) FROM track_chunk") }
        #expect(chunks == 1)
    }
}
