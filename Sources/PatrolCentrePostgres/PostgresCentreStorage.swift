import Logging
import NIOCore
import PatrolCentre
import PatrolCore
import PostgresNIO
import Synchronization

/// `CentreStorage` on PostgreSQL, for a district: several centre instances on one database.
///
/// A pool of connections (`PostgresClient`), so an alarm is written on a connection of its own
/// while bulk track uploads hold others. Every guarantee is the database's, not the process's, so
/// it holds across instances: a record is stored once by `ON CONFLICT DO NOTHING` on its (device,
/// sequence) key, whichever instance receives it first; an alarm is acknowledged once by a
/// conditional `UPDATE`.
///
/// Track points go in as one `INSERT … SELECT FROM unnest(arrays)` per batch: one statement and one
/// round trip for thousands of points, not a statement per point.
public final class PostgresCentreStorage: CentreStorage {
    let client: PostgresClient
    private let runner: Task<Void, Never>
    let logger: Logger
    /// When this instance next deletes expired nonces (at most once per minute; any instance may).
    private let nextNonceSweep = Mutex<Int64>(0)
    /// This instance's name in the change notices it sends, so it skips its own (see `relayChanges`).
    let instance = Hex.encode(Secrets.randomBytes(count: 8))
    /// Moves committed and not yet told to the other instances (see `announceMove`).
    let unannouncedMoves = Mutex(UnannouncedMoves())

    /// The schema version this centre runs on (`patrol-centre migrate` brings a database to it).
    public static var schemaVersion: Int { PostgresSchema.latest }

    /// Errors only: the pool warns about every lease made before its `run()` task got going.
    public static var defaultLogger: Logger {
        var logger = Logger(label: "patrol-centre.postgres")
        logger.logLevel = .error
        return logger
    }

    /// Connects with `settings`; with `migrate`, brings the schema to the latest version first
    /// (`patrol-centre migrate`), otherwise refuses a database whose schema is not this centre's.
    public init(settings: PostgresSettings, migrate: Bool, logger: Logger = PostgresCentreStorage.defaultLogger) async throws {
        let client = PostgresClient(configuration: try settings.clientConfiguration(), backgroundLogger: logger)
        self.client = client
        self.logger = logger
        runner = Task { await client.run() }
        do {
            if migrate {
                try await PostgresSchema.migrate(client, logger: logger)
            } else {
                try await PostgresSchema.check(client)
            }
        } catch {
            runner.cancel()
            throw error
        }
    }

    /// Closes the pool's connections.
    public func close() async {
        runner.cancel()
        await runner.value
    }

    deinit { runner.cancel() }

    // MARK: Devices

    public func addDevice(id: String, key: [UInt8], street: String?, at time: UTCTime) async throws -> Bool {
        let rows = try await client.query("""
            INSERT INTO devices (id, hmac_key, registered_ms, street)
            VALUES (\(id), \(ByteBuffer(bytes: key)), \(time.millisecondsSinceEpoch), \(street))
            ON CONFLICT DO NOTHING RETURNING 1
            """)
        return try await rows.collect().count == 1
    }

    public func assignDevice(id: String, street: String?) async throws -> Bool {
        try await client.query("UPDATE devices SET street = \(street) WHERE id = \(id) RETURNING 1").collect().count == 1
    }

    public func revokeDevice(id: String, at time: UTCTime) async throws -> Bool {
        let rows = try await client.query("""
            UPDATE devices SET revoked_ms = coalesce(revoked_ms, \(time.millisecondsSinceEpoch)) WHERE id = \(id) RETURNING 1
            """)
        return try await rows.collect().count == 1
    }

    public func device(id: String) async throws -> Device? {
        try await devices(where: "WHERE id = \(id)").first
    }

    public func requestSigner(device id: String, nonce: String, at now: UTCTime) async throws -> RequestSigner? {
        let rows = try await client.query("""
            SELECT \(unescaped: Self.deviceColumns),
                EXISTS (SELECT 1 FROM nonces WHERE device = \(id) AND nonce = \(nonce) AND expires_ms > \(now.millisecondsSinceEpoch))
            FROM devices WHERE id = \(id)
            """)
        var signers: [RequestSigner] = []
        for try await (id, key, registered, revoked, lastSeen, street, nonceIsUsed) in rows
            .decode((String, ByteBuffer, Int64, Int64?, Int64?, String?, Bool).self) {
            signers.append(RequestSigner(device: Self.device(id, key, registered, revoked, lastSeen, street), nonceIsUsed: nonceIsUsed))
        }
        return signers.first
    }

    public func devices(in scope: StaffScope) async throws -> [Device] {
        try await devices(where: "WHERE \(scope.street)::text IS NULL OR street = \(scope.street) ORDER BY id")
    }

    /// A device's columns, as `device(_:)` takes them.
    private static let deviceColumns = "id, hmac_key, registered_ms, revoked_ms, last_seen_ms, street"

    private static func device(_ id: String, _ key: ByteBuffer, _ registered: Int64, _ revoked: Int64?, _ lastSeen: Int64?,
                               _ street: String?) -> Device {
        Device(id: id, key: Array(key.readableBytesView), registeredAt: UTCTime(millisecondsSinceEpoch: registered),
               revokedAt: revoked.map(UTCTime.init(millisecondsSinceEpoch:)), lastSeen: lastSeen.map(UTCTime.init(millisecondsSinceEpoch:)),
               street: street)
    }

    private func devices(where condition: PostgresQuery) async throws -> [Device] {
        let query = PostgresQuery(unsafeSQL: "SELECT " + Self.deviceColumns + " FROM devices " + condition.sql, binds: condition.binds)
        var devices: [Device] = []
        for try await (id, key, registered, revoked, lastSeen, street) in try await client.query(query)
            .decode((String, ByteBuffer, Int64, Int64?, Int64?, String?).self) {
            devices.append(Self.device(id, key, registered, revoked, lastSeen, street))
        }
        return devices
    }

    // MARK: Ingest

    /// A board's regular report (track points only) is one statement (`storeTrackReport`): one
    /// round trip and one commit. A batch with events or heartbeats is one transaction: that
    /// statement first (nothing more when the nonce was used), then the events and heartbeats. Two instances
    /// receiving the same batch at once both store it (under two nonces); the second one's inserts
    /// wait for the first's transaction and then skip every record it stored.
    public func ingest(_ batch: UplinkBatch, usingUp nonce: RequestNonce?, at time: UTCTime) async throws -> IngestOutcome {
        let device = batch.deviceID
        let received = time.millisecondsSinceEpoch
        let acknowledgedThrough = Int64(clamping: batch.downlinkAcknowledgedThrough)
        if nonce != nil { try await sweepExpiredNonces(at: received) }
        let notice = alarmNotice(device: device, events: batch.events, at: time)
        let report = Self.storeTrackReport(batch.trackPoints, of: device, received: received, acknowledgedThrough: acknowledgedThrough,
                                           usingUp: nonce)
        let outcome: IngestOutcome
        if batch.events.isEmpty && batch.heartbeats.isEmpty {
            outcome = try await Self.storedTrackReport(client.query(report))
        } else {
            outcome = try await client.transaction(logger: logger) { connection in
                let outcome = try await Self.storedTrackReport(connection.query(report, logger: logger))
                guard case .stored = outcome else { return outcome }
                try await Self.insertEvents(batch.events, of: device, received: received, on: connection, logger: logger)
                for heartbeat in batch.heartbeats {
                    try await connection.query("""
                        INSERT INTO heartbeats (device, sequence, time_ms, time_source, pending_records, received_ms)
                        VALUES (\(device), \(Int64(bitPattern: heartbeat.sequence)), \(heartbeat.time.millisecondsSinceEpoch),
                            \(heartbeat.timeSource), \(Int64(clamping: heartbeat.pendingRecords)), \(received))
                        ON CONFLICT (device, sequence) DO NOTHING
                        """, logger: logger)
                }
                if let notice { try await Self.notify(notice, on: connection, logger: logger) }
                return outcome
            }
        }
        if notice == nil, case .stored = outcome { announceMove(of: device, at: time) }
        return outcome
    }

    /// Each event once: one already stored under (device, sequence) is skipped.
    static func insertEvents(_ events: [UplinkEvent], of device: String, received: Int64, on connection: PostgresConnection,
                             logger: Logger) async throws {
        for event in events {
            try await connection.query("""
                INSERT INTO events (device, sequence, kind, time_ms, time_source, lat_e7, lon_e7, fix_age_ms, button, payload, received_ms)
                VALUES (\(device), \(Int64(bitPattern: event.sequence)), \(event.kind), \(event.time.millisecondsSinceEpoch),
                    \(event.timeSource), \(event.position?.latitudeE7), \(event.position?.longitudeE7),
                    \(event.position.map { Int64(clamping: $0.fixAgeMilliseconds) }), \(event.buttonID), \(event.payloadJSON), \(received))
                ON CONFLICT (device, sequence) DO NOTHING
                """, logger: logger)
        }
    }

    /// `device`'s downlink messages not yet confirmed, oldest first.
    static func downlink(device: String, on connection: PostgresConnection, logger: Logger) async throws -> [DownlinkMessage] {
        try await downlinkMessages(connection.query("""
            SELECT id, alarm_sequence, acknowledged_by, acknowledged_ms FROM downlink WHERE device = \(device) ORDER BY id
            """, logger: logger))
    }

    /// The messages in `rows` of (id, alarm_sequence, acknowledged_by, acknowledged_ms).
    private static func downlinkMessages(_ rows: PostgresRowSequence) async throws -> [DownlinkMessage] {
        var messages: [DownlinkMessage] = []
        for try await (id, sequence, by, at) in rows.decode((Int64, Int64, String, Int64).self) {
            messages.append(DownlinkMessage(id: id, alarmSequence: UInt64(bitPattern: sequence), acknowledgedBy: by,
                                            acknowledgedAt: UTCTime(millisecondsSinceEpoch: at)))
        }
        return messages
    }

    /// Stands for NULL in the arrays of optional columns (`unnest` takes arrays of one type, and
    /// no sensor reports this value).
    private static let absent = Int64.min

    /// Every point in one statement: each column is an array, `unnest` turns them back into rows.
    /// A point already stored under (device, sequence) is skipped: the first copy wins.
    static func insertTrack(_ points: [TrackRecord], of device: String, received: Int64, on connection: PostgresConnection,
                                    logger: Logger) async throws {
        guard !points.isEmpty else { return }
        try await connection.query(trackInsert(points, of: device, received: received), logger: logger)
    }

    /// A board's batch's points (`insertTrack`), the device seen at `received`, the downlink messages
    /// it confirmed forgotten, and the ones it has not yet confirmed read, all only if `nonce` is
    /// fresh (nil: no nonce to use up) and then used up: one statement, so on its own one round trip
    /// and one commit, where a nonce, a transaction and its statements cost a district's thousand
    /// reports a second six round trips and two commits each. The sub-statements share one
    /// snapshot, so the read leaves out the confirmed ids itself; `storedTrackReport` reads its rows.
    private static func storeTrackReport(_ points: [TrackRecord], of device: String, received: Int64, acknowledgedThrough: Int64,
                                         usingUp nonce: RequestNonce?) -> PostgresQuery {
        let insert = trackInsert(points, of: device, received: received, condition: "EXISTS (SELECT FROM fresh)")
        var binds = insert.binds
        func bind(_ value: some PostgresDynamicTypeEncodable) -> String {
            binds.append(value)
            return "$\(binds.count)"
        }
        let (deviceBind, receivedBind, acknowledgedBind) = (bind(device), bind(received), bind(acknowledgedThrough))
        // The nonce's row when it is fresh (an expired one is taken over in place), so every other part runs only then.
        let fresh = nonce.map { nonce in """
            INSERT INTO nonces (device, nonce, expires_ms) VALUES (\(deviceBind), \(bind(nonce.value)), \(bind(nonce.expiry.millisecondsSinceEpoch)))
            ON CONFLICT (device, nonce) DO UPDATE SET expires_ms = excluded.expires_ms WHERE nonces.expires_ms <= \(receivedBind)
            RETURNING 1
            """ } ?? "SELECT 1"
        return PostgresQuery(unsafeSQL: """
            WITH fresh AS (\(fresh)),
            track AS (\(insert.sql)),
            seen AS (UPDATE devices SET last_seen_ms = greatest(coalesce(last_seen_ms, 0), \(receivedBind))
                WHERE id = \(deviceBind) AND EXISTS (SELECT FROM fresh)),
            confirmed AS (DELETE FROM downlink WHERE device = \(deviceBind) AND id <= \(acknowledgedBind) AND EXISTS (SELECT FROM fresh))
            SELECT EXISTS (SELECT FROM fresh), id, alarm_sequence, acknowledged_by, acknowledged_ms
            FROM (SELECT) AS report LEFT JOIN downlink ON device = \(deviceBind) AND id > \(acknowledgedBind) ORDER BY id
            """, binds: binds)
    }

    /// What `storeTrackReport`'s statement answered: a row for each downlink message, or one of NULLs
    /// for none, each first saying whether the nonce was fresh.
    private static func storedTrackReport(_ rows: PostgresRowSequence) async throws -> IngestOutcome {
        var fresh = false
        var messages: [DownlinkMessage] = []
        for try await (isFresh, id, sequence, by, at) in rows.decode((Bool, Int64?, Int64?, String?, Int64?).self) {
            fresh = isFresh
            guard let id, let sequence, let by, let at else { continue }
            messages.append(DownlinkMessage(id: id, alarmSequence: UInt64(bitPattern: sequence), acknowledgedBy: by,
                                            acknowledgedAt: UTCTime(millisecondsSinceEpoch: at)))
        }
        return fresh ? .stored(downlink: messages) : .replayed
    }

    /// The statement `insertTrack` runs (no rows for no points), inserting only where `condition` holds.
    private static func trackInsert(_ points: [TrackRecord], of device: String, received: Int64, condition: String = "true") -> PostgresQuery {
        let sequences = points.map { Int64(bitPattern: $0.sequence) }
        let times = points.map(\.timeMilliseconds)
        let latitudes = points.map(\.latitudeE7)
        let longitudes = points.map(\.longitudeE7)
        let modes = points.map { Int64($0.mode.rawValue) }
        let altitudes = points.map { $0.altitudeDecimetres ?? absent }
        let speeds = points.map { $0.speedCentimetresPerSecond ?? absent }
        let tracks = points.map { $0.trackCentidegrees ?? absent }
        let hdops = points.map { $0.hdopHundredths ?? absent }
        let satellites = points.map { $0.satellitesUsed ?? absent }
        return """
            INSERT INTO track_points (device, sequence, time_ms, lat_e7, lon_e7, mode, alt_dm, speed_cm_s, track_cdeg, hdop_c, satellites, received_ms)
            SELECT \(device), s, t, la, lo, m, nullif(a, \(absent)), nullif(sp, \(absent)), nullif(tr, \(absent)), nullif(h, \(absent)),
                nullif(sa, \(absent)), \(received)
            FROM unnest(\(sequences)::bigint[], \(times)::bigint[], \(latitudes)::bigint[], \(longitudes)::bigint[], \(modes)::bigint[],
                \(altitudes)::bigint[], \(speeds)::bigint[], \(tracks)::bigint[], \(hdops)::bigint[], \(satellites)::bigint[])
                AS p(s, t, la, lo, m, a, sp, tr, h, sa)
            WHERE \(unescaped: condition)
            ON CONFLICT (device, sequence) DO NOTHING
            """
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

    private typealias EventRow = (Int64, String, Int64, String, Int64, String, Int64?, Int64?, Int64?, String?, String, Int64, String?, Int64?,
                                  String?, String?, Int64?, String?)

    /// The alarms (events, whatever their kind) `sql` selects: a condition and order after `FROM events`.
    func alarms(_ sql: String, on connection: PostgresConnection? = nil, _ binds: PostgresBindings = PostgresBindings()) async throws -> [Alarm] {
        let query = PostgresQuery(unsafeSQL: Self.eventColumns + " " + sql, binds: binds)
        let rows = if let connection { try await connection.query(query, logger: logger) } else { try await client.query(query) }
        var alarms: [Alarm] = []
        for try await row in rows.decode(EventRow.self) {
            let (id, device, sequence, kind, time, source, latitude, longitude, fixAge, button, payload, received, by, at,
                 street, escalatedBy, escalatedAt, escalationNote) = row
            let position = latitude.map {
                UplinkEventPosition(latitudeE7: $0, longitudeE7: longitude ?? 0, fixAgeMilliseconds: UInt64(clamping: fixAge ?? 0))
            }
            let event = UplinkEvent(sequence: UInt64(bitPattern: sequence), kind: kind, time: UTCTime(millisecondsSinceEpoch: time),
                                    timeSource: source, position: position, buttonID: button, payloadJSON: payload)
            let escalation = escalatedBy.map {
                AlarmEscalation(by: $0, at: UTCTime(millisecondsSinceEpoch: escalatedAt ?? 0), note: escalationNote ?? "")
            }
            alarms.append(Alarm(id: id, deviceID: device, event: event, receivedAt: UTCTime(millisecondsSinceEpoch: received),
                                acknowledgedBy: by, acknowledgedAt: at.map(UTCTime.init(millisecondsSinceEpoch:)), street: street,
                                escalation: escalation))
        }
        return alarms
    }

    /// `$1` is the scope's street, NULL for the district (every alarm).
    public func alarms(openOnly: Bool, in scope: StaffScope) async throws -> [Alarm] {
        var binds = PostgresBindings()
        binds.append(scope.street)
        return try await alarms("WHERE " + Self.alarmKindFilter + (openOnly ? " AND acknowledged_ms IS NULL" : "")
                                + " AND ($1::text IS NULL OR device IN (SELECT id FROM devices WHERE street = $1)) ORDER BY id", binds)
    }

    public func openAlarms(device: String) async throws -> [Alarm] {
        var binds = PostgresBindings()
        binds.append(device)
        return try await alarms("WHERE device = $1 AND acknowledged_ms IS NULL AND " + Self.alarmKindFilter + " ORDER BY id", binds)
    }

    public func alarm(id: Int64) async throws -> Alarm? {
        var binds = PostgresBindings()
        binds.append(id)
        return try await alarms("WHERE id = $1 AND " + Self.alarmKindFilter, binds).first
    }

    /// A conditional `UPDATE`, as acknowledging: of two escalations at once, one is stored.
    public func escalateAlarm(id: Int64, by staffName: String, note: String, at time: UTCTime) async throws -> AlarmEscalationResult {
        try await client.transaction(logger: logger) { connection in
            var binds = PostgresBindings()
            binds.append(staffName)
            binds.append(time.millisecondsSinceEpoch)
            binds.append(note)
            binds.append(id)
            let updated = try await connection.query(PostgresQuery(unsafeSQL: """
                UPDATE events SET escalated_by = $1, escalated_ms = $2, escalation_note = $3
                WHERE id = $4 AND acknowledged_ms IS NULL AND escalated_ms IS NULL AND \(Self.alarmKindFilter) RETURNING device
                """, binds: binds), logger: logger).collect()
            var lookup = PostgresBindings()
            lookup.append(id)
            guard let alarm = try await alarms("WHERE id = $1 AND " + Self.alarmKindFilter, on: connection, lookup).first else { return .notFound }
            guard !updated.isEmpty else { return alarm.isOpen ? .alreadyEscalated(alarm) : .alreadyAcknowledged(alarm) }
            try await Self.notify(ChangeNotice(instance: instance, device: alarm.deviceID, escalated: id, committedMs: time.millisecondsSinceEpoch),
                                  on: connection, logger: logger)
            return .escalated(alarm)
        }
    }

    /// The conditional `UPDATE` decides: of two staff at two instances acknowledging at once, one
    /// sets it and queues the downlink message, the other is told who did.
    public func acknowledgeAlarm(id: Int64, by staffName: String, at time: UTCTime) async throws -> AlarmAcknowledgement {
        try await client.transaction(logger: logger) { connection in
            var binds = PostgresBindings()
            binds.append(staffName)
            binds.append(time.millisecondsSinceEpoch)
            binds.append(id)
            let updated = try await connection.query(PostgresQuery(unsafeSQL: """
                UPDATE events SET acknowledged_by = $1, acknowledged_ms = $2
                WHERE id = $3 AND acknowledged_ms IS NULL AND \(Self.alarmKindFilter) RETURNING device, sequence
                """, binds: binds), logger: logger).collect()
            var lookup = PostgresBindings()
            lookup.append(id)
            let alarm = try await alarms("WHERE id = $1 AND " + Self.alarmKindFilter, on: connection, lookup).first
            guard let alarm else { return .notFound }
            guard let row = updated.first else { return .alreadyAcknowledged(alarm) }
            let (device, sequence) = try row.decode((String, Int64).self)
            try await connection.query("""
                INSERT INTO downlink (device, alarm_sequence, acknowledged_by, acknowledged_ms)
                VALUES (\(device), \(sequence), \(staffName), \(time.millisecondsSinceEpoch))
                """, logger: logger)
            try await Self.notify(ChangeNotice(instance: instance, device: device, acknowledged: id, committedMs: time.millisecondsSinceEpoch),
                                  on: connection, logger: logger)
            return .acknowledged(alarm)
        }
    }

    // MARK: Tracks, heartbeats and events by time

    public func trackPoints(device: String, in range: Range<UTCTime>, after cursor: TrackCursor?, limit: Int) async throws -> [TrackRecord] {
        // Without a cursor, start before the range: (time, sequence) > (start - 1, max) is time >= start.
        let afterTime = cursor?.timeMilliseconds ?? range.lowerBound.millisecondsSinceEpoch - 1
        let afterSequence = cursor.map { Int64(bitPattern: $0.sequence) } ?? Int64.max
        var points = try await trackRecords("""
            SELECT \(unescaped: Self.trackColumns) FROM track_points
            WHERE device = \(device) AND (time_ms, sequence) > (\(afterTime), \(afterSequence)) AND time_ms < \(range.upperBound.millisecondsSinceEpoch)
            ORDER BY time_ms, sequence LIMIT \(Int64(max(0, limit)))
            """)
        // PostgreSQL aggregates a sorted subquery's rows in its order; should a plan ever not, the page still comes out in order.
        if zip(points, points.dropFirst()).contains(where: { ($0.timeMilliseconds, $0.sequence) > ($1.timeMilliseconds, $1.sequence) }) {
            points.sort { ($0.timeMilliseconds, $0.sequence) < ($1.timeMilliseconds, $1.sequence) }
        }
        return points
    }

    static let trackColumns = "sequence, time_ms, lat_e7, lon_e7, mode, alt_dm, speed_cm_s, track_cdeg, hdop_c, satellites"

    /// The points `rows` selects (its columns `trackColumns`), in its order.
    ///
    /// They come back as one row of ten `bigint` arrays, one per column, read here straight from
    /// their binary form. A row per point through PostgresNIO's generic row decoding cost the
    /// client 6.7 s of CPU for the 2.82 M points of Benchmarks/coverage.sh, most of the report's
    /// time; with the arrays it is 1.35 s, as on SQLite. Building the arrays costs the server
    /// somewhat more than sending rows, far less than the client saves. Every array is built from
    /// the same rows at once, so their elements line up.
    func trackRecords(_ rows: PostgresQuery) async throws -> [TrackRecord] {
        let columns = Self.trackColumns.split(separator: ", ")
        let query = PostgresQuery(unsafeSQL: "SELECT " + columns.map { "array_agg(\($0))" }.joined(separator: ", ") + " FROM (" + rows.sql
                                      + ") AS page", binds: rows.binds)
        var points: [TrackRecord] = []
        for try await row in try await client.query(query) {
            var arrays = try row.map { try BigintArray($0) }
            let count = arrays[0].count
            guard arrays.count == columns.count, arrays.allSatisfy({ $0.count == count }) else {
                throw PostgresTrackRowError(description: "track columns of unequal length")
            }
            func required(_ column: Int) throws -> Int64 {
                guard let value = try arrays[column].next() else { throw PostgresTrackRowError(description: "a track point without \(columns[column])") }
                return value
            }
            points.reserveCapacity(count)
            for _ in 0..<count {
                let sequence = try required(0), time = try required(1), latitude = try required(2), longitude = try required(3)
                let mode = try required(4)
                points.append(TrackRecord(sequence: UInt64(bitPattern: sequence), timeMilliseconds: time, latitudeE7: latitude,
                                          longitudeE7: longitude, mode: FixMode(rawValue: Int(mode)) ?? .twoD,
                                          altitudeDecimetres: try arrays[5].next(), speedCentimetresPerSecond: try arrays[6].next(),
                                          trackCentidegrees: try arrays[7].next(), hdopHundredths: try arrays[8].next(),
                                          satellitesUsed: try arrays[9].next()))
            }
        }
        return points
    }

    public func heartbeatTimes(device: String, in range: Range<UTCTime>) async throws -> [UTCTime] {
        var times: [UTCTime] = []
        for try await time in try await client.query("""
            SELECT time_ms FROM heartbeats WHERE device = \(device) AND time_ms >= \(range.lowerBound.millisecondsSinceEpoch)
                AND time_ms < \(range.upperBound.millisecondsSinceEpoch) ORDER BY time_ms
            """).decode(Int64.self) {
            times.append(UTCTime(millisecondsSinceEpoch: time))
        }
        return times
    }

    public func events(device: String, in range: Range<UTCTime>) async throws -> [UplinkEvent] {
        var binds = PostgresBindings()
        binds.append(device)
        binds.append(range.lowerBound.millisecondsSinceEpoch)
        binds.append(range.upperBound.millisecondsSinceEpoch)
        return try await alarms("WHERE device = $1 AND time_ms >= $2 AND time_ms < $3 ORDER BY time_ms, sequence", binds).map(\.event)
    }

    // MARK: Duty recorded at the centre

    public func addDutyRecord(_ record: CentreDutyRecord) async throws {
        try await client.query("""
            INSERT INTO duty_records (person, device, change, time_ms, recorded_by, recorded_ms)
            VALUES (\(record.person), \(record.device), \(record.change.rawValue), \(record.time.millisecondsSinceEpoch),
                \(record.recordedBy), \(record.recordedAt.millisecondsSinceEpoch))
            """)
    }

    public func dutyRecords(in range: Range<UTCTime>) async throws -> [CentreDutyRecord] {
        var records: [CentreDutyRecord] = []
        for try await (person, device, change, time, by, at) in try await client.query("""
            SELECT person, device, change, time_ms, recorded_by, recorded_ms FROM duty_records
            WHERE time_ms >= \(range.lowerBound.millisecondsSinceEpoch) AND time_ms < \(range.upperBound.millisecondsSinceEpoch)
            ORDER BY time_ms, id
            """).decode((String, String, String, Int64, String, Int64).self) {
            // Only this store writes the column, from DutyChange itself.
            records.append(CentreDutyRecord(person: person, device: device, change: DutyChange(rawValue: change) ?? .signOn,
                                            time: UTCTime(millisecondsSinceEpoch: time), recordedBy: by,
                                            recordedAt: UTCTime(millisecondsSinceEpoch: at)))
        }
        return records
    }

    // MARK: Nonces

    /// Deletes expired nonces, at most once a minute per instance (any instance may).
    private func sweepExpiredNonces(at now: Int64) async throws {
        let sweep = nextNonceSweep.withLock { next in
            guard now >= next else { return false }
            next = now + 60_000
            return true
        }
        if sweep { try await client.query("DELETE FROM nonces WHERE expires_ms <= \(now)") }
    }
}

/// A track page not as `trackRecords` asks for it (arrays of another type or length, NULL where a value is required).
struct PostgresTrackRowError: Error, CustomStringConvertible {
    let description: String
}

/// A one-dimensional `bigint[]` cell in PostgreSQL's binary array format, read element by element:
/// dimensions, a NULL flag, the element type, length and lower bound, then each element as its
/// length (-1 for NULL) and 8 big-endian bytes. A NULL cell (`array_agg` of no rows) is empty.
struct BigintArray {
    private var bytes: ByteBuffer
    let count: Int

    init(_ cell: PostgresCell) throws {
        guard let bytes = cell.bytes else {
            self.bytes = ByteBuffer()
            count = 0
            return
        }
        self.bytes = bytes
        guard cell.dataType == .int8Array, cell.format == .binary,
              let (dimensions, _, element) = self.bytes.readMultipleIntegers(endianness: .big, as: (Int32, Int32, UInt32).self),
              element == PostgresDataType.int8.rawValue, dimensions == 0 || dimensions == 1 else {
            throw PostgresTrackRowError(description: "track column \(cell.columnName) is \(cell.dataType), not a one-dimensional bigint[] in binary")
        }
        if dimensions == 0 {
            count = 0
        } else {
            guard let (length, _) = self.bytes.readMultipleIntegers(endianness: .big, as: (Int32, Int32).self), length >= 0 else {
                throw PostgresTrackRowError(description: "track column \(cell.columnName) has no valid length")
            }
            count = Int(length)
        }
    }

    /// The next element; nil for NULL.
    mutating func next() throws -> Int64? {
        guard let length = bytes.readInteger(endianness: .big, as: Int32.self) else {
            throw PostgresTrackRowError(description: "a track array ends early")
        }
        if length == -1 { return nil }
        guard length == 8, let value = bytes.readInteger(endianness: .big, as: Int64.self) else {
            throw PostgresTrackRowError(description: "a track array element of \(length) bytes, not 8")
        }
        return value
    }
}
