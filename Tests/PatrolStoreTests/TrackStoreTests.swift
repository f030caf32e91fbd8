import PatrolCore
import Testing
@testable import PatrolStore

@Suite struct TrackStoreTests {
    @Test func pointsReadBackExactlyIncludingMissingFieldsAndNegativeCoordinates() throws {
        let fixture = try StoreFixture()
        let store = try fixture.open()
        let sparse = TrackPoint(time: baseTime.adding(milliseconds: 1234), coordinate: Coordinate(latitude: -0.0000001, longitude: -179.9999999),
                                mode: .twoD)
        let written = [point(0), sparse, point(2, latitudeE7: 899_999_999, longitudeE7: 123_456_789), point(3)]
        try store.append(written)

        let read = try allPoints(store)
        #expect(read.map(\.point) == written)
        #expect(read.map(\.sequence) == [1, 2, 3, 4])
    }

    @Test func timeRangesAreHalfOpenAndSpanChunks() throws {
        let fixture = try StoreFixture()
        let store = try fixture.open()
        for start in stride(from: 0, to: 300, by: 10) { try store.append(points(start..<(start + 10))) }

        let range = try allPoints(store, from: point(95).time, to: point(205).time)
        #expect(range.map(\.point.time) == (95..<205).map { point($0).time })
        #expect(try allPoints(store, from: point(295).time).count == 5)
        #expect(try allPoints(store, to: point(4).time).count == 4)
        #expect(try allPoints(store, from: point(400).time).isEmpty)
        #expect(try allPoints(store).count == 300)
    }

    @Test func rangesFindPointsRecordedAfterTimeWentBackwards() throws {
        let fixture = try StoreFixture()
        let store = try fixture.open()
        try store.append(points(100..<110))
        try store.append(points(0..<5)) // the receiver's clock jumped back
        try store.append(points(200..<210))

        let early = try allPoints(store, from: point(0).time, to: point(5).time)
        #expect(early.map(\.sequence) == [11, 12, 13, 14, 15])
        #expect(try allPoints(store, from: point(105).time, to: point(205).time).count == 10)
    }

    @Test func sequencesContinueAcrossReopenAndAfterRetentionEmptiedTheTable() throws {
        let fixture = try StoreFixture()
        do {
            let store = try fixture.open()
            try store.append(points(0..<3))
            #expect(try store.applyRetention(RetentionPolicy(maxDatabaseBytes: 0), now: baseTime).totalDeleted == 3)
        }
        let store = try fixture.open()
        try store.append(points(10..<12))
        #expect(try allPoints(store).map(\.sequence) == [4, 5])
        #expect(try store.statistics().pointsStored == 2)
    }

    @Test func statisticsCountPointsAndEvents() throws {
        let fixture = try StoreFixture()
        let store = try fixture.open()
        try store.append(points(0..<10))
        try store.append(points(10..<15))
        _ = try store.appendEvent(event())
        let statistics = try store.statistics()
        #expect(statistics.pointsStored == 15)
        #expect(statistics.firstPointTime == point(0).time)
        #expect(statistics.lastPointTime == point(14).time)
        #expect(statistics.eventsStored == 1)
        #expect(statistics.databaseBytes > 0)
        #expect(statistics.path == fixture.path)
    }
}

@Suite struct TrackChunkCodecTests {
    @Test func eachOptionalFieldRoundTripsOnItsOwn() throws {
        var variants: [TrackPoint] = []
        for field in 0..<5 {
            var bare = TrackPoint(time: baseTime.adding(milliseconds: Int64(field)), coordinate: Coordinate(latitude: 1, longitude: -1))
            switch field {
            case 0: bare.altitudeMSL = -430.5
            case 1: bare.speed = 0.01
            case 2: bare.track = 0
            case 3: bare.hdop = 99.99
            default: bare.satellitesUsed = 64
            }
            variants.append(bare)
        }
        let records = variants.map { TrackRecord(sequence: 0, point: $0) }
        let decoded = try TrackChunkCodec.decode(TrackChunkCodec.encode(records), count: variants.count, firstSequence: 7)
        #expect(decoded.map(\.trackPoint) == variants)
        #expect(decoded.map(\.sequence) == [7, 8, 9, 10, 11])
    }

    @Test func truncatedOrOverlongChunksAreRejected() throws {
        let bytes = TrackChunkCodec.encode(points(0..<3).map { TrackRecord(sequence: 0, point: $0) })
        let truncated = try #require(throws: StoreError.self) {
            try TrackChunkCodec.decode(Array(bytes.dropLast()), count: 3, firstSequence: 1)
        }
        #expect(truncated.code == .invalidRow)
        #expect(throws: StoreError.self) { try TrackChunkCodec.decode(bytes, count: 2, firstSequence: 1) }
    }
}
