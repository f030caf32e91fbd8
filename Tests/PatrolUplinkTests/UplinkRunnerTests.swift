import Hummingbird
import Logging
import PatrolCentre
import PatrolCore
import PatrolSQLite
import PatrolStore
import PatrolTestSupport
import PatrolUplink
import PatrolUplinkCentre
import ServiceLifecycle
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The runner and the HTTP output against the real centre (its application and SQLite storage)
/// on 127.0.0.1, with a real agent store: what reaches the centre, in which order, and what the
/// agent learns back.
@Suite(.serialized)
struct UplinkRunnerTests {
    @Test func anAlarmOvertakesATrackBacklogAndItsAcknowledgementComesBack() async throws {
        let world = try await UplinkWorld()
        defer { world.remove() }
        try world.store.append(world.points(0..<30_000))
        let alarm = try world.store.appendEvent(world.event(.panic(silent: false)))
        let checkIn = try world.store.appendEvent(world.event(.checkIn(.button)))
        try await world.withCentre { centre in
            try await world.withRunner { runner in
                let delivered = try await world.observer.waitFor("the alarm delivered") { $0.delivered.first }
                // Events go in the first batch: not one backlog batch was delivered before them.
                #expect(delivered.events == [alarm, checkIn])
                #expect(delivered.trackProgress == 0)
                let alarms = try await centre.alarms(openOnly: true)
                #expect(alarms.map(\.event.sequence) == [UInt64(alarm)], "a check-in is not an alarm")
                _ = try await centre.acknowledgeAlarm(id: alarms[0].id, by: "ann", at: UTCTime(year: 2026, month: 11, day: 26, hour: 9))
                let acknowledged = try await world.observer.waitFor("the acknowledgement") { $0.acknowledged.first }
                #expect(acknowledged.sequence == alarm)
                #expect(acknowledged.text.contains("acknowledged by operator ann"))
                _ = try await world.observer.waitFor("the backlog delivered") { $0.last?.backlog?.trackPending == 0 ? true : nil }
                try await world.waitForCentre("an idle runner's heartbeat", "SELECT count(*) FROM heartbeats")
            }
        }
        #expect(try world.centreCount("SELECT count(*) FROM track_points") == 30_000)
        #expect(try world.centreCount("SELECT count(*) FROM events") == 2)
    }

    /// After the store was lost (here emptied to 0 bytes) the track recorded next used to be
    /// numbered from 1 again: the centre, holding those numbers from before, took the points for
    /// resends and dropped them, answering "accepted". Now they reach it, after the gap.
    @Test func trackRecordedAfterTheStoreWasLostReachesACentreThatHoldsTheOldTrack() async throws {
        var earlier: [TrackRecord] = []
        let world = try await UplinkWorld(storeHistory: { path in
            do {
                let store = try AgentStore.open(path: path, logger: Logger(label: "test.store"))
                try store.append(UplinkWorld.points(0..<100))
                earlier = try store.trackRecords(after: 0, limit: 100)
            }
            #expect(truncate(path, 0) == 0)
        })
        defer { world.remove() }
        try world.store.append(world.points(100..<150))
        try await world.withCentre { centre in
            // What the uplink delivered before the store was lost.
            _ = try await centre.ingest(UplinkBatch(deviceID: UplinkWorld.deviceID, trackPoints: earlier), at: UplinkWorld.start)
            try await world.withRunner { _ in
                _ = try await world.observer.waitFor("the new track delivered") { $0.last?.backlog?.trackPending == 0 ? true : nil }
            }
        }
        #expect(try world.centreCount("SELECT count(*) FROM track_points") == 150, "the 50 new points are at the centre")
        #expect(try world.centreCount("SELECT count(*) FROM track_points WHERE time_ms >= \(world.points(100..<101)[0].time.millisecondsSinceEpoch)") == 50)
    }

    @Test func aRecordTheCentreRefusesForGoodIsDeadLetteredAndTheRestDelivered() async throws {
        let world = try await UplinkWorld()
        defer { world.remove() }
        try world.store.append(world.points(0..<100))
        // A board that booted without a real-time clock stamped it in 1970: the centre refuses that time.
        var broken = world.event(.panic(silent: false))
        broken.time = EventTime(utc: UTCTime(millisecondsSinceEpoch: 5000), source: .systemUntrusted)
        let bad = try world.store.appendEvent(broken)
        let good = try world.store.appendEvent(world.event(.sos))
        try await world.withCentre { _ in
            try await world.withRunner { _ in
                let status = try await world.observer.waitFor("everything settled") {
                    $0.last.flatMap { $0.backlog?.trackPending == 0 && $0.backlog?.eventPending == 0 ? $0 : nil }
                }
                #expect(status.backlog?.deadLetters == 1)
                #expect(status.backlog?.eventDelivered == good)
            }
        }
        #expect(try world.centreCount("SELECT count(*) FROM events WHERE sequence = \(good)") == 1)
        #expect(try world.centreCount("SELECT count(*) FROM events WHERE sequence = \(bad)") == 0)
        #expect(try world.centreCount("SELECT count(*) FROM track_points") == 100)
        #expect(world.observer.state.withLock { $0.delivered.flatMap(\.events) } == [good], "only the accepted event shows 'delivered'")
    }

    @Test func aLinkThatIsDownShowsWhyAndCatchesUpWhenTheCentreComes() async throws {
        let world = try await UplinkWorld()
        defer { world.remove() }
        try world.store.append(world.points(0..<500))
        let alarm = try world.store.appendEvent(world.event(.duress))
        try await world.withRunner { runner in
            let down = try await world.observer.waitFor("the link down") { $0.last?.isUp == false ? $0.last : nil }
            #expect(down.downReason?.contains("cannot connect") == true)
            #expect(down.backlog?.eventPending == 1)
            try await world.withCentre { _ in
                _ = try await world.observer.waitFor("the backlog delivered") {
                    $0.last.flatMap { $0.isUp == true && $0.backlog?.trackPending == 0 && $0.backlog?.eventPending == 0 ? true : nil }
                }
            }
        }
        #expect(try world.centreCount("SELECT count(*) FROM events WHERE sequence = \(alarm)") == 1)
        #expect(try world.centreCount("SELECT count(*) FROM track_points") == 500)
        #expect(world.logs.entries.map(\.message).filter { $0.contains("is down") }.count == 1, "one line when the link goes down, not one per attempt")
        #expect(world.logs.entries.map(\.message).filter { $0.contains("is back") }.count == 1)
    }
}

extension UplinkRunnerTests {
    /// Delivery progress moves only through records the answer settles, in order: a receiver that
    /// took events 1 and 3 but says nothing of 2 (it lost it) gets 2 again, and 3 with it.
    @Test func aRecordTheAnswerDoesNotMentionIsSentAgain() async throws {
        let world = try await UplinkWorld()
        defer { world.remove() }
        let events = try (0..<3).map { _ in try world.store.appendEvent(world.event(.panic(silent: false))) }
        let output = ScriptedOutput { batch, index in
            let sent = batch.events.map(\.sequence)
            let accepted = index == 0 ? [events[0], events[2]] : sent
            return .answered(UplinkAnswer(accepted: [.event: accepted.map { UInt64($0)...UInt64($0) }]))
        }
        try await world.withRunner(output: output) { _ in
            _ = try await world.observer.waitFor("every event delivered") {
                $0.last.flatMap { $0.backlog?.eventPending == 0 ? true : nil }
            }
        }
        let eventBatches = output.sent.withLock { $0 }.map { $0.events.map(\.sequence) }.filter { !$0.isEmpty }
        #expect(eventBatches == [events, [events[1], events[2]]])
    }

    @Test func anAlarmStoredWhileTheLinkIsDownIsTriedAtOnceNotAfterTheBackoff() async throws {
        let world = try await UplinkWorld()
        defer { world.remove() }
        try world.store.append(world.points(0..<10))
        // Backoff of up to an hour: only the alarm's own wake-up can get it out within seconds.
        try await world.withRunner(adjust: { $0.backoffBase = .seconds(3600); $0.backoffCap = .seconds(3600) }) { _ in
            _ = try await world.observer.waitFor("the link down") { $0.last?.isUp == false ? true : nil }
            try await world.withCentre { _ in
                let alarm = try world.store.appendEvent(world.event(.sos))
                let delivered = try await world.observer.waitFor("the alarm delivered") { $0.delivered.first }
                #expect(delivered.events == [alarm])
            }
        }
    }
}

extension UplinkRunnerTests {
    @Test func aBoardClockADayOffIsCorrectedFromTheCentresAnswer() async throws {
        let world = try await UplinkWorld()
        defer { world.remove() }
        let alarm = try world.store.appendEvent(world.event(.panic(silent: false)))
        try await world.withCentre { _ in
            try await world.withRunner(clockErrorMs: -86_400_000) { _ in
                let delivered = try await world.observer.waitFor("the alarm delivered") { $0.delivered.first }
                #expect(delivered.events == [alarm])
                #expect(world.observer.state.withLock { $0.last?.isUp } == true)
            }
        }
        #expect(!world.logs.entries.map(\.message).contains { $0.contains("is down") }, "a skewed clock is corrected, not a failure")
    }

    @Test func aBatchTooLargeForTheCentreIsSplitUntilItFitsAndNothingIsDeadLettered() async throws {
        let world = try await UplinkWorld { centre, _ in centre.maxBodyBytes = 1024 }
        defer { world.remove() }
        try world.store.append(world.points(0..<3000))
        try await world.withCentre { _ in
            try await world.withRunner { _ in
                let status = try await world.observer.waitFor("the backlog delivered") {
                    $0.last.flatMap { $0.backlog?.trackPending == 0 ? $0 : nil }
                }
                #expect(status.backlog?.deadLetters == 0)
            }
        }
        #expect(try world.centreCount("SELECT count(*) FROM track_points") == 3000)
        #expect(world.logs.entries.map(\.message).contains { $0.contains("sending fewer at a time") })
    }

    @Test func httpsChecksTheCentreCertificateAgainstTheConfiguredCA() async throws {
        let world = try await UplinkWorld { centre, folder in try UplinkWorld.serveTLS(&centre, in: folder) }
        defer { world.remove() }
        let stranger = try TestCertificates(in: world.directory.file("stranger"), authority: "Some other CA")
        let alarm = try world.store.appendEvent(world.event(.panic(silent: false)))
        try await world.withCentre { _ in
            try await world.withRunner(host: "https://localhost", tls: TLSFiles(caFile: stranger.caCertificate)) { _ in
                let down = try await world.observer.waitFor("the link down") { $0.last?.isUp == false ? $0.last : nil }
                #expect(down.downReason?.contains("the centre's certificate is not trusted") == true, "\(down.downReason ?? "")")
            }
            #expect(try world.centreCount("SELECT count(*) FROM events") == 0, "nothing goes to a centre the CA does not vouch for")
            try await world.withRunner(host: "https://localhost", tls: TLSFiles(caFile: world.centreCA)) { _ in
                let delivered = try await world.observer.waitFor("the alarm delivered") { $0.delivered.first }
                #expect(delivered.events == [alarm])
            }
        }
    }
}

extension UplinkRunnerTests {
    @Test func aCentreCertificateNotIssuedForTheAddressDialledIsRefused() async throws {
        // Listening on every address, the centre is reachable as 127.0.0.2, which its certificate does not name.
        let world = try await UplinkWorld { centre, folder in
            centre.address = "0.0.0.0"
            try UplinkWorld.serveTLS(&centre, in: folder)
        }
        defer { world.remove() }
        _ = try world.store.appendEvent(world.event(.panic(silent: false)))
        try await world.withCentre { _ in
            try await world.withRunner(host: "https://127.0.0.2", tls: TLSFiles(caFile: world.centreCA)) { _ in
                let down = try await world.observer.waitFor("the link down") { $0.last?.isUp == false ? $0.last : nil }
                #expect(down.downReason?.contains("certificate is not issued for this host name or address") == true, "\(down.downReason ?? "")")
            }
        }
        #expect(try world.centreCount("SELECT count(*) FROM events") == 0)
    }

    @Test func aClientCertificateFromAnotherCAIsRefusedByACentreWithClientCA() async throws {
        let world = try await UplinkWorld { centre, folder in
            centre.tlsClientCAPath = try UplinkWorld.serveTLS(&centre, in: folder).caCertificate
        }
        defer { world.remove() }
        let stranger = try TestCertificates(in: world.directory.file("stranger"), authority: "Some other CA")
        _ = try world.store.appendEvent(world.event(.panic(silent: false)))
        let tls = TLSFiles(caFile: world.centreCA, clientCertificate: stranger.clientCertificate, clientKey: stranger.clientKey)
        try await world.withCentre { _ in
            try await world.withRunner(host: "https://127.0.0.1", tls: tls) { _ in
                let down = try await world.observer.waitFor("the link down") { $0.last?.isUp == false ? $0.last : nil }
                #expect(down.downReason?.contains("the client certificate \(stranger.clientCertificate) (client_cert)") == true,
                        "\(down.downReason ?? "")")
            }
        }
        #expect(try world.centreCount("SELECT count(*) FROM events") == 0)
    }

    @Test func httpsToACentreServingPlainHTTPSaysSo() async throws {
        let world = try await UplinkWorld()
        defer { world.remove() }
        _ = try world.store.appendEvent(world.event(.panic(silent: false)))
        try await world.withCentre { _ in
            try await world.withRunner(host: "https://127.0.0.1", tls: TLSFiles(caFile: nil)) { _ in
                let down = try await world.observer.waitFor("the link down") { $0.last?.isUp == false ? $0.last : nil }
                #expect(down.downReason?.contains("the centre does not answer TLS on this port") == true, "\(down.downReason ?? "")")
            }
        }
    }
}

/// An output whose receiver answers each batch as the test says (`answer` gets the batch and its
/// index among those sent), for answers the real centre never gives; it remembers every batch.
final class ScriptedOutput: UplinkOutput {
    let name: String
    let destination = "scripted receiver"
    let streams: Set<StoreStream>
    let sent = Mutex<[OutboundBatch]>([])
    private let answer: @Sendable (OutboundBatch, Int) throws(UplinkLinkError) -> UplinkVerdict

    init(name: String = "scripted", streams: Set<StoreStream> = [.event, .track],
         answer: @escaping @Sendable (OutboundBatch, Int) throws(UplinkLinkError) -> UplinkVerdict) {
        self.name = name
        self.streams = streams
        self.answer = answer
    }

    func close() async {}

    func send(_ batch: OutboundBatch) async throws(UplinkLinkError) -> UplinkVerdict {
        let index = sent.withLock { $0.append(batch); return $0.count - 1 }
        return try answer(batch, index)
    }

    /// Accepts every record of the batch.
    static func acceptingAll(_ batch: OutboundBatch) -> UplinkVerdict {
        .answered(UplinkAnswer(accepted: [.event: batch.events.map { UInt64($0.sequence)...UInt64($0.sequence) },
                                          .track: batch.track.map { $0.sequence...$0.sequence }]))
    }
}

/// A centre database, an agent store, a device key, and the runner's observer, in one temp folder.
final class UplinkWorld: Sendable {
    let directory: TemporaryDirectory
    let store: AgentStore
    let centreConfiguration: CentreConfig
    let key: [UInt8]
    let observer: RecordingObserver
    let logs = CollectingLogHandler.Store()
    static let deviceID = "car-7"
    static let start = UTCTime(year: 2026, month: 11, day: 26, hour: 8)

    /// - Parameter history: what happened to the store's file (its path) before the agent opens it.
    init(centre adjust: (inout CentreConfig, TemporaryDirectory) throws -> Void = { _, _ in },
         storeHistory history: (String) throws -> Void = { _ in }) async throws {
        directory = try TemporaryDirectory(prefix: "patrol-uplink")
        try history(directory.file("agent.db"))
        store = try AgentStore.open(path: directory.file("agent.db"), logger: Logger(label: "test.store"))
        observer = RecordingObserver(store: store)
        var configuration = CentreConfig(databasePath: directory.file("centre.db"))
        configuration.port = try FreePort.allocate()
        try adjust(&configuration, directory)
        centreConfiguration = configuration
        let storage = try SQLiteCentreStorage(path: configuration.databasePath)
        key = Secrets.randomBytes()
        _ = try await storage.addDevice(id: Self.deviceID, key: key, at: Self.start)
    }

    func remove() { directory.remove() }

    /// Makes `centre` serve TLS with test certificates made in `folder` (their CA: `centreCA`).
    @discardableResult
    static func serveTLS(_ centre: inout CentreConfig, in folder: TemporaryDirectory) throws -> TestCertificates {
        let certificates = try TestCertificates(in: folder.file(tlsFolder))
        centre.tlsCertificatePath = certificates.serverCertificate
        centre.tlsPrivateKeyPath = certificates.serverKey
        return certificates
    }

    private static let tlsFolder = "pki"

    /// The CA of the certificates `serveTLS` made.
    var centreCA: String { TestCertificates(madeIn: directory.file(Self.tlsFolder)).caCertificate }

    func points(_ seconds: Range<Int>) -> [TrackPoint] { Self.points(seconds) }

    static func points(_ seconds: Range<Int>) -> [TrackPoint] {
        seconds.map { second in
            TrackPoint(time: Self.start.adding(milliseconds: Int64(second) * 1000),
                       coordinate: Coordinate(latitude: 47.3769 + Double(second) * 1e-5, longitude: 8.5417 + Double(second % 97) * 1e-6),
                       mode: .threeD, altitudeMSL: 408.2, speed: 12.5, track: 87.5, hdop: 0.9, satellitesUsed: 9)
        }
    }

    func event(_ kind: EventKind) -> PatrolEvent {
        .sample(kind, deviceID: Self.deviceID, time: Self.start.adding(milliseconds: 5000), input: "box-1")
    }

    /// The real centre application on its port while `body` runs.
    func withCentre(_ body: (SQLiteCentreStorage) async throws -> Void) async throws {
        let storage = try SQLiteCentreStorage(path: centreConfiguration.databasePath)
        var centreLogger = Logger(label: "test.centre")
        centreLogger.logLevel = .critical // its shutdown complaints about cancelled connections are noise here
        let app = try CentreApplication.make(storage: storage, configuration: centreConfiguration, logger: centreLogger)
        // Stopped gracefully, as `patrol-centre serve` is on SIGTERM: cancelling the server while a
        // runner's connection is being accepted crashes NIO (an NIOAsyncWriter dropped unfinished).
        let services = ServiceGroup(configuration: ServiceGroupConfiguration(services: [app], logger: centreLogger))
        let server = Task { try await services.run() }
        let deadline = ContinuousClock.now + .seconds(10)
        while !FreePort.isAccepting(centreConfiguration.port), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let outcome: Result<Void, any Error>
        do { outcome = .success(try await body(storage)) } catch { outcome = .failure(error) }
        await services.triggerGracefulShutdown()
        _ = await server.result
        try outcome.get()
    }

    /// A runner sending to the centre's port, with short heartbeats and backoff, while `body` runs.
    /// - Parameter clockErrorMs: how far the board's system clock is off (boards have no RTC).
    func withRunner(host: String = "http://127.0.0.1", tls: TLSFiles = TLSFiles(), clockErrorMs: Int64 = 0,
                    adjust: (inout UplinkSettings) -> Void = { _ in },
                    _ body: (UplinkRunner) async throws -> Void) async throws {
        let endpoint = try HTTPEndpoint(url: "\(host):\(centreConfiguration.port)")
        let output = try CentreHTTPOutput(name: "centre", deviceID: Self.deviceID, key: key, endpoint: endpoint, tls: tls,
                                          timeout: .seconds(10), systemMilliseconds: { SystemTime.milliseconds() + clockErrorMs })
        try await withRunner(output: output, adjust: adjust, body)
        await output.close()
    }

    /// A runner sending through `output`, with short heartbeats and backoff, while `body` runs.
    func withRunner(output: some UplinkOutput, adjust: (inout UplinkSettings) -> Void = { _ in },
                    _ body: (UplinkRunner) async throws -> Void) async throws {
        var settings = UplinkSettings()
        settings.heartbeatInterval = .milliseconds(200)
        settings.trackPointsPerBatch = 5000
        settings.backoffBase = .milliseconds(50)
        settings.backoffCap = .milliseconds(300)
        adjust(&settings)
        var logger = Logger(label: "test.uplink") { _ in CollectingLogHandler(store: self.logs) }
        logger.logLevel = .info
        let runner = UplinkRunner(output: output, store: store, settings: settings, observer: observer, logger: logger,
                                  systemTime: { UTCTime(millisecondsSinceEpoch: SystemTime.milliseconds()) },
                                  monotonicMilliseconds: { SystemTime.monotonicMilliseconds() })
        store.onCommit { runner.wake(for: $0) }
        let task = Task { await runner.run() }
        defer { task.cancel() }
        try await body(runner)
        task.cancel()
        await task.value
    }

    /// Waits (50 ms steps, 30 s at most) until `sql` counts at least one row at the centre.
    func waitForCentre(_ what: String, _ sql: String) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while try centreCount(sql) == 0 {
            guard ContinuousClock.now < deadline else {
                Issue.record("timed out waiting for \(what)")
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// A count from the centre's database file, read through a connection of its own.
    func centreCount(_ sql: String) throws -> Int64 {
        try SQLiteConnection(path: centreConfiguration.databasePath).integer(sql)
    }
}

/// Collects what the runner reports.
final class RecordingObserver: UplinkObserver {
    struct Delivery: Sendable {
        var events: [Int64]
        var trackProgress: Int64
    }

    struct State: Sendable {
        var delivered: [Delivery] = []
        /// Every delivery with the output that made it.
        var deliveries: [(output: String, events: [Int64])] = []
        var acknowledged: [(sequence: Int64, text: String)] = []
        var supervision: [(output: String, failed: Bool)] = []
        var last: UplinkOutputStatus?
        var statusByOutput: [String: UplinkOutputStatus] = [:]
        var messages: [UplinkMessage] = []
    }

    let state = Mutex(State())
    /// Read when a delivery arrives, to show what had been delivered of the track by then.
    let store: any DeliveryBacklog

    init(store: any DeliveryBacklog) {
        self.store = store
    }

    func eventsDelivered(_ sequences: [Int64], output: String) async {
        let progress = (try? store.progress(output: output, stream: .track)) ?? -1
        state.withLock {
            $0.delivered.append(Delivery(events: sequences, trackProgress: progress))
            $0.deliveries.append((output, sequences))
        }
    }

    func alarmAcknowledged(_ acknowledgement: UplinkAcknowledgement, output: String) async {
        state.withLock { $0.acknowledged.append((acknowledgement.eventSequence, acknowledgement.text)) }
    }

    func supervisionChanged(output: String, failed: Bool, at monotonicMilliseconds: Int64) async {
        state.withLock { $0.supervision.append((output, failed)) }
    }

    func messageReceived(_ message: UplinkMessage, output: String) async {
        state.withLock { $0.messages.append(message) }
    }

    func outputChanged(_ status: UplinkOutputStatus) {
        state.withLock {
            $0.last = status
            $0.statusByOutput[status.name] = status
        }
    }

    /// Waits (20 ms steps, 30 s at most) until `condition` returns a value.
    func waitFor<T>(_ what: String, _ condition: (State) -> T?) async throws -> T {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let value = state.withLock({ condition($0) }) { return value }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("timed out waiting for \(what)")
        throw CancellationError()
    }
}

/// The clocks the agent gives the runner.
enum SystemTime {
    static func milliseconds() -> Int64 { read(CLOCK_REALTIME) }
    static func monotonicMilliseconds() -> Int64 { read(CLOCK_MONOTONIC) }

    private static func read(_ clock: clockid_t) -> Int64 {
        var now = timespec()
        clock_gettime(clock, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}
