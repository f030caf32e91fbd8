import Logging
import PatrolCore
import PatrolTestSupport
import PatrolUplink
import Synchronization
import Testing

/// The runner over the in-memory backlog, with scripted outputs: what each output is given and
/// how outputs stay independent. (The store's own durability is tested in PatrolStoreTests; the
/// real centre output in UplinkRunnerTests.)
@Suite(.serialized)
struct SeveralOutputsTests {
    static let start = UTCTime(year: 2026, month: 11, day: 26, hour: 8)

    static func alarm(_ kind: EventKind = .panic(silent: false)) -> PatrolEvent {
        .sample(kind, time: start, input: "box-1")
    }

    static func points(_ count: Int) -> [TrackPoint] {
        (0..<count).map { second in
            TrackPoint(time: start.adding(milliseconds: Int64(second) * 1000),
                       coordinate: Coordinate(latitude: 47.3769 + Double(second) * 1e-5, longitude: 8.5417), mode: .threeD)
        }
    }

    /// Runs one runner per output on `backlog` while `body` runs.
    static func run(_ outputs: [any UplinkOutput], on backlog: InMemoryBacklog, observer: RecordingObserver,
                    adjust: (inout UplinkSettings) -> Void = { _ in }, _ body: () async throws -> Void) async throws {
        var settings = UplinkSettings()
        settings.heartbeatInterval = .milliseconds(100)
        settings.backoffBase = .milliseconds(20)
        settings.backoffCap = .milliseconds(100)
        adjust(&settings)
        let runners = outputs.map { output in
            UplinkRunner(output: output, store: backlog, settings: settings, observer: observer, logger: Logger(label: "test.uplink"),
                         systemTime: { start }, monotonicMilliseconds: { SystemTime.monotonicMilliseconds() })
        }
        let tasks = runners.map { runner in Task { await runner.run() } }
        defer { tasks.forEach { $0.cancel() } }
        try await body()
        for task in tasks { task.cancel(); await task.value }
    }

    @Test func anOutputThatForwardsNoTrackGetsEventsAndHeartbeatsOnly() async throws {
        let backlog = InMemoryBacklog()
        backlog.append(Self.points(50))
        let alarm = backlog.append(Self.alarm())
        let receiver = ScriptedOutput(name: "arc", streams: [.event]) { batch, _ in ScriptedOutput.acceptingAll(batch) }
        let observer = RecordingObserver(store: backlog)
        try await Self.run([receiver], on: backlog, observer: observer) {
            _ = try await observer.waitFor("a heartbeat after the alarm") { _ in
                receiver.sent.withLock { $0.count >= 2 && $0.last?.isHeartbeat == true } ? true : nil
            }
        }
        let sent = receiver.sent.withLock { $0 }
        #expect(sent.first?.events.map(\.sequence) == [alarm])
        #expect(sent.first?.events.first?.event == Self.alarm(), "the typed event, as stored")
        #expect(sent.allSatisfy { $0.track.isEmpty && $0.live == nil }, "no track, not even the live point")
        let backlogState = try backlog.backlog(output: "arc")
        #expect(backlogState.trackDelivered == nil && backlogState.trackPending == 0, "no track waits for it")
        #expect(backlogState.eventPending == 0)
    }

    @Test func anEventTheStoreCannotReadIsSetAsideAndTheNextDelivered() async throws {
        let backlog = InMemoryBacklog()
        let unreadable = backlog.appendUnreadableEvent(like: Self.alarm())
        let next = backlog.append(Self.alarm(.sos))
        let centre = ScriptedOutput(name: "centre") { batch, _ in ScriptedOutput.acceptingAll(batch) }
        let observer = RecordingObserver(store: backlog)
        try await Self.run([centre], on: backlog, observer: observer) {
            _ = try await observer.waitFor("the next event delivered") { $0.delivered.first }
        }
        #expect(observer.state.withLock { $0.delivered.flatMap(\.events) } == [next])
        #expect(backlog.deadLetters(of: "centre").map(\.sequence) == [unreadable])
        #expect(centre.sent.withLock { $0 }.flatMap { $0.events.map(\.sequence) }.contains(unreadable) == false)
    }

    /// An alarm receiving centre must hear of a board that lost it: a link down for the
    /// supervision limit is one fault, and its return one restore, however many attempts failed.
    @Test func aLinkDownForTheSupervisionLimitIsOneFaultAndItsReturnOneRestore() async throws {
        let backlog = InMemoryBacklog()
        backlog.append(Self.alarm())
        let reachable = Atomic<Bool>(false)
        let receiver = ScriptedOutput(name: "arc", streams: [.event]) { batch, _ throws(UplinkLinkError) in
            guard reachable.load(ordering: .relaxed) else { throw UplinkLinkError("connection refused") }
            return ScriptedOutput.acceptingAll(batch)
        }
        let observer = RecordingObserver(store: backlog)
        try await Self.run([receiver], on: backlog, observer: observer, adjust: { $0.supervisionLimit = .milliseconds(300) }) {
            _ = try await observer.waitFor("the supervision fault") { $0.supervision.first }
            try await Task.sleep(for: .milliseconds(300))
            reachable.store(true, ordering: .relaxed)
            _ = try await observer.waitFor("the restore") { $0.supervision.count == 2 ? true : nil }
            _ = try await observer.waitFor("the alarm delivered") { $0.delivered.first }
        }
        #expect(observer.state.withLock { $0.supervision.map(\.failed) } == [true, false])
        #expect(receiver.sent.withLock { $0.count } > 3, "several attempts failed meanwhile")
    }

    /// Each output has its own progress: a centre that is down never delays the alarm receiver,
    /// and gets the alarm once it is back; each gets it once.
    @Test func oneOutputDownNeverDelaysAnotherAndEachGetsTheAlarmOnce() async throws {
        let backlog = InMemoryBacklog()
        backlog.append(Self.points(20))
        let centreUp = Atomic<Bool>(false)
        let centre = ScriptedOutput(name: "centre") { batch, _ throws(UplinkLinkError) in
            guard centreUp.load(ordering: .relaxed) else { throw UplinkLinkError("cannot connect") }
            return ScriptedOutput.acceptingAll(batch)
        }
        let receiver = ScriptedOutput(name: "arc", streams: [.event]) { batch, _ in ScriptedOutput.acceptingAll(batch) }
        let observer = RecordingObserver(store: backlog)
        try await Self.run([centre, receiver], on: backlog, observer: observer) {
            _ = try await observer.waitFor("the centre down") { $0.statusByOutput["centre"]?.isUp == false ? true : nil }
            let alarm = backlog.append(Self.alarm())
            _ = try await observer.waitFor("the alarm at the receiver") { state in
                state.deliveries.first { $0.output == "arc" && $0.events == [alarm] }
            }
            #expect(observer.state.withLock { $0.deliveries.contains { $0.output == "centre" } } == false)
            centreUp.store(true, ordering: .relaxed)
            _ = try await observer.waitFor("the alarm at the centre") { state in
                state.deliveries.first { $0.output == "centre" && $0.events.contains(alarm) }
            }
        }
        let deliveries = observer.state.withLock { $0.deliveries }
        #expect(deliveries.filter { $0.output == "arc" }.flatMap(\.events).count == 1)
        #expect(deliveries.filter { $0.output == "centre" }.flatMap(\.events).count == 1)
        #expect(try backlog.backlog(output: "centre").trackPending == 0, "the centre caught up with the track too")
    }
}
