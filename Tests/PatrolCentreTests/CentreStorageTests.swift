import HTTPTypes
import HummingbirdTesting
import PatrolCentre
import PatrolCore
import PatrolSQLite
import PatrolTestSupport
import Testing

/// The centre's SQLite storage: what is stored once, what is kept apart, how old stores are migrated.
@Suite struct CentreStorageTests {
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
    /// covering every column).
    @Test(arguments: [1, 2]) func aStoreOfAnEarlierVersionIsMigratedKeepingEveryRecord(version: Int) async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let path = folder.file("centre.db")
        let start = UTCTime(year: 2026, month: 3, day: 1, hour: 8)
        try Self.makeStore(version: version, at: path, points: 1000, from: start)

        let storage = try SQLiteCentreStorage(path: path)
        let check = try SQLiteConnection(path: path)
        #expect(try check.integer("PRAGMA user_version") == 3)
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

    /// A store as schema `version` (1 or 2) left it, holding a device, `points` track points (two of
    /// them in the same millisecond), two alarms and a heartbeat.
    static func makeStore(version: Int, at path: String, points: Int, from start: UTCTime) throws {
        let store = try SQLiteConnection(path: path)
        let startMs = start.millisecondsSinceEpoch
        let timeIndexes = version < 2 ? "" : """
            CREATE INDEX track_points_by_time ON track_points (device, time_ms, sequence, lat_e7, lon_e7, mode, alt_dm,
                speed_cm_s, track_cdeg, hdop_c, satellites);
            CREATE INDEX heartbeats_by_time ON heartbeats (device, time_ms);
            CREATE INDEX events_by_time ON events (device, time_ms);
            """
        try store.executeScript("""
            PRAGMA journal_mode = WAL;
            CREATE TABLE devices (
                id TEXT PRIMARY KEY, hmac_key BLOB NOT NULL, registered_ms INTEGER NOT NULL,
                revoked_ms INTEGER, last_seen_ms INTEGER);
            CREATE TABLE staff (
                name TEXT PRIMARY KEY, token_sha256 BLOB NOT NULL UNIQUE, created_ms INTEGER NOT NULL);
            CREATE TABLE track_points (
                device TEXT NOT NULL, sequence INTEGER NOT NULL, time_ms INTEGER NOT NULL,
                lat_e7 INTEGER NOT NULL, lon_e7 INTEGER NOT NULL, mode INTEGER NOT NULL,
                alt_dm INTEGER, speed_cm_s INTEGER, track_cdeg INTEGER, hdop_c INTEGER, satellites INTEGER,
                received_ms INTEGER NOT NULL,
                PRIMARY KEY (device, sequence)) WITHOUT ROWID;
            CREATE TABLE events (
                id INTEGER PRIMARY KEY, device TEXT NOT NULL, sequence INTEGER NOT NULL,
                kind TEXT NOT NULL, time_ms INTEGER NOT NULL, time_source TEXT NOT NULL,
                lat_e7 INTEGER, lon_e7 INTEGER, fix_age_ms INTEGER, button TEXT, payload TEXT NOT NULL,
                received_ms INTEGER NOT NULL, acknowledged_by TEXT, acknowledged_ms INTEGER,
                UNIQUE (device, sequence));
            CREATE INDEX open_alarms ON events (kind, acknowledged_ms);
            CREATE TABLE heartbeats (
                device TEXT NOT NULL, sequence INTEGER NOT NULL, time_ms INTEGER NOT NULL,
                time_source TEXT NOT NULL, pending_records INTEGER NOT NULL, received_ms INTEGER NOT NULL,
                PRIMARY KEY (device, sequence)) WITHOUT ROWID;
            CREATE TABLE downlink (
                id INTEGER PRIMARY KEY AUTOINCREMENT, device TEXT NOT NULL, alarm_sequence INTEGER NOT NULL,
                acknowledged_by TEXT NOT NULL, acknowledged_ms INTEGER NOT NULL);
            CREATE INDEX downlink_by_device ON downlink (device, id);
            \(timeIndexes)
            PRAGMA user_version = \(version);
            INSERT INTO devices VALUES ('car-12', x'00112233', \(startMs), NULL, \(startMs));
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < \(points))
            INSERT INTO track_points SELECT 'car-12', i, \(startMs) + (i - (i = 2)) * 1000, 525200000 + i, 134050000 + i, 3,
                340, 1200, 4500, 90, 10, \(startMs) FROM n ORDER BY random();
            INSERT INTO events (device, sequence, kind, time_ms, time_source, button, payload, received_ms) VALUES
                ('car-12', 1, 'panic', \(startMs + 500), 'gnss', 'panic', '{}', \(startMs)),
                ('car-12', 2, 'panic', \(startMs + 500), 'gnss', 'panic', '{}', \(startMs));
            INSERT INTO heartbeats VALUES ('car-12', 1, \(startMs), 'gnss', 0, \(startMs));
            """)
    }
}
