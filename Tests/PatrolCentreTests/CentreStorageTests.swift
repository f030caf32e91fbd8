import HTTPTypes
import HummingbirdTesting
import NIOCore
@testable import PatrolCentre
import PatrolCore
import PatrolSQLite
import PatrolTestSupport
import Synchronization
import Testing

/// The centre's SQLite storage: what is stored once, what is kept apart, how old stores are
/// migrated, and that an alarm is not written behind a queue of bulk uploads.
///
/// Tests that need writes to queue hold SQLite's write lock from a second connection for a moment
/// (`WriteLockHolder`): every write of the storage then waits for it, as behind a slow disk.
@Suite(.serialized) struct CentreStorageTests {
    @Test func twoAlarmsFromOneDeviceInTheSameMillisecondAreBothStoredAndListed() async throws {
        let centre = try CentreHarness()
        let key = try await centre.addDevice("car-12")
        let token = try await centre.addStaff("ann")
        // A double press: two alarms, one millisecond, the device's own sequences tell them apart.
        let batch = UplinkBatch(deviceID: "car-12", events: [Sample.alarm(7, at: centre.now), Sample.alarm(8, at: centre.now)])
        let alarms = try await centre.live { client in
            let answer = try await SignedRequest(device: "car-12", key: key, batch: batch, time: centre.now).send(client)
            #expect(try answer.decoded(IngestResponse.self).accepted["event"] == [[7, 8]])
            return try await client.execute(uri: "/v1/alarms?open=true", method: .get, headers: [.authorization: "Bearer \(token)"])
                .decoded(AlarmList.self).alarms
        }
        #expect(alarms.map(\.sequence) == [7, 8])
        #expect(try centre.committedCount("events") == 2)
    }

    @Test func trackPointsAtOneTimeAreKeptApartBySequenceAndStoredOnce() async throws {
        let centre = try CentreHarness()
        let time = centre.now
        var points = Sample.track(1...3, from: time)
        points[1].timeMilliseconds = points[0].timeMilliseconds // two fixes stamped in the same millisecond
        _ = try await centre.storage.ingest(UplinkBatch(deviceID: "car-12", trackPoints: points), at: time)
        var resent = Sample.track(2...4, from: time.adding(seconds: 60)) // 2 and 3 again, with other times
        resent[0].latitudeE7 = 0
        _ = try await centre.storage.ingest(UplinkBatch(deviceID: "car-12", trackPoints: resent), at: time)

        let stored = try await centre.storage.trackPoints(device: "car-12", in: time..<time.adding(seconds: 3600), after: nil, limit: 10)
        #expect(stored.map(\.sequence) == [1, 2, 3, 4])
        #expect(stored[1] == points[1], "the first copy of point 2 wins")
        #expect(try centre.committedCount("track_points") == 4)
    }

    /// Version 1 was made before coverage existed; version 2 added the time indexes (the track's
    /// covering every column); version 3 keyed the track by time; version 4 added duty records;
    /// version 5 added staff roles, passwords, console sessions and the audit log; version 6 JT/T 808
    /// terminals; version 8 streets and escalation (existing devices and staff become the district's).
    @Test(arguments: [1, 2, 3, 4, 5]) func aStoreOfAnEarlierVersionIsMigratedKeepingEveryRecord(version: Int) async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let path = folder.file("centre.db")
        let start = UTCTime(year: 2026, month: 3, day: 1, hour: 8)
        try Self.makeStore(version: version, at: path, points: 1000, from: start)

        let storage = try SQLiteCentreStorage(path: path)
        let check = try SQLiteConnection(path: path)
        #expect(try check.integer("PRAGMA user_version") == 8)
        let staff = try #require(try await storage.staffMember(tokenHash: [0xAB]))
        #expect(staff.role == .admin && staff.passwordHash == nil, "a token made before roles keeps every route it had")
        #expect(staff.scope == .district, "staff made before streets are the district's")
        #expect(try check.integer("SELECT count(*) FROM sqlite_master WHERE name = 'track_points_by_time'") == 0,
                "the covering index that halved the ingest rate is gone")
        #expect(try check.integer("SELECT count(*) FROM sqlite_master WHERE name IN ('heartbeats_by_time', 'events_by_time')") == 2)
        #expect(try check.statement("PRAGMA integrity_check").firstRow { $0.text(0) } == "ok")

        var sequences: [UInt64] = []
        var times: [Int64] = []
        try await storage.forEachTrackPoint(device: "car-12", in: start..<start.adding(seconds: 86_400), pageSize: 100) {
            sequences.append($0.sequence)
            times.append($0.timeMilliseconds)
        }
        #expect(sequences.count == 1000)
        #expect(Set(sequences) == Set(1...1000))
        #expect(times == times.sorted(), "coverage reads the migrated points in time order")
        #expect(try await storage.events(device: "car-12", in: start..<start.adding(seconds: 86_400)).map(\.sequence) == [1, 2])
        #expect(try await storage.alarms(openOnly: true).map(\.event.sequence) == [1, 2])
        #expect(try await storage.device(id: "car-12") != nil)
        #expect(try check.integer("SELECT count(*) FROM heartbeats") == 1)

        // The migrated table still stores a resent point once and takes new ones.
        let resend = Sample.track(999...1001, from: start.adding(seconds: 5000))
        _ = try await storage.ingest(UplinkBatch(deviceID: "car-12", trackPoints: resend), at: start)
        #expect(try check.integer("SELECT count(*) FROM track_points") == 1001)
    }

    @Test func anAlarmIsCommittedAheadOfBulkUploadsQueuedBeforeIt() async throws {
        let centre = try CentreHarness()
        let storage = centre.storage
        let now = centre.now
        let lock = try WriteLockHolder(path: centre.configuration.databasePath)
        let uploads = (0..<6).map { index in
            let batch = UplinkBatch(deviceID: "car-7", trackPoints: Self.track(batch: index, points: 1000, from: now))
            return Task { try await storage.ingest(batch, at: now) }
        }
        try await Task.sleep(for: .milliseconds(300)) // all six uploads are waiting for the disk
        let alarm = Task { try await storage.ingest(UplinkBatch(deviceID: "car-12", events: [Sample.alarm(1, at: now)]), at: now) }
        try await Task.sleep(for: .milliseconds(100))
        try lock.release()

        _ = try await alarm.value
        let writtenFirst = try centre.committedCount("track_points")
        #expect(writtenFirst <= 2000, "the alarm waited for \(writtenFirst / 1000) of the 6 uploads queued before it")
        for upload in uploads { _ = try await upload.value }
        #expect(try centre.committedCount("track_points") == 6000)
        #expect(try centre.committedCount("events") == 1)
    }

    @Test func aBulkBatchCommitsItsAlarmAheadOfItsTrack() async throws {
        let centre = try CentreHarness()
        let storage = centre.storage
        let now = centre.now
        let lock = try WriteLockHolder(path: centre.configuration.databasePath)
        let uploads = (0..<4).map { index in
            let batch = UplinkBatch(deviceID: "car-7", trackPoints: Self.track(batch: index, points: 5000, from: now))
            return Task { try await storage.ingest(batch, at: now) }
        }
        try await Task.sleep(for: .milliseconds(300))
        let answered = Mutex(false)
        // A backlog batch that also carries an alarm (what an older agent or another client may send).
        let mixed = UplinkBatch(deviceID: "car-12", trackPoints: Self.track(batch: 0, points: 5000, from: now),
                                events: [Sample.alarm(1, at: now)])
        let upload = Task {
            _ = try await storage.ingest(mixed, at: now)
            answered.withLock { $0 = true }
        }
        try await Task.sleep(for: .milliseconds(100))
        try lock.release()

        let deadline = ContinuousClock.now + .seconds(20)
        while try centre.committedCount("events") == 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(1))
        }
        let trackThen = try centre.committedCount("track_points")
        #expect(try centre.committedCount("events") == 1)
        #expect(!answered.withLock { $0 }, "the batch is answered only when its track is committed too")
        #expect(trackThen < 25_000, "the alarm was committed after all the track queued before it")
        try await upload.value
        for upload in uploads { _ = try await upload.value }
        #expect(try centre.committedCount("track_points") == 25_000)
        #expect(try centre.committedCount("events") == 1)
    }

    @Test func aDeviceWithTooManyUploadsInFlightIsToldToRetryAndNothingOfThoseIsStored() async throws {
        let centre = try CentreHarness(maxBodyBytes: 1 << 22)
        let key = try await centre.addDevice("car-7")
        let now = centre.now
        let answers = try await centre.live { client in
            let port = try #require(client.port)
            // Twelve uploads at once from one device; each holds its place for a whole transaction.
            let uploads = (0..<12).map { index in
                let batch = UplinkBatch(deviceID: "car-7", trackPoints: Self.track(batch: index, points: 10_000, from: now))
                let upload = SignedRequest(device: "car-7", key: key, batch: batch, time: now)
                return Task { try await upload.sendOnOwnConnection(port: port) }
            }
            var answers: [TestClient.Response] = []
            for upload in uploads { answers.append(try await upload.value) }
            let later = UplinkBatch(deviceID: "car-7", trackPoints: Sample.track(120_001...120_010, from: now))
            let retried = try await SignedRequest(device: "car-7", key: key, batch: later, time: now).send(client)
            #expect(retried.status == .ok, "once its uploads are answered, the device is admitted again")
            return answers
        }
        let refused = answers.filter { $0.status == .tooManyRequests }
        #expect(!refused.isEmpty, "12 uploads in flight at once were all admitted")
        #expect(refused.allSatisfy { $0.headers[.retryAfter] == "1" && String(buffer: $0.body ?? ByteBuffer()).contains(#""error":"too-many-requests""#) })
        #expect(answers.allSatisfy { $0.status == .ok || $0.status == .tooManyRequests }, "\(answers.map(\.status))")
        #expect(try centre.committedCount("track_points") == Int64((12 - refused.count) * 10_000 + 10),
                "every admitted upload is stored, nothing of a refused one")
    }

    /// `points` 1 Hz points of upload number `batch`, with sequences and times of their own.
    static func track(batch: Int, points: Int, from start: UTCTime) -> [TrackRecord] {
        let first = UInt64(batch * points + 1)
        return Sample.track(first...first + UInt64(points - 1), from: start.adding(seconds: Double(batch * points)))
    }

    /// A store as schema `version` (1 to 3) left it, holding a device, `points` track points (two of
    /// them in the same millisecond), two alarms and a heartbeat.
    static func makeStore(version: Int, at path: String, points: Int, from start: UTCTime) throws {
        let store = try SQLiteConnection(path: path)
        let startMs = start.millisecondsSinceEpoch
        try store.executeScript("PRAGMA journal_mode = WAL;")
        try SQLiteCentreStorage.migrate(store, through: version)
        try store.executeScript("""
            INSERT INTO devices VALUES ('car-12', x'00112233', \(startMs), NULL, \(startMs));
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < \(points))
            INSERT INTO track_points SELECT 'car-12', i, \(startMs) + (i - (i = 2)) * 1000, 525200000 + i, 134050000 + i, 3,
                340, 1200, 4500, 90, 10, \(startMs) FROM n ORDER BY random();
            INSERT INTO events (device, sequence, kind, time_ms, time_source, button, payload, received_ms) VALUES
                ('car-12', 1, 'panic', \(startMs + 500), 'gnss', 'panic', '{}', \(startMs)),
                ('car-12', 2, 'panic', \(startMs + 500), 'gnss', 'panic', '{}', \(startMs));
            INSERT INTO heartbeats VALUES ('car-12', 1, \(startMs), 'gnss', 0, \(startMs));
            INSERT INTO staff (name, token_sha256, created_ms) VALUES ('ann', x'AB', \(startMs));
            """)
    }
}

/// Holds SQLite's write lock on a store from a connection of its own until `release()`, so every
/// write of the storage under test waits, as it would behind a slow disk (the storage's busy
/// timeout is 5 s; hold it well under that).
final class WriteLockHolder {
    private let connection: SQLiteConnection

    init(path: String) throws {
        connection = try SQLiteConnection(path: path)
        try connection.executeScript("BEGIN IMMEDIATE")
    }

    func release() throws {
        try connection.executeScript("COMMIT")
    }
}

extension SignedRequest {
    /// Sends on a connection of its own, so requests run at the centre at the same time (the
    /// harness's client sends one request after another on one connection).
    func sendOnOwnConnection(port: Int) async throws -> TestClient.Response {
        let request = TestClient.Request(path, method: .post, headers: headers, body: ByteBuffer(bytes: body))
        return try await TestClient.withClient(host: "localhost", port: port) { try await $0.execute(request) }
    }
}
