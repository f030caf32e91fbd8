import Logging
import PatrolAgent
import PatrolCore
import PatrolStore
import PatrolTestSupport
import Synchronization
import Testing

/// An input that only remembers the feedback it was asked to show.
private final class FeedbackRecorder: EventInput {
    let cues = Mutex<[FeedbackCue]>([])
    var name: String { "recorder" }
    func run(emit: @escaping @Sendable (DetectedEvent) async -> Void,
             stateChanged: @escaping @Sendable (InputState) async -> Void) async {}
    func indicate(_ cue: FeedbackCue) async { cues.withLock { $0.append(cue) } }
}

/// Monotonic milliseconds the test moves by hand.
private final class ManualClock: Sendable {
    let now = Mutex<Int64>(10_000)
    func advance(_ milliseconds: Int64) { now.withLock { $0 += milliseconds } }
}

@Suite(.serialized) struct EventJournalTests {
    let folder: TemporaryDirectory
    let store: AgentStore
    let board = StatusBoard(deviceID: "car-1", gpsSource: "test")
    private let clock = ManualClock()

    init() throws {
        folder = try TemporaryDirectory()
        store = try AgentStore.open(path: folder.file("agent.db"), logger: Logger(label: "test"))
    }

    func journal(checkpoints: [Checkpoint] = []) -> EventJournal {
        EventJournal(deviceID: "car-1", store: store, board: board, checkpoints: checkpoints,
                     gpsLostAfterMilliseconds: 30_000, logger: Logger(label: "test"),
                     now: { [clock] in clock.now.withLock { $0 } })
    }

    @Test func anEventIsCommittedWithItsPositionThenConfirmedToItsInput() async throws {
        let journal = journal()
        let input = FeedbackRecorder()
        await journal.fixReceived(Fix(time: UTCTime(iso8601: "2026-05-01T08:00:00Z"), mode: .threeD,
                                      latitude: 52.5, longitude: 13.4))
        clock.advance(1500)
        await journal.record(DetectedEvent(.panic(silent: false), inputID: "panic-1", at: 11_400), from: input)

        let stored = try store.events(since: 0)
        #expect(stored.count == 1)
        #expect(stored.first?.record.kind == "panic")
        #expect(stored.first?.record.buttonID == "panic-1")
        #expect(stored.first?.record.coordinate == Coordinate(latitude: 52.5, longitude: 13.4))
        #expect(stored.first?.record.time == UTCTime(iso8601: "2026-05-01T08:00:01.400Z"))
        #expect(input.cues.withLock { $0 } == [LocalFeedback.cue(for: .panic(silent: false), state: .stored)])
        let status = board.snapshot(running: true, interval: 1)
        #expect(status.recentEvents.map(\.kind) == ["panic"])
        #expect(status.eventLatency?.lastMs == 100, "detected at 11 400, committed at 11 500")
    }

    @Test func silentEventsAreStoredButNeverIndicated() async throws {
        let journal = journal()
        let input = FeedbackRecorder()
        await journal.record(DetectedEvent(.duress, inputID: "seat", at: 10_000), from: input)
        await journal.record(DetectedEvent(.panic(silent: true), inputID: "seat", at: 10_000), from: input)
        #expect(try store.events(since: 0).map(\.record.kind) == ["duress", "panic.silent"])
        #expect(try store.events(since: 0).allSatisfy { $0.record.coordinate == nil }, "no fix yet: no position")
        #expect(input.cues.withLock { $0 }.isEmpty)
    }

    @Test func fixesRaiseGeofenceCheckIns() async throws {
        let journal = journal(checkpoints: [Checkpoint(id: "gate", center: Coordinate(latitude: 52.5, longitude: 13.4),
                                                       radiusMeters: 50)])
        await journal.fixReceived(Fix(mode: .twoD, latitude: 52.5001, longitude: 13.4))
        let stored = try store.events(since: 0)
        #expect(stored.map(\.record.kind) == ["check-in.geofence"])
        #expect(stored.first?.record.payloadJSON.contains("\"checkpoint\":\"gate\"") == true)
    }
}
