import Logging
@testable import PatrolAgent
import PatrolCore
import PatrolStore
import PatrolTestSupport
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// An input that only remembers the feedback it was asked to show, and how many events the store
/// held at that moment: a "stored" cue is a promise that the event is already committed.
private final class FeedbackRecorder: EventInput {
    let cues = Mutex<[FeedbackCue]>([])
    let storedWhenShown = Mutex<[Int]>([])
    let store: AgentStore?
    init(store: AgentStore? = nil) { self.store = store }
    var name: String { "recorder" }
    func run(emit: @escaping @Sendable (InputReport) async -> ReportOutcome,
             stateChanged: @escaping @Sendable (InputState) async -> Void) async {}
    func indicate(_ cue: FeedbackCue) async {
        let stored = (try? store?.events(since: 0).count).flatMap { $0 } ?? -1
        cues.withLock { $0.append(cue) }
        storedWhenShown.withLock { $0.append(stored) }
    }
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
        let input = FeedbackRecorder(store: store)
        await journal.fixReceived(Fix(time: UTCTime(iso8601: "2026-05-01T08:00:00Z"), mode: .threeD,
                                      latitude: 52.5, longitude: 13.4))
        clock.advance(1500)
        await journal.record(DetectedEvent(.panic(silent: false), inputID: "panic-1", at: 11_400), from: input)

        let stored = try store.events(since: 0)
        #expect(stored.count == 1)
        #expect(stored.first?.event.kind == .panic(silent: false))
        #expect(stored.first?.event.inputID == "panic-1")
        #expect(stored.first?.event.position.coordinate == Coordinate(latitude: 52.5, longitude: 13.4))
        #expect(stored.first?.event.time.utc == UTCTime(iso8601: "2026-05-01T08:00:01.400Z"))
        #expect(input.cues.withLock { $0 } == [LocalFeedback.cue(for: .panic(silent: false), state: .stored)])
        #expect(input.storedWhenShown.withLock { $0 } == [1], "'stored' is shown only once the event is committed")
        let status = board.snapshot(running: true, interval: 1)
        #expect(status.recentEvents.map(\.kind) == ["panic"])
        #expect(status.eventLatency?.lastMs == 100, "detected at 11 400, committed at 11 500")
    }

    /// With several outputs the box shows "delivered" when the primary one has the alarm, and
    /// status tells each output's delivery apart instead of "delivered" after the first.
    @Test func theBoxShowsDeliveredFromThePrimaryOutputAndStatusShowsEachOutput() async throws {
        let journal = journal()
        let input = FeedbackRecorder()
        board.uplinksConfigured([(name: "centre", destination: "https://centre.example"), (name: "arc", destination: "tcp://arc")])
        let observer = AgentUplinkObserver(journal: journal, board: board, primaryOutput: "centre")
        await journal.record(DetectedEvent(.panic(silent: false), inputID: "panic-1", at: 10_000), from: input)
        let stored = LocalFeedback.cue(for: .panic(silent: false), state: .stored)

        await observer.eventsDelivered([1], output: "arc")
        #expect(input.cues.withLock { $0 } == [stored], "the alarm receiver has it, the primary output not yet")
        var event = try #require(board.snapshot(running: true, interval: 1).recentEvents.first)
        #expect(event.delivery == "partly delivered")
        #expect(event.line.hasSuffix("delivered to arc, undelivered to centre"), "\(event.line)")

        await observer.eventsDelivered([1], output: "centre")
        #expect(input.cues.withLock { $0 } == [stored, LocalFeedback.cue(for: .panic(silent: false), state: .delivered)])
        event = try #require(board.snapshot(running: true, interval: 1).recentEvents.first)
        #expect(event.delivery == "delivered")
        #expect(event.outputs == ["centre": "delivered", "arc": "delivered"])
    }

    @Test func silentEventsAreStoredButNeverIndicated() async throws {
        let journal = journal()
        let input = FeedbackRecorder()
        await journal.record(DetectedEvent(.duress, inputID: "seat", at: 10_000), from: input)
        await journal.record(DetectedEvent(.panic(silent: true), inputID: "seat", at: 10_000), from: input)
        #expect(try store.events(since: 0).map(\.event.kind) == [.duress, .panic(silent: true)])
        #expect(try store.events(since: 0).allSatisfy { $0.event.position == .none }, "no fix yet: no position")
        #expect(input.cues.withLock { $0 }.isEmpty)
    }

    @Test func fixesRaiseGeofenceCheckIns() async throws {
        let journal = journal(checkpoints: [Checkpoint(id: "gate", center: Coordinate(latitude: 52.5, longitude: 13.4),
                                                       radiusMeters: 50)])
        await journal.fixReceived(Fix(mode: .twoD, latitude: 52.5001, longitude: 13.4))
        let stored = try store.events(since: 0)
        #expect(stored.map(\.event.kind) == [.checkIn(.geofence(checkpointID: "gate"))])
    }

    /// A commit that fails (here: the event sequence file cannot be written, as on a full or
    /// read-only card) keeps the event in memory; the guard sees "failed"; once the store works
    /// again the event is committed, in order, before the ones raised after it.
    @Test func anEventWhoseCommitFailsIsKeptAndCommittedInOrderOnceTheStoreWorks() async throws {
        let journal = journal()
        let input = FeedbackRecorder(store: store)
        let blocker = folder.file("agent.db.seq")
        #expect(mkdir(blocker, 0o755) == 0, "a directory where the sequence file must go makes the commit fail")
        await journal.record(DetectedEvent(.panic(silent: false), inputID: "panic-1", at: 10_000), from: input)
        #expect(try store.events(since: 0).isEmpty)
        #expect(input.cues.withLock { $0 } == [LocalFeedback.cue(for: .panic(silent: false), state: .failed)])

        #expect(rmdir(blocker) == 0)
        let retrying = Task { await journal.run() }
        defer { retrying.cancel() }
        #expect(await eventually(timeout: .seconds(10)) { (try? store.events(since: 0).count) == 1 },
                "the kept panic is committed by the journal's retry")
        // Raised while the retry may still be finishing: it is committed after the panic either way.
        await journal.record(DetectedEvent(.sos, inputID: "sos-1", at: 12_000), from: input)
        #expect(await eventually(timeout: .seconds(10)) { (try? store.events(since: 0).count) == 2 })
        #expect(try store.events(since: 0).map(\.event.kind) == [.panic(silent: false), .sos])
        #expect(await eventually(timeout: .seconds(10)) {
            input.cues.withLock { $0 }.suffix(2) == [LocalFeedback.cue(for: .panic(silent: false), state: .stored),
                                                      LocalFeedback.cue(for: .sos, state: .stored)]
        }, "each event is shown stored once it is committed")
    }

    /// PLBX 2: what `record` says decides whether the box is told `STORED`. A press's repeated alarm
    /// (an agent restart, a box's repeat) is already stored and shown no second time; a finish is
    /// "kept for retry" while the store fails, and recorded after the press's events once it works.
    @Test func pressReportsSayWhetherTheyAreOnDisk() async throws {
        let journal = journal()
        let input = FeedbackRecorder(store: store)
        let first = PressKey(boxID: "BX-7", incarnation: 0xC0FF_EE01, press: 5)
        var second = first
        second.press = 6

        let blocker = folder.file("agent.db.seq")
        #expect(mkdir(blocker, 0o755) == 0, "a directory where the sequence file must go makes the commit fail")
        #expect(await journal.record(.event(DetectedEvent(.sos, inputID: "sos-1", at: 10_000, press: first)), from: input)
                == .keptForRetry)
        #expect(await journal.record(.pressFinished(first), from: input) == .keptForRetry,
                "not finished before the press's own event is on disk")
        #expect(rmdir(blocker) == 0)

        let alarm = DetectedEvent(.panic(silent: false), inputID: "panic-1", at: 11_000, press: second)
        #expect(await journal.record(.event(alarm), from: input) == .stored)
        #expect(await journal.record(.pressFinished(first), from: input) == .alreadyStored, "finished by the retry, in order")
        let shown = input.cues.withLock { $0 }
        #expect(await journal.record(.event(alarm), from: input) == .alreadyStored, "the box repeated the press")
        #expect(try store.events(since: 0).map(\.event.kind) == [.sos, .panic(silent: false)])
        #expect(input.cues.withLock { $0 } == shown, "an alarm the store already had is not shown again")
        #expect(await journal.record(.pressFinished(second), from: input) == .stored)
    }
}
