import HTTPTypes
import HummingbirdTesting
import Logging
import PatrolCentre
import PatrolCentrePostgres
import PatrolCore
import PatrolTestSupport
import Synchronization
import Testing

/// The storage backends every conformance test runs against.
enum StorageKind: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case sqlite, postgres

    var testDescription: String { rawValue }

    /// Both, when PostgreSQL is installed here (`postgresIsInstalled` says so when it is not).
    static let available: [StorageKind] = PostgresServer.isInstalled ? allCases : [.sqlite]
}

/// One suite, two backends: what `CentreStorage` promises, checked on SQLite and on PostgreSQL.
/// "Two instances" are two storages on one database, as two `patrol-centre serve` processes open it.
@Suite(.serialized) struct StorageConformanceTests {
    @Test(.enabled(if: PostgresServer.isInstalled, "PostgreSQL 15 is not installed (scripts/setup.sh installs postgresql-15): the PostgreSQL half of the conformance suite is skipped"))
    func postgresIsInstalled() throws {
        #expect(try PostgresServer.shared().port > 0)
    }

    @Test(arguments: StorageKind.available)
    func anIngestIsCommittedWhenItReturns(backend: StorageKind) async throws {
        let centre = try await CentreHarness(backend: backend)
        let batch = UplinkBatch(deviceID: "car-12", trackPoints: Sample.track(1...500, from: centre.now),
                                events: [Sample.alarm(1, at: centre.now)])
        _ = try await centre.storage.ingest(batch, at: centre.now)
        #expect(try centre.committedCount("track_points") == 500, "a second connection sees every point")
        #expect(try centre.committedCount("events") == 1)
    }

    @Test(arguments: StorageKind.available)
    func aRecordTwoInstancesReceiveAtTheSameMomentIsStoredOnce(backend: StorageKind) async throws {
        let centre = try await CentreHarness(backend: backend)
        let instances = [centre.storage, try await centre.secondInstance()]
        let now = centre.now
        // Twenty rounds: both instances get the same batch at once (an agent's retry routed elsewhere).
        for round in 0..<20 {
            let first = UInt64(round * 100 + 1)
            let batch = UplinkBatch(deviceID: "car-12", trackPoints: Sample.track(first...first + 99, from: now.adding(seconds: Double(round * 100))),
                                    events: [Sample.alarm(UInt64(round + 1), at: now)])
            try await withThrowingTaskGroup(of: Void.self) { group in
                for storage in instances { group.addTask { _ = try await storage.ingest(batch, at: now) } }
                try await group.waitForAll()
            }
        }
        #expect(try centre.committedCount("track_points") == 2000)
        #expect(try centre.committedCount("events") == 20)
        #expect(try await instances[1].alarms(openOnly: true).map(\.event.sequence) == Array(1...20))
    }

    @Test(arguments: StorageKind.available)
    func trackPointsAtOneTimeAreKeptApartBySequenceAndTheFirstCopyWins(backend: StorageKind) async throws {
        let centre = try await CentreHarness(backend: backend)
        let time = centre.now
        var points = Sample.track(1...3, from: time)
        points[1].timeMilliseconds = points[0].timeMilliseconds
        points[2].altitudeDecimetres = nil
        points[2].satellitesUsed = nil
        _ = try await centre.storage.ingest(UplinkBatch(deviceID: "car-12", trackPoints: points), at: time)
        var resent = Sample.track(2...4, from: time.adding(seconds: 60))
        resent[0].latitudeE7 = 0
        _ = try await centre.storage.ingest(UplinkBatch(deviceID: "car-12", trackPoints: resent), at: time)

        let stored = try await centre.storage.trackPoints(device: "car-12", in: time..<time.adding(seconds: 3600), after: nil, limit: 10)
        #expect(stored.map(\.sequence) == [1, 2, 3, 4])
        #expect(stored[1] == points[1], "the first copy of point 2 wins")
        #expect(stored[2] == points[2], "absent values stay absent")
        #expect(try await centre.storage.trackPoints(device: "car-7", in: time..<time.adding(seconds: 3600), after: nil, limit: 10).isEmpty)
    }

    @Test(arguments: StorageKind.available)
    func trackPagesCoverARangeInTimeOrderWithoutGapsOrRepeats(backend: StorageKind) async throws {
        let centre = try await CentreHarness(backend: backend)
        let start = centre.now
        var points = Sample.track(1...1000, from: start)
        for index in stride(from: 0, to: 1000, by: 10) { points[index].timeMilliseconds = points[index + 1].timeMilliseconds } // ties
        _ = try await centre.storage.ingest(UplinkBatch(deviceID: "car-12", trackPoints: points.shuffled()), at: start)
        let range = start.adding(seconds: 100)..<start.adding(seconds: 900)
        var read: [TrackRecord] = []
        try await centre.storage.forEachTrackPoint(device: "car-12", in: range, pageSize: 37) { read.append($0) }
        let expected = points.filter { range.contains(UTCTime(millisecondsSinceEpoch: $0.timeMilliseconds)) }
            .sorted { ($0.timeMilliseconds, $0.sequence) < ($1.timeMilliseconds, $1.sequence) }
        #expect(read == expected)
    }

    @Test(arguments: StorageKind.available)
    func heartbeatsAndEventsAreListedByTimeWithinTheRange(backend: StorageKind) async throws {
        let centre = try await CentreHarness(backend: backend)
        let now = centre.now
        let heartbeats = (1...5).map { UplinkHeartbeat(sequence: UInt64($0), time: now.adding(seconds: Double(6 - $0) * 60), timeSource: "gnss", pendingRecords: 3) }
        let events = [Sample.alarm(2, at: now.adding(seconds: 120)), Sample.alarm(1, at: now.adding(seconds: 30)), Sample.alarm(3, at: now.adding(seconds: 7200))]
        _ = try await centre.storage.ingest(UplinkBatch(deviceID: "car-12", events: events, heartbeats: heartbeats), at: now)
        let hour = now..<now.adding(seconds: 3600)
        #expect(try await centre.storage.heartbeatTimes(device: "car-12", in: hour) == (1...5).map { now.adding(seconds: Double($0) * 60) })
        #expect(try await centre.storage.events(device: "car-12", in: hour) == [events[1], events[0]])
        #expect(try await centre.storage.events(device: "car-7", in: hour).isEmpty)
    }

    @Test(arguments: StorageKind.available)
    func anAcknowledgementIsQueuedForTheDeviceUntilItConfirmsIt(backend: StorageKind) async throws {
        let centre = try await CentreHarness(backend: backend)
        let now = centre.now
        let other = try await centre.secondInstance()
        _ = try await centre.storage.ingest(UplinkBatch(deviceID: "car-12", events: [Sample.alarm(9, at: now)]), at: now)
        let alarm = try #require(try await centre.storage.alarms(openOnly: true).first)
        #expect(try await other.acknowledgeAlarm(id: alarm.id + 1000, by: "ann", at: now) == .notFound)
        guard case .acknowledged(let acknowledged) = try await other.acknowledgeAlarm(id: alarm.id, by: "ann", at: now) else {
            Issue.record("not acknowledged")
            return
        }
        #expect(acknowledged.acknowledgedBy == "ann" && acknowledged.acknowledgedAt == now)
        guard case .alreadyAcknowledged(let again) = try await centre.storage.acknowledgeAlarm(id: alarm.id, by: "bob", at: now.adding(seconds: 5)) else {
            Issue.record("acknowledged twice")
            return
        }
        #expect(again.acknowledgedBy == "ann")
        #expect(try await centre.storage.alarms(openOnly: true).isEmpty)
        #expect(try await centre.storage.alarms(openOnly: false).map(\.acknowledgedBy) == ["ann"])

        // The device hears of it through whichever instance it talks to, until it confirms the message.
        let messages = try await centre.storage.ingest(UplinkBatch(deviceID: "car-12"), at: now)
        #expect(messages.map(\.alarmSequence) == [9])
        #expect(messages.first?.acknowledgedBy == "ann")
        let id = try #require(messages.first?.id)
        #expect(try await other.ingest(UplinkBatch(deviceID: "car-12"), at: now) == messages)
        var confirmed = UplinkBatch(deviceID: "car-12")
        confirmed.downlinkAcknowledgedThrough = UInt64(id)
        #expect(try await other.ingest(confirmed, at: now).isEmpty)
        #expect(try await centre.storage.ingest(UplinkBatch(deviceID: "car-12"), at: now).isEmpty)
    }

    @Test(arguments: StorageKind.available)
    func twoStaffAcknowledgingAtTwoInstancesAtOnceQueueOneMessage(backend: StorageKind) async throws {
        let centre = try await CentreHarness(backend: backend)
        let now = centre.now
        let instances = [centre.storage, try await centre.secondInstance()]
        _ = try await centre.storage.ingest(UplinkBatch(deviceID: "car-12", events: (1...10).map { Sample.alarm($0, at: now) }), at: now)
        let alarms = try await centre.storage.alarms(openOnly: true)
        for alarm in alarms {
            let answers = try await withThrowingTaskGroup(of: AlarmAcknowledgement.self) { group in
                for (index, storage) in instances.enumerated() {
                    group.addTask { try await storage.acknowledgeAlarm(id: alarm.id, by: "staff-\(index)", at: now) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let won = answers.filter { if case .acknowledged = $0 { true } else { false } }
            #expect(won.count == 1, "\(answers)")
        }
        #expect(try centre.committedCount("downlink") == 10)
    }

    @Test(arguments: StorageKind.available)
    func devicesAreRegisteredOnceRevokedOnceAndSeenWhenTheySend(backend: StorageKind) async throws {
        let centre = try await CentreHarness(backend: backend)
        let now = centre.now
        let key: [UInt8] = [0, 1, 2, 0xFF, 0x80]
        #expect(try await centre.storage.addDevice(id: "car-12", key: key, at: now))
        #expect(try await !centre.storage.addDevice(id: "car-12", key: [9], at: now), "the id is taken")
        #expect(try await centre.storage.addDevice(id: "car-7", key: [7], at: now))
        #expect(try await centre.storage.device(id: "car-12") == Device(id: "car-12", key: key, registeredAt: now))
        #expect(try await centre.storage.device(id: "car-99") == nil)

        _ = try await centre.storage.ingest(UplinkBatch(deviceID: "car-12"), at: now.adding(seconds: 30))
        _ = try await centre.storage.ingest(UplinkBatch(deviceID: "car-12"), at: now.adding(seconds: 10)) // a slow request answered late
        #expect(try await centre.storage.device(id: "car-12")?.lastSeen == now.adding(seconds: 30))

        #expect(try await centre.storage.revokeDevice(id: "car-7", at: now.adding(seconds: 60)))
        #expect(try await centre.storage.revokeDevice(id: "car-7", at: now.adding(seconds: 90)))
        #expect(try await !centre.storage.revokeDevice(id: "car-99", at: now))
        let devices = try await centre.storage.devices()
        #expect(devices.map(\.id) == ["car-12", "car-7"])
        #expect(devices[1].revokedAt == now.adding(seconds: 60), "revoking again keeps the first time")
    }

    @Test(arguments: StorageKind.available)
    func staffAreFoundByNameOrTheirTokensHashWithTheirRoleAndPassword(backend: StorageKind) async throws {
        let centre = try await CentreHarness(backend: backend)
        let hash = Secrets.staffTokenHash("token-of-ann")
        let ann = StaffMember(name: "ann", role: .supervisor, passwordHash: "scrypt$example", createdAt: centre.now)
        let bob = StaffMember(name: "bob", role: .operator, passwordHash: nil, createdAt: centre.now)
        #expect(try await centre.storage.addStaff(ann, tokenHash: hash))
        #expect(try await !centre.storage.addStaff(StaffMember(name: "ann", role: .admin, passwordHash: nil, createdAt: centre.now),
                                                   tokenHash: Secrets.staffTokenHash("other")), "the name is taken")
        #expect(try await centre.storage.addStaff(bob, tokenHash: Secrets.staffTokenHash("token-of-bob")))
        #expect(try await centre.storage.staffMember(tokenHash: hash) == ann)
        #expect(try await centre.storage.staffMember(name: "bob") == bob)
        #expect(try await centre.storage.staffMember(tokenHash: Secrets.staffTokenHash("token-of-eve")) == nil)
        #expect(try await centre.storage.staffMembers() == [ann, bob])
    }

    @Test(arguments: StorageKind.available)
    func aSessionIsSeenByEveryInstanceUntilItIsRemovedOrExpires(backend: StorageKind) async throws {
        let centre = try await CentreHarness(backend: backend)
        let now = centre.now
        let other = try await centre.secondInstance()
        let ann = StaffMember(name: "ann", role: .operator, passwordHash: nil, createdAt: now)
        _ = try await centre.storage.addStaff(ann, tokenHash: [1])
        try await centre.storage.addSession(idHash: [0xAA], name: "ann", csrfToken: "csrf-1", at: now)
        try await centre.storage.addSession(idHash: [0xBB], name: "ann", csrfToken: "csrf-2", at: now)
        try await other.touchSession(idHash: [0xAA], at: now.adding(seconds: 600))
        try await other.touchSession(idHash: [0xAA], at: now.adding(seconds: 300)) // a slower request: no going back
        #expect(try await other.session(idHash: [0xAA]) == StaffSession(staff: ann, csrfToken: "csrf-1", createdAt: now,
                                                                        lastUsedAt: now.adding(seconds: 600)))
        try await other.removeSessions(idleBefore: now.adding(seconds: 60), createdBefore: now)
        #expect(try await centre.storage.session(idHash: [0xAA]) != nil)
        #expect(try await centre.storage.session(idHash: [0xBB]) == nil, "idle for too long")
        try await centre.storage.removeSession(idHash: [0xAA])
        #expect(try await other.session(idHash: [0xAA]) == nil)
    }

    @Test(arguments: StorageKind.available)
    func signInFailuresAreCountedAcrossInstancesUntilCleared(backend: StorageKind) async throws {
        let centre = try await CentreHarness(backend: backend)
        let now = centre.now
        let instances = [centre.storage, try await centre.secondInstance()]
        for attempt in 1...6 {
            let failures = try await instances[attempt % 2].recordSignInFailure(key: "name:ann", at: now.adding(seconds: Double(attempt)))
            #expect(failures == SignInFailures(count: attempt, lastAt: now.adding(seconds: Double(attempt))))
        }
        #expect(try await instances[1].signInFailures(key: "name:ann")?.count == 6)
        #expect(try await instances[1].signInFailures(key: "name:bob") == nil)
        try await instances[0].clearSignInFailures(key: "name:ann")
        #expect(try await instances[1].signInFailures(key: "name:ann") == nil)
        _ = try await instances[0].recordSignInFailure(key: "address:127.0.0.1", at: now)
        _ = try await instances[0].recordSignInFailure(key: "name:carl", at: now.adding(seconds: 86_401))
        #expect(try await instances[1].signInFailures(key: "address:127.0.0.1") == nil, "a day old: forgotten")
    }

    @Test(arguments: StorageKind.available)
    func theAuditLogListsByTimeWithinALimitAndKeepsAcknowledgementNotes(backend: StorageKind) async throws {
        let centre = try await CentreHarness(backend: backend)
        let now = centre.now
        let entries = [
            AuditEntry(time: now.adding(seconds: 20), actor: "ann", action: AuditEntry.Action.alarmAcknowledged,
                       subject: AuditEntry.alarmSubject(7), address: "127.0.0.1", detail: "on my way"),
            AuditEntry(time: now, actor: "root", action: AuditEntry.Action.deviceAdded, subject: "car-12"),
            AuditEntry(time: now.adding(seconds: 10), actor: "bob", action: AuditEntry.Action.signIn, address: "127.0.0.2"),
        ]
        for entry in entries { try await centre.storage.appendAudit(entry) }
        let listed = try await centre.storage.auditEntries(in: nil, limit: 10)
        #expect(listed.map(\.actor) == ["root", "bob", "ann"])
        #expect(listed.map { var entry = $0; entry.id = 0; return entry } == [entries[1], entries[2], entries[0]])
        #expect(try await centre.storage.auditEntries(in: now.adding(seconds: 5)..<now.adding(seconds: 60), limit: 1).map(\.actor) == ["bob"])
        #expect(try await centre.storage.acknowledgementNotes(alarmIDs: [7, 8]) == [7: "on my way"])
    }

    @Test(arguments: StorageKind.available)
    func theMapSeesEachDevicesNewestPointAndReportedBacklog(backend: StorageKind) async throws {
        let centre = try await CentreHarness(backend: backend)
        let now = centre.now
        var points = Sample.track(1...50, from: now)
        points[10].timeMilliseconds = points[49].timeMilliseconds + 5_000 // sent late, yet the newest by time
        let heartbeats = [UplinkHeartbeat(sequence: 1, time: now.adding(seconds: 60), timeSource: "gnss", pendingRecords: 7),
                          UplinkHeartbeat(sequence: 2, time: now, timeSource: "gnss", pendingRecords: 900)]
        _ = try await centre.storage.ingest(UplinkBatch(deviceID: "car-12", trackPoints: points.shuffled(), heartbeats: heartbeats), at: now)
        #expect(try await centre.storage.latestTrackPoint(device: "car-12") == points[10])
        #expect(try await centre.storage.latestTrackPoint(device: "car-7") == nil)
        #expect(try await centre.storage.reportedBacklogs() == ["car-12": ReportedBacklog(pendingRecords: 7, reportedAt: now.adding(seconds: 60))])
    }

    @Test(arguments: StorageKind.available)
    func dutyRecordedAtTheCentreIsListedByTimeWithinTheRange(backend: StorageKind) async throws {
        let centre = try await CentreHarness(backend: backend)
        let now = centre.now
        let records = [
            CentreDutyRecord(person: "ann", device: "car-12", change: .signOff, time: now.adding(seconds: 3600), recordedBy: "desk", recordedAt: now),
            CentreDutyRecord(person: "ann", device: "car-12", change: .signOn, time: now, recordedBy: "desk", recordedAt: now),
            CentreDutyRecord(person: "bob", device: "car-7", change: .signOn, time: now.adding(seconds: 7200), recordedBy: "desk", recordedAt: now),
        ]
        for record in records { try await centre.storage.addDutyRecord(record) }
        #expect(try await centre.storage.dutyRecords(in: now..<now.adding(seconds: 7200)) == [records[1], records[0]])
    }

    @Test(arguments: StorageKind.available)
    func aDevicesOpenAlarmsAreItsOwnAlarmsNotYetAcknowledged(backend: StorageKind) async throws {
        let centre = try await CentreHarness(backend: backend)
        let now = centre.now
        let checkIn = UplinkEvent(sequence: 3, kind: "check-in", time: now, timeSource: "gnss", buttonID: "tag-3", payloadJSON: "{}")
        for device in ["car-12", "car-7"] {
            _ = try await centre.storage.ingest(UplinkBatch(deviceID: device, events: [Sample.alarm(1, at: now), Sample.alarm(2, at: now), checkIn]),
                                                at: now)
        }
        let first = try #require(try await centre.storage.openAlarms(device: "car-12").first)
        _ = try await centre.storage.acknowledgeAlarm(id: first.id, by: "ann", at: now)
        #expect(try await centre.storage.openAlarms(device: "car-12").map(\.event.sequence) == [2])
        #expect(try await centre.storage.openAlarms(device: "car-7").map(\.event.sequence) == [1, 2])
        #expect(try await centre.storage.openAlarms(device: "car-99").isEmpty)
    }

    @Test(arguments: StorageKind.available)
    func aNonceIsUsedOnceUntilItExpiresAndAReplayStoresNothing(backend: StorageKind) async throws {
        let centre = try await CentreHarness(backend: backend)
        let now = centre.now
        let other = try await centre.secondInstance()
        for device in ["car-12", "car-7"] { _ = try await centre.storage.addDevice(id: device, key: [1], at: now) }
        let expiry = now.adding(seconds: 600)
        let nonce = RequestNonce("00ff", until: expiry)
        func report(_ sequences: ClosedRange<UInt64>, of device: String = "car-12") -> UplinkBatch {
            UplinkBatch(deviceID: device, trackPoints: Sample.track(sequences, from: now))
        }
        #expect(try await other.requestSigner(device: "car-12", nonce: "00ff", at: now) == RequestSigner(
            device: try #require(try await other.device(id: "car-12")), nonceIsUsed: false))
        #expect(try await centre.storage.ingest(report(1...5), usingUp: nonce, at: now) == .stored(downlink: []))
        #expect(try await other.requestSigner(device: "car-12", nonce: "00ff", at: now)?.nonceIsUsed == true)
        #expect(try await other.requestSigner(device: "car-99", nonce: "00ff", at: now) == nil, "no such device")

        // A replay at the other instance, of a report and of an alarm (a transaction of its own): nothing of either is stored.
        let later = now.adding(seconds: 599)
        #expect(try await other.ingest(report(6...10), usingUp: nonce, at: later) == .replayed)
        var alarm = report(11...11)
        alarm.events = [Sample.alarm(1, at: now)]
        #expect(try await other.ingest(alarm, usingUp: nonce, at: later) == .replayed)
        #expect(try centre.committedCount("track_points") == 5)
        #expect(try centre.committedCount("events") == 0)
        #expect(try await other.device(id: "car-12")?.lastSeen == now, "a replay does not mark the device seen")

        #expect(try await other.ingest(report(1...5, of: "car-7"), usingUp: nonce, at: now) == .stored(downlink: []), "nonces are per device")
        #expect(try await other.requestSigner(device: "car-12", nonce: "00ff", at: expiry)?.nonceIsUsed == false)
        #expect(try await other.ingest(alarm, usingUp: RequestNonce("00ff", until: expiry.adding(seconds: 600)), at: expiry)
                == .stored(downlink: []), "expired: usable again")
        #expect(try centre.committedCount("events") == 1)
    }

    @Test(arguments: StorageKind.available)
    func aTerminalIsRegisteredOnceFoundByItsPhoneAndRefusedOnceRevoked(backend: StorageKind) async throws {
        let centre = try await CentreHarness(backend: backend)
        let now = centre.now
        let other = try await centre.secondInstance()
        #expect(try await centre.storage.addTerminal(id: "car-7", phone: "13912345678", at: now))
        #expect(try await !other.addTerminal(id: "car-7", phone: "13900000000", at: now), "the id is taken")
        #expect(try await !other.addTerminal(id: "car-8", phone: "13912345678", at: now), "the phone is taken")
        #expect(try await other.device(id: "car-8") == nil, "a refused terminal leaves no device behind")
        #expect(try await other.terminalDevice(phone: "13912345678") == "car-7")
        #expect(try await other.terminalAuthCode(phone: "13912345678") == nil, "no code before it registers")
        try await centre.storage.setTerminalAuthCode([1, 2, 3], phone: "13912345678")
        #expect(try await other.terminalAuthCode(phone: "13912345678") == [1, 2, 3])

        #expect(try await centre.storage.revokeDevice(id: "car-7", at: now))
        #expect(try await other.terminalDevice(phone: "13912345678") == nil)
        #expect(try await other.terminalAuthCode(phone: "13912345678") == nil)
        let report = TerminalReport(sequence: 1, time: now, point: Sample.track(1...1, from: now)[0], emergency: true, detailsJSON: "{}")
        await #expect(throws: TerminalRevoked.self) { try await other.ingestTerminalReports([report], device: "car-7", at: now) }
        await #expect(throws: TerminalRevoked.self) { try await other.ingestTerminalReports([report], device: "car-99", at: now) }
        #expect(try centre.committedCount("track_points") == 0 && centre.committedCount("events") == 0, "a revoked terminal stores nothing")
    }

    /// An episode's alarm is raised once whichever instance the terminal reaches: resent reports,
    /// a backlog older than the last change (even one with the flag set after the episode closed) and a
    /// reconnect to the other instance add none; a new episode after the flag cleared adds one.
    @Test(arguments: StorageKind.available)
    func aTerminalsEmergencyEpisodeRaisesOneAlarmAcrossResendsBacklogsAndInstances(backend: StorageKind) async throws {
        let centre = try await CentreHarness(backend: backend)
        let now = centre.now
        let other = try await centre.secondInstance()
        #expect(try await centre.storage.addTerminal(id: "car-7", phone: "13912345678", at: now))
        let points = Sample.track(1...6, from: now)
        func report(_ index: Int, emergency: Bool) -> TerminalReport {
            TerminalReport(sequence: points[index].sequence, time: UTCTime(millisecondsSinceEpoch: points[index].timeMilliseconds),
                           point: points[index], emergency: emergency, detailsJSON: "{\"alarm\":\(emergency ? 1 : 0)}")
        }
        _ = try await centre.storage.ingestTerminalReports([report(1, emergency: false), report(2, emergency: true)], device: "car-7", at: now)
        _ = try await other.ingestTerminalReports([report(2, emergency: true), report(3, emergency: false)], device: "car-7", at: now)
        _ = try await other.ingestTerminalReports([report(0, emergency: true)], device: "car-7", at: now) // blind-area backlog
        #expect(try await other.alarms(openOnly: true).map(\.event.sequence) == [3])
        _ = try await centre.storage.ingestTerminalReports([report(4, emergency: true), report(5, emergency: true)], device: "car-7",
                                                          at: now.adding(seconds: 9))
        let alarms = try await centre.storage.alarms(openOnly: true)
        #expect(alarms.map(\.event.sequence) == [3, 5])
        #expect(alarms.map(\.event.kind) == [EventKind.sos.code, EventKind.sos.code])
        #expect(try centre.committedCount("track_points") == 6, "each report's point once")
        #expect(try await other.device(id: "car-7")?.lastSeen == now.adding(seconds: 9))
        #expect(try await centre.storage.ingestTerminalReports([], device: "car-7", at: now).isEmpty, "a heartbeat, nothing pending")
    }

    @Test(arguments: StorageKind.available)
    func aTerminalsAcknowledgementWaitsForItAtEveryInstanceUntilForgotten(backend: StorageKind) async throws {
        let centre = try await CentreHarness(backend: backend)
        let now = centre.now
        let other = try await centre.secondInstance()
        #expect(try await centre.storage.addTerminal(id: "car-7", phone: "13912345678", at: now))
        let sos = TerminalReport(sequence: 4, time: now, point: nil, emergency: true, detailsJSON: "{}")
        #expect(try await centre.storage.ingestTerminalReports([sos], device: "car-7", at: now).isEmpty)
        #expect(try await other.devicesWithPendingDownlink().isEmpty)
        let alarm = try #require(try await other.alarms(openOnly: true).first)
        guard case .acknowledged = try await other.acknowledgeAlarm(id: alarm.id, by: "ann", at: now) else {
            Issue.record("not acknowledged")
            return
        }
        #expect(try await centre.storage.devicesWithPendingDownlink() == ["car-7"])
        let pending = try await centre.storage.pendingDownlink(device: "car-7")
        #expect(pending.map(\.alarmSequence) == [4] && pending.map(\.acknowledgedBy) == ["ann"])
        #expect(try await other.ingestTerminalReports([], device: "car-7", at: now) == pending)
        try await other.forgetDownlink(device: "car-7", through: try #require(pending.last).id)
        #expect(try await centre.storage.pendingDownlink(device: "car-7").isEmpty)
        #expect(try await centre.storage.devicesWithPendingDownlink().isEmpty)
    }

    /// Two centre instances on one database, and a third started later (a restart): a signed request
    /// accepted by the first is refused as a replay by both others.
    @Test(arguments: StorageKind.available)
    func aReplayedRequestIsRefusedByAnotherInstanceAndAfterARestart(backend: StorageKind) async throws {
        let centre = try await CentreHarness(backend: backend)
        let key = try await centre.addDevice("car-12")
        let request = SignedRequest(device: "car-12", key: key, batch: UplinkBatch(deviceID: "car-12", events: [Sample.alarm(1, at: centre.now)]),
                                    time: centre.now)
        let first = try await centre.live { client in try await request.send(client) }
        #expect(first.status == .ok)
        for _ in 0..<2 { // the second instance, then a "restarted" one: each opens the database afresh
            let instance = try await centre.secondInstance()
            let app = try CentreApplication.make(storage: instance, configuration: centre.configuration, clock: centre.clock,
                                                 logger: Logger(label: "test-centre-b"))
            let replay = try await app.test(.live) { client in try await request.send(client) }
            #expect(replay.status == .unauthorized)
            #expect(String(buffer: replay.body).contains("replayed"))
        }
    }
}
