import Logging
import PatrolCore
import PatrolTestSupport
@testable import PatrolStore

/// A store in a fresh temporary directory; `reopen()` closes the old one first (the store holds
/// its file exclusively).
struct StoreFixture: ~Copyable {
    let directory: TemporaryDirectory
    let path: String
    static let logger = Logger(label: "test.store")

    init() throws {
        directory = try TemporaryDirectory(prefix: "patrol-store")
        path = directory.file("agent.db")
    }

    func open() throws -> AgentStore {
        try AgentStore.open(path: path, logger: Self.logger)
    }

    deinit { directory.remove() }
}

let baseTime = UTCTime(year: 2026, month: 11, day: 26, hour: 8)

/// A point at `second` seconds after `baseTime`, moving east, with every field set, in the
/// store's resolution (1e-7°), southern and western by default.
func point(_ second: Int, latitudeE7: Int = -338_567_844, longitudeE7: Int = -1_512_152_967) -> TrackPoint {
    TrackPoint(time: baseTime.adding(milliseconds: Int64(second) * 1000),
               coordinate: Coordinate(latitude: Double(latitudeE7) / 1e7, longitude: Double(longitudeE7 + second * 100) / 1e7),
               mode: .threeD, altitudeMSL: -12.3, speed: 13.45, track: 359.99, hdop: 0.87, satellitesUsed: 11)
}

func points(_ seconds: Range<Int>) -> [TrackPoint] { seconds.map { point($0) } }

func allPoints(_ store: AgentStore, from: UTCTime? = nil, to: UTCTime? = nil) throws -> [StoredTrackPoint] {
    var result: [StoredTrackPoint] = []
    try store.forEachTrackPoint(from: from, to: to) { result.append($0) }
    return result
}

func event(_ kind: EventKind = .panic(silent: false), second: Int = 0) -> PatrolEvent {
    .sample(kind, time: baseTime.adding(milliseconds: Int64(second) * 1000),
            coordinate: Coordinate(latitude: 47.3769, longitude: -8.5417), fixAgeMilliseconds: 800)
}
