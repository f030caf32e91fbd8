#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PatrolCore
import PatrolSQLite

/// The default `CentreStorage`: one SQLite file in WAL mode with `synchronous=FULL`, so an ingest
/// that returned is on disk before the device is told it was accepted.
///
/// The file holds every device's HMAC key, so it is created with mode 0600 and must stay so.
/// An actor owns the one connection: writes are serialised anyway by SQLite, and large batches
/// make one transaction per request cheap. Bulk track uploads queue outside the actor, in
/// `bulkLane`, so alarms, staff requests and small batches never wait behind a backlog's worth of
/// them (`ingest`).
public actor SQLiteCentreStorage: CentreStorage {
    /// Internal, not private: the staff, audit and terminal methods live in their own files.
    let connection: SQLiteConnection

    public init(path: String) throws {
        try Self.createPrivately(path)
        let connection = try SQLiteConnection(path: path)
        try connection.executeScript("""
            PRAGMA journal_mode = WAL;
            PRAGMA synchronous = FULL;
            PRAGMA foreign_keys = ON;
            PRAGMA busy_timeout = 5000;
            """)
        try Self.migrate(connection)
        self.connection = connection
    }

    /// Creates the file 0600 before SQLite opens it (SQLite would use the umask, often 0644);
    /// SQLite gives its -wal and -shm files the same mode.
    private static func createPrivately(_ path: String) throws {
        let descriptor = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw SQLiteError(resultCode: 14, detail: String(cString: strerror(errno)), path: path, operation: "create")
        }
        close(descriptor)
    }

    /// The schema's versions in order: step N takes a store from `user_version` N to N + 1.
    private static let migrations: [@Sendable (SQLiteConnection) throws -> Void] = [
        createTables, indexTrackByTime, keyTrackByTime, addDutyRecords, addConsoleTables, addTerminals, addNonces, addStreets,
    ]

    /// The schema version this centre writes (`PRAGMA user_version` of an up-to-date file).
    public static var schemaVersion: Int { migrations.count }

    /// Brings the schema to `version` (the latest unless a test builds a store as an older
    /// version left it), one transaction per step.
    static func migrate(_ connection: SQLiteConnection, through version: Int = migrations.count) throws {
        for step in stride(from: Int(try connection.integer("PRAGMA user_version")), to: min(version, migrations.count), by: 1) {
            try migrations[step](connection)
        }
    }

    /// Version 8: streets within a district: a device's and a staff member's street (NULL: the
    /// district's own, so every existing device and account stays as it was), and an alarm's
    /// escalation to the district desk (who, when, their note).
    private static func addStreets(_ connection: SQLiteConnection) throws {
        try connection.transaction {
            try connection.executeScript("""
                ALTER TABLE devices ADD COLUMN street TEXT;
                ALTER TABLE staff ADD COLUMN street TEXT;
                ALTER TABLE events ADD COLUMN escalated_by TEXT;
                ALTER TABLE events ADD COLUMN escalated_ms INTEGER;
                ALTER TABLE events ADD COLUMN escalation_note TEXT;
                CREATE INDEX devices_by_street ON devices (street);
                PRAGMA user_version = 8;
                """)
        }
    }

    /// Version 7: the nonces of accepted signed requests, until they expire, so that a captured
    /// request is refused after a restart too (they were kept in memory before).
    private static func addNonces(_ connection: SQLiteConnection) throws {
        try connection.transaction {
            try connection.executeScript("""
                CREATE TABLE nonces (
                    device TEXT NOT NULL, nonce TEXT NOT NULL, expires_ms INTEGER NOT NULL,
                    PRIMARY KEY (device, nonce)) WITHOUT ROWID;
                CREATE INDEX nonces_by_expiry ON nonces (expires_ms);
                PRAGMA user_version = 7;
                """)
        }
    }

    /// Version 4: sign-ons and sign-offs staff record at the centre (a board's badge reads are
    /// events and stay in `events`), read by time for the duty report.
    private static func addDutyRecords(_ connection: SQLiteConnection) throws {
        try connection.transaction {
            try connection.executeScript("""
                CREATE TABLE duty_records (
                    id INTEGER PRIMARY KEY, person TEXT NOT NULL, device TEXT NOT NULL, change TEXT NOT NULL,
                    time_ms INTEGER NOT NULL, recorded_by TEXT NOT NULL, recorded_ms INTEGER NOT NULL);
                CREATE INDEX duty_records_by_time ON duty_records (time_ms);
                PRAGMA user_version = 4;
                """)
        }
    }

    /// Version 3: the track table itself is keyed for the coverage query, (device, time, sequence),
    /// so a time range is one walk of the table, and only the narrow unique index on (device,
    /// sequence) that keeps a resent point from being stored twice is written besides. Version 2's
    /// covering index wrote every column twice and halved the ingest rate
    /// (Benchmarks/ingest_benchmark.py measures the centre against a bare SQLite insert of the same rows).
    private static func keyTrackByTime(_ connection: SQLiteConnection) throws {
        try connection.transaction {
            try connection.executeScript("""
                CREATE TABLE track_points_v3 (
                    device TEXT NOT NULL, sequence INTEGER NOT NULL, time_ms INTEGER NOT NULL,
                    lat_e7 INTEGER NOT NULL, lon_e7 INTEGER NOT NULL, mode INTEGER NOT NULL,
                    alt_dm INTEGER, speed_cm_s INTEGER, track_cdeg INTEGER, hdop_c INTEGER, satellites INTEGER,
                    received_ms INTEGER NOT NULL,
                    PRIMARY KEY (device, time_ms, sequence)) WITHOUT ROWID;
                INSERT INTO track_points_v3 SELECT device, sequence, time_ms, lat_e7, lon_e7, mode, alt_dm, speed_cm_s,
                    track_cdeg, hdop_c, satellites, received_ms FROM track_points ORDER BY device, time_ms, sequence;
                DROP TABLE track_points;
                ALTER TABLE track_points_v3 RENAME TO track_points;
                CREATE UNIQUE INDEX track_points_once ON track_points (device, sequence);
                PRAGMA user_version = 3;
                """)
        }
    }

    /// Version 2: coverage and track export read one device's points by time. The index carried
    /// every column they read, so a time range was one sequential walk of the index and never a
    /// lookup into the table per point (2.9 M points: see Benchmarks/coverage.sh); version 3
    /// replaces it.
    private static func indexTrackByTime(_ connection: SQLiteConnection) throws {
        try connection.transaction {
            try connection.executeScript("""
                CREATE INDEX track_points_by_time ON track_points (device, time_ms, sequence, lat_e7, lon_e7, mode, alt_dm,
                    speed_cm_s, track_cdeg, hdop_c, satellites);
                CREATE INDEX heartbeats_by_time ON heartbeats (device, time_ms);
                CREATE INDEX events_by_time ON events (device, time_ms);
                PRAGMA user_version = 2;
                """)
        }
    }

    private static func createTables(_ connection: SQLiteConnection) throws {
        try connection.transaction {
            try connection.executeScript("""
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
                PRAGMA user_version = 1;
                """)
        }
    }

    // MARK: Devices

    public func addDevice(id: String, key: [UInt8], street: String?, at time: UTCTime) throws -> Bool {
        try connection.statement("INSERT OR IGNORE INTO devices (id, hmac_key, registered_ms, street) VALUES (?, ?, ?, ?)")
            .execute(id, key, time.millisecondsSinceEpoch, street)
        return connection.changes == 1
    }

    public func assignDevice(id: String, street: String?) throws -> Bool {
        try connection.statement("UPDATE devices SET street = ? WHERE id = ?").execute(street, id)
        return connection.changes == 1
    }

    public func revokeDevice(id: String, at time: UTCTime) throws -> Bool {
        try connection.statement("UPDATE devices SET revoked_ms = coalesce(revoked_ms, ?) WHERE id = ?")
            .execute(time.millisecondsSinceEpoch, id)
        return connection.changes == 1
    }

    /// A device's columns, as `device(from:)` reads them.
    private static let deviceColumns = "SELECT id, hmac_key, registered_ms, revoked_ms, last_seen_ms, street"

    public func device(id: String) throws -> Device? {
        try connection.statement(Self.deviceColumns + " FROM devices WHERE id = ?").firstRow(id, read: Self.device(from:))
    }

    public func requestSigner(device id: String, nonce: String, at now: UTCTime) throws -> RequestSigner? {
        try connection.statement(Self.deviceColumns + """
            , EXISTS (SELECT 1 FROM nonces WHERE device = ?1 AND nonce = ?2 AND expires_ms > ?3) FROM devices WHERE id = ?1
            """).firstRow(id, nonce, now.millisecondsSinceEpoch) { row in
            RequestSigner(device: Self.device(from: row), nonceIsUsed: row.int64(6) != 0)
        }
    }

    /// `?1` is the scope's street, NULL for the district (every device).
    public func devices(in scope: StaffScope) throws -> [Device] {
        var devices: [Device] = []
        try connection.statement(Self.deviceColumns + " FROM devices WHERE ?1 IS NULL OR street = ?1 ORDER BY id")
            .forEachRow(scope.street) { devices.append(Self.device(from: $0)) }
        return devices
    }

    private static func device(from row: SQLiteRow) -> Device {
        Device(id: row.text(0), key: row.blob(1), registeredAt: UTCTime(millisecondsSinceEpoch: row.int64(2)),
               revokedAt: row.optionalInt64(3).map(UTCTime.init(millisecondsSinceEpoch:)), lastSeen: row.optionalInt64(4).map(UTCTime.init(millisecondsSinceEpoch:)),
               street: row.optionalText(5))
    }

    // MARK: Ingest

    /// More track points than this make a batch bulk work, which waits its turn in `bulkLane`; up to
    /// this many ride along with the batch's events (the agent adds the newest position to every
    /// batch of alarms).
    static let trackPointsAlongsideEvents = 64

    /// Bulk track writes enter the actor one at a time, so an alarm waits behind at most one of them
    /// (a 2,000-point batch: a few milliseconds), never behind every upload queued at the centre.
    private let bulkLane = BulkLane()

    /// Commits `batch` before returning, each record at most once, in one or two transactions:
    ///
    /// * a batch of few track points is one transaction, served ahead of any bulk work waiting;
    /// * a track-only bulk batch is one transaction, written in its turn in `bulkLane`;
    /// * a bulk batch that carries events commits its events, heartbeats and downlink bookkeeping
    ///   first, ahead of the bulk work, and then its track points in their turn. Should the second
    ///   fail, the request fails and the device resends the batch: the events are acknowledged again
    ///   and not stored twice (Docs/uplink-protocol.md).
    public nonisolated func ingest(_ batch: UplinkBatch, usingUp nonce: RequestNonce?, at time: UTCTime) async throws -> IngestOutcome {
        guard batch.trackPoints.count > Self.trackPointsAlongsideEvents else { return try await commit(batch, usingUp: nonce, at: time) }
        guard !batch.events.isEmpty else { return try await bulkLane.inTurn { try await self.commit(batch, usingUp: nonce, at: time) } }
        var urgent = batch
        urgent.trackPoints = []
        let outcome = try await commit(urgent, usingUp: nonce, at: time)
        guard case .stored = outcome else { return outcome }
        try await bulkLane.inTurn { try await self.commitTrack(batch.trackPoints, of: batch.deviceID, at: time) }
        return outcome
    }

    /// One transaction: the nonce used up, then every record of `batch`, the device seen at `time`,
    /// and its downlink; nothing when the nonce was used already.
    private func commit(_ batch: UplinkBatch, usingUp nonce: RequestNonce?, at time: UTCTime) throws -> IngestOutcome {
        let device = batch.deviceID
        let received = time.millisecondsSinceEpoch
        return try connection.transaction {
            if let nonce, try !useNonce(nonce, device: device, at: received) { return .replayed }
            try insertTrack(batch.trackPoints, of: device, received: received)
            try insertEvents(batch.events, of: device, received: received)
            let insertHeartbeat = try connection.statement("""
                INSERT OR IGNORE INTO heartbeats (device, sequence, time_ms, time_source, pending_records, received_ms)
                VALUES (?, ?, ?, ?, ?, ?)
                """)
            for heartbeat in batch.heartbeats {
                try insertHeartbeat.execute(device, Int64(bitPattern: heartbeat.sequence), heartbeat.time.millisecondsSinceEpoch,
                                            heartbeat.timeSource, Int64(clamping: heartbeat.pendingRecords), received)
            }
            try connection.statement("UPDATE devices SET last_seen_ms = max(coalesce(last_seen_ms, 0), ?) WHERE id = ?")
                .execute(received, device)
            let acknowledged = Int64(clamping: batch.downlinkAcknowledgedThrough)
            try connection.statement("DELETE FROM downlink WHERE device = ? AND id <= ?").execute(device, acknowledged)
            return .stored(downlink: try pendingDownlink(device: device))
        }
    }

    /// `device`'s downlink messages not yet confirmed, oldest first.
    public func pendingDownlink(device: String) throws -> [DownlinkMessage] {
        var messages: [DownlinkMessage] = []
        try connection.statement("""
            SELECT id, alarm_sequence, acknowledged_by, acknowledged_ms FROM downlink WHERE device = ? ORDER BY id
            """).forEachRow(device) { row in
            messages.append(DownlinkMessage(id: row.int64(0), alarmSequence: UInt64(bitPattern: row.int64(1)),
                                            acknowledgedBy: row.text(2), acknowledgedAt: UTCTime(millisecondsSinceEpoch: row.int64(3))))
        }
        return messages
    }

    /// One transaction of track points only (the bulk part of a batch whose events went ahead).
    private func commitTrack(_ points: [TrackRecord], of device: String, at time: UTCTime) throws {
        try connection.transaction { try insertTrack(points, of: device, received: time.millisecondsSinceEpoch) }
    }

    /// A point already stored under (device, sequence) is ignored: `track_points_once` makes the
    /// first copy win, whatever time a resend carries.
    /// Stores each of `device`'s events once (one sent again is ignored); inside the caller's transaction.
    func insertEvents(_ events: [UplinkEvent], of device: String, received: Int64) throws {
        guard !events.isEmpty else { return }
        let insertEvent = try connection.statement("""
            INSERT OR IGNORE INTO events (device, sequence, kind, time_ms, time_source, lat_e7, lon_e7, fix_age_ms,
                button, payload, received_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for event in events {
            try insertEvent.execute(device, Int64(bitPattern: event.sequence), event.kind, event.time.millisecondsSinceEpoch,
                                    event.timeSource, event.position?.latitudeE7, event.position?.longitudeE7,
                                    event.position.map { Int64(clamping: $0.fixAgeMilliseconds) }, event.buttonID,
                                    event.payloadJSON, received)
        }
    }

    func insertTrack(_ points: [TrackRecord], of device: String, received: Int64) throws {
        let insertPoint = try connection.statement("""
            INSERT OR IGNORE INTO track_points (device, sequence, time_ms, lat_e7, lon_e7, mode, alt_dm,
                speed_cm_s, track_cdeg, hdop_c, satellites, received_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for point in points {
            try insertPoint.execute(device, Int64(bitPattern: point.sequence), point.timeMilliseconds, point.latitudeE7,
                                    point.longitudeE7, point.mode.rawValue, point.altitudeDecimetres,
                                    point.speedCentimetresPerSecond, point.trackCentidegrees, point.hdopHundredths,
                                    point.satellitesUsed, received)
        }
    }

    // MARK: Alarms

    /// An event's columns, then its device's street as it is now, and its escalation.
    private static let eventColumns = """
        SELECT id, device, sequence, kind, time_ms, time_source, lat_e7, lon_e7, fix_age_ms, button, payload,
            received_ms, acknowledged_by, acknowledged_ms, (SELECT street FROM devices WHERE devices.id = events.device),
            escalated_by, escalated_ms, escalation_note FROM events
        """

    /// `kind IN (…)` over the codes staff acknowledge (constants, so inlined rather than bound).
    private static let alarmKindFilter = "kind IN (" + EventKind.acknowledgedCodes.map { "'\($0)'" }.joined(separator: ", ") + ")"

    /// `?1` is the scope's street, NULL for the district (every alarm).
    public func alarms(openOnly: Bool, in scope: StaffScope) throws -> [Alarm] {
        let filter = openOnly ? " AND acknowledged_ms IS NULL" : ""
        var alarms: [Alarm] = []
        try connection.statement(Self.eventColumns + " WHERE " + Self.alarmKindFilter + filter
                                 + " AND (?1 IS NULL OR device IN (SELECT id FROM devices WHERE street = ?1)) ORDER BY id")
            .forEachRow(scope.street) { alarms.append(Self.alarm(from: $0)) }
        return alarms
    }

    public func openAlarms(device: String) throws -> [Alarm] {
        var alarms: [Alarm] = []
        try connection.statement(Self.eventColumns + " WHERE device = ? AND acknowledged_ms IS NULL AND " + Self.alarmKindFilter + " ORDER BY id")
            .forEachRow(device) { alarms.append(Self.alarm(from: $0)) }
        return alarms
    }

    public func alarm(id: Int64) throws -> Alarm? {
        try connection.statement(Self.eventColumns + " WHERE id = ? AND " + Self.alarmKindFilter).firstRow(id, read: Self.alarm(from:))
    }

    public func escalateAlarm(id: Int64, by staffName: String, note: String, at time: UTCTime) throws -> AlarmEscalationResult {
        try connection.transaction {
            guard var alarm = try alarm(id: id) else { return .notFound }
            guard alarm.isOpen else { return .alreadyAcknowledged(alarm) }
            guard alarm.escalation == nil else { return .alreadyEscalated(alarm) }
            try connection.statement("UPDATE events SET escalated_by = ?, escalated_ms = ?, escalation_note = ? WHERE id = ?")
                .execute(staffName, time.millisecondsSinceEpoch, note, id)
            alarm.escalation = AlarmEscalation(by: staffName, at: time, note: note)
            return .escalated(alarm)
        }
    }

    public func acknowledgeAlarm(id: Int64, by staffName: String, at time: UTCTime) throws -> AlarmAcknowledgement {
        try connection.transaction {
            let lookup = try connection.statement(Self.eventColumns + " WHERE id = ? AND " + Self.alarmKindFilter)
            guard let alarm = try lookup.firstRow(id, read: Self.alarm(from:)) else { return .notFound }
            guard alarm.isOpen else { return .alreadyAcknowledged(alarm) }
            try connection.statement("UPDATE events SET acknowledged_by = ?, acknowledged_ms = ? WHERE id = ?")
                .execute(staffName, time.millisecondsSinceEpoch, id)
            try connection.statement("""
                INSERT INTO downlink (device, alarm_sequence, acknowledged_by, acknowledged_ms) VALUES (?, ?, ?, ?)
                """).execute(alarm.deviceID, Int64(bitPattern: alarm.event.sequence), staffName, time.millisecondsSinceEpoch)
            var acknowledged = alarm
            acknowledged.acknowledgedBy = staffName
            acknowledged.acknowledgedAt = time
            return .acknowledged(acknowledged)
        }
    }

    private static func alarm(from row: SQLiteRow) -> Alarm {
        let position = row.isNull(6) ? nil : UplinkEventPosition(
            latitudeE7: row.int64(6), longitudeE7: row.int64(7), fixAgeMilliseconds: UInt64(clamping: row.int64(8)))
        let event = UplinkEvent(sequence: UInt64(bitPattern: row.int64(2)), kind: row.text(3),
                                time: UTCTime(millisecondsSinceEpoch: row.int64(4)), timeSource: row.text(5),
                                position: position, buttonID: row.optionalText(9), payloadJSON: row.text(10))
        let escalation = row.optionalText(15).map {
            AlarmEscalation(by: $0, at: UTCTime(millisecondsSinceEpoch: row.int64(16)), note: row.optionalText(17) ?? "")
        }
        return Alarm(id: row.int64(0), deviceID: row.text(1), event: event,
                     receivedAt: UTCTime(millisecondsSinceEpoch: row.int64(11)), acknowledgedBy: row.optionalText(12),
                     acknowledgedAt: row.optionalInt64(13).map(UTCTime.init(millisecondsSinceEpoch:)), street: row.optionalText(14),
                     escalation: escalation)
    }

    // MARK: Tracks, heartbeats and events by time

    public func trackPoints(device: String, in range: Range<UTCTime>, after cursor: TrackCursor?, limit: Int) throws -> [TrackRecord] {
        // Without a cursor, start before the range: (time, sequence) > (start - 1, max) is time >= start.
        let afterTime = cursor?.timeMilliseconds ?? range.lowerBound.millisecondsSinceEpoch - 1
        let afterSequence = cursor.map { Int64(bitPattern: $0.sequence) } ?? Int64.max
        var points: [TrackRecord] = []
        points.reserveCapacity(limit)
        try connection.statement(Self.trackColumns + """
            WHERE device = ?1 AND time_ms >= ?2 AND (time_ms > ?2 OR sequence > ?3) AND time_ms < ?4
            ORDER BY time_ms, sequence LIMIT ?5
            """).forEachRow(device, afterTime, afterSequence, range.upperBound.millisecondsSinceEpoch, limit) { row in
            points.append(Self.trackRecord(from: row))
        }
        return points
    }

    static let trackColumns = """
        SELECT sequence, time_ms, lat_e7, lon_e7, mode, alt_dm, speed_cm_s, track_cdeg, hdop_c, satellites FROM track_points

        """

    static func trackRecord(from row: SQLiteRow) -> TrackRecord {
        TrackRecord(sequence: UInt64(bitPattern: row.int64(0)), timeMilliseconds: row.int64(1),
                    latitudeE7: row.int64(2), longitudeE7: row.int64(3),
                    mode: FixMode(rawValue: Int(row.int64(4))) ?? .twoD, altitudeDecimetres: row.optionalInt64(5),
                    speedCentimetresPerSecond: row.optionalInt64(6), trackCentidegrees: row.optionalInt64(7),
                    hdopHundredths: row.optionalInt64(8), satellitesUsed: row.optionalInt64(9))
    }

    public func heartbeatTimes(device: String, in range: Range<UTCTime>) throws -> [UTCTime] {
        var times: [UTCTime] = []
        try connection.statement("SELECT time_ms FROM heartbeats WHERE device = ? AND time_ms >= ? AND time_ms < ? ORDER BY time_ms")
            .forEachRow(device, range.lowerBound.millisecondsSinceEpoch, range.upperBound.millisecondsSinceEpoch) {
                times.append(UTCTime(millisecondsSinceEpoch: $0.int64(0)))
            }
        return times
    }

    public func events(device: String, in range: Range<UTCTime>) throws -> [UplinkEvent] {
        var events: [UplinkEvent] = []
        try connection.statement(Self.eventColumns + " WHERE device = ? AND time_ms >= ? AND time_ms < ? ORDER BY time_ms, sequence")
            .forEachRow(device, range.lowerBound.millisecondsSinceEpoch, range.upperBound.millisecondsSinceEpoch) {
                events.append(Self.alarm(from: $0).event)
            }
        return events
    }

    // MARK: Duty recorded at the centre

    public func addDutyRecord(_ record: CentreDutyRecord) throws {
        try connection.statement("""
            INSERT INTO duty_records (person, device, change, time_ms, recorded_by, recorded_ms) VALUES (?, ?, ?, ?, ?, ?)
            """).execute(record.person, record.device, record.change.rawValue, record.time.millisecondsSinceEpoch,
                          record.recordedBy, record.recordedAt.millisecondsSinceEpoch)
    }

    public func dutyRecords(in range: Range<UTCTime>) throws -> [CentreDutyRecord] {
        var records: [CentreDutyRecord] = []
        try connection.statement("""
            SELECT person, device, change, time_ms, recorded_by, recorded_ms FROM duty_records
            WHERE time_ms >= ? AND time_ms < ? ORDER BY time_ms, id
            """).forEachRow(range.lowerBound.millisecondsSinceEpoch, range.upperBound.millisecondsSinceEpoch) { row in
            // Only this store writes the column, from DutyChange itself.
            records.append(CentreDutyRecord(person: row.text(0), device: row.text(1), change: DutyChange(rawValue: row.text(2)) ?? .signOn,
                                            time: UTCTime(millisecondsSinceEpoch: row.int64(3)), recordedBy: row.text(4),
                                            recordedAt: UTCTime(millisecondsSinceEpoch: row.int64(5))))
        }
        return records
    }

    // MARK: Nonces

    /// When expired nonces are next deleted (at most once per minute).
    private var nextNonceSweep: Int64 = 0

    /// Uses up `nonce` for `device`, inside the caller's transaction: false when it is used and
    /// unexpired at `now`. An expired entry is taken over in place (`DO UPDATE … WHERE` expired), so
    /// the one statement decides whether the nonce is fresh.
    private func useNonce(_ nonce: RequestNonce, device: String, at now: Int64) throws -> Bool {
        if now >= nextNonceSweep {
            try connection.statement("DELETE FROM nonces WHERE expires_ms <= ?").execute(now)
            nextNonceSweep = now + 60_000
        }
        try connection.statement("""
            INSERT INTO nonces (device, nonce, expires_ms) VALUES (?1, ?2, ?3)
            ON CONFLICT (device, nonce) DO UPDATE SET expires_ms = excluded.expires_ms WHERE expires_ms <= ?4
            """).execute(device, nonce.value, nonce.expiry.millisecondsSinceEpoch, now)
        return connection.changes == 1
    }
}
