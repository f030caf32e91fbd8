import Logging
import NIOCore
import PatrolCentre
import PatrolCore
import PatrolSQLite
import PostgresNIO

/// `patrol-centre import-sqlite`: a street centre's SQLite file moved into the district's PostgreSQL,
/// every table but console sessions and sign-in failure counts, without loss or duplicates.
///
/// * **One snapshot, read only.** The file is opened read-only and read in one read transaction, so
///   a street centre still writing it (WAL) is not disturbed and the import sees one moment of it.
///   A file of an older schema is read as it is (columns added later read as their migration fills
///   them); a newer one is refused.
/// * **One transaction.** Everything is written in one PostgreSQL transaction: an import that fails
///   or is killed midway leaves nothing, and running it again is the whole import.
/// * **Nothing twice.** Every row is merged on a natural key, so importing the same file again adds
///   nothing and two streets' files merge: devices by id, staff by name, terminals by phone, track
///   points, events and heartbeats by (device, sequence), nonces by (device, nonce), audit lines and
///   duty records by all their columns (as many copies as the file holds, counting those there
///   already), downlink messages by the acknowledgement they carry.
/// * **Refused before anything is written.** A device id the district has with another key, a staff
///   name with another token (or a token another name holds), a terminal phone bound to another
///   device: each is named, with what to do, and nothing is imported.
///
/// Track points, heartbeats and nonces go in as read, one `INSERT … SELECT FROM unnest(arrays)` per
/// batch of `batchRows`; the other tables are staged into temporary tables first and merged with one
/// statement each, since their merge reads across rows (ids the street gave and the district renumbers).
public enum SQLiteImport {
    /// Rows per bulk statement: each column one array, as `PostgresCentreStorage.insertTrack` writes a batch.
    static let batchRows = 20_000

    /// What the import did to one table.
    public struct TableCount: Sendable, Equatable, CustomStringConvertible {
        public var table: String
        /// Rows in the file's snapshot (for nonces: those not expired).
        public var read: Int64
        /// Rows the district did not have before.
        public var added: Int64

        public var description: String { "\(table): \(read) read, \(added) added" }
    }

    /// Imports the SQLite file at `path` into the PostgreSQL database `settings` names (at this
    /// centre's schema version), telling `progress` each step; returns the count per table.
    /// The file's devices and staff without a street join `street` (nil: they become the
    /// district's own). `now` decides which nonces are still worth keeping.
    public static func run(from path: String, into settings: PostgresSettings, joining street: String?, now: UTCTime,
                           logger: Logger = PostgresCentreStorage.defaultLogger,
                           progress: @escaping (String) -> Void) async throws -> [TableCount] {
        let source = try StreetSnapshot(path: path)
        progress("importing \(path) (SQLite schema version \(source.version)) into PostgreSQL \(settings.user)@\(settings.host):\(settings.port)/\(settings.database)")
        let district = try await PostgresCentreStorage(settings: settings, migrate: false, logger: logger)
        do {
            let counts = try await district.client.transaction(logger: logger) { connection in
                var run = ImportRun(source: source, street: street, connection: connection, logger: logger, now: now, progress: progress)
                return try await run.importEverything()
            }
            await district.close()
            progress("committed: " + counts.map(\.description).joined(separator: "; "))
            return counts
        } catch {
            await district.close()
            throw error
        }
    }
}

/// The street's file, open read-only inside one read transaction (the snapshot every table is read from).
final class StreetSnapshot {
    let path: String
    let connection: SQLiteConnection
    let version: Int

    init(path: String) throws {
        self.path = path
        do {
            connection = try SQLiteConnection(path: path, readOnly: true)
            try connection.executeScript("BEGIN DEFERRED")
            // The first read starts the snapshot; in WAL mode a writing street centre goes on unhindered.
            version = Int(try connection.integer("PRAGMA user_version"))
            _ = try connection.integer("SELECT count(*) FROM sqlite_master")
        } catch let error as SQLiteError {
            throw SQLiteImportRefusal("cannot read \(path) as a SQLite database: \(error.detail); name the street centre's file ([storage] database of its configuration) and run the import as a user that may read it")
        }
        guard version >= 1, try connection.integer("SELECT count(*) FROM sqlite_master WHERE name = 'devices'") == 1 else {
            throw SQLiteImportRefusal("\(path) is not a street centre's database (no centre tables in it): name the file of its [storage] database")
        }
        guard version <= SQLiteCentreStorage.schemaVersion else {
            throw SQLiteImportRefusal("\(path) is at SQLite schema version \(version), newer than this centre's \(SQLiteCentreStorage.schemaVersion): a newer patrol-centre wrote it; import it with that version")
        }
    }

    deinit { try? connection.executeScript("COMMIT") }

    func count(_ table: ImportedTable, now: UTCTime) throws -> Int64 {
        guard table.since <= version else { return 0 }
        let statement = try connection.statement("SELECT count(*) FROM (\(table.sourceQuery(version: version)))")
        return try table.sourceCondition.isEmpty ? statement.firstRow { $0.int64(0) } ?? 0
            : statement.firstRow(now.millisecondsSinceEpoch) { $0.int64(0) } ?? 0
    }

    /// The highest downlink id the street ever gave (AUTOINCREMENT keeps it in `sqlite_sequence`,
    /// also when the message has since been confirmed and deleted): a device may have confirmed up to it.
    func highestDownlinkID() throws -> Int64 {
        max(try connection.integer("SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = 'downlink'"),
            try connection.integer("SELECT coalesce(max(id), 0) FROM downlink"))
    }
}

/// A refusal that names what is wrong and what to do; nothing was imported.
public struct SQLiteImportRefusal: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// One import, inside the district's transaction.
private struct ImportRun {
    let source: StreetSnapshot
    /// The street the file's devices and staff without one join; nil: the district's own.
    let street: String?
    let connection: PostgresConnection
    let logger: Logger
    let now: UTCTime
    let progress: (String) -> Void
    var counts: [SQLiteImport.TableCount] = []

    mutating func importEverything() async throws -> [SQLiteImport.TableCount] {
        // Who is who first, checked against the district before anything is written.
        for table in [ImportedTable.devices, .staff, .terminals] { try await stage(table) }
        if let street {
            try await connection.query("UPDATE import_devices SET street = \(street) WHERE street IS NULL", logger: logger)
            try await connection.query("UPDATE import_staff SET street = \(street) WHERE street IS NULL", logger: logger)
        }
        try await refuseConflicts()
        try await merge(.devices, """
            INSERT INTO devices (\(ImportedTable.devices.writtenNames)) SELECT \(ImportedTable.devices.writtenNames) FROM import_devices
            ON CONFLICT (id) DO UPDATE SET registered_ms = least(devices.registered_ms, excluded.registered_ms),
                revoked_ms = least(devices.revoked_ms, excluded.revoked_ms), last_seen_ms = greatest(devices.last_seen_ms, excluded.last_seen_ms)
            RETURNING xmax = 0 AS added
            """)
        // An account the district has already stays as it is there (its role and password).
        try await merge(.staff, """
            INSERT INTO staff (\(ImportedTable.staff.writtenNames)) SELECT \(ImportedTable.staff.writtenNames) FROM import_staff
            ON CONFLICT DO NOTHING RETURNING true AS added
            """)
        // The episode changed last wins; a code the district handed out already stays.
        try await merge(.terminals, """
            INSERT INTO terminals (\(ImportedTable.terminals.writtenNames)) SELECT \(ImportedTable.terminals.writtenNames) FROM import_terminals
            ON CONFLICT (phone) DO UPDATE SET auth_code = coalesce(terminals.auth_code, excluded.auth_code),
                emergency_open = CASE WHEN excluded.emergency_changed_ms > terminals.emergency_changed_ms
                    THEN excluded.emergency_open ELSE terminals.emergency_open END,
                emergency_changed_ms = greatest(terminals.emergency_changed_ms, excluded.emergency_changed_ms)
            RETURNING xmax = 0 AS added
            """)

        try await stream(.trackPoints, """
            INSERT INTO track_points (\(ImportedTable.trackPoints.writtenNames)) SELECT \(ImportedTable.trackPoints.writtenNames)
            FROM import_track_points ON CONFLICT (device, sequence) DO NOTHING RETURNING true AS added
            """)
        try await stream(.heartbeats, """
            INSERT INTO heartbeats (\(ImportedTable.heartbeats.writtenNames)) SELECT \(ImportedTable.heartbeats.writtenNames)
            FROM import_heartbeats ON CONFLICT (device, sequence) DO NOTHING RETURNING true AS added
            """)
        try await stream(.nonces, """
            INSERT INTO nonces (\(ImportedTable.nonces.writtenNames)) SELECT \(ImportedTable.nonces.writtenNames) FROM import_nonces
            ON CONFLICT (device, nonce) DO UPDATE SET expires_ms = excluded.expires_ms WHERE nonces.expires_ms < excluded.expires_ms
            RETURNING xmax = 0 AS added
            """)

        for table in [ImportedTable.events, .audit, .dutyRecords, .downlink] { try await stage(table) }
        try await mergeEvents()
        try await renumberAlarmSubjects()
        try await merge(.audit, Self.mergeAllCopies(.audit, orderedBy: "time_ms"))
        try await merge(.dutyRecords, Self.mergeAllCopies(.dutyRecords, orderedBy: "time_ms"))
        try await mergeDownlink()
        return counts
    }

    // MARK: Reading and staging

    /// Reads `table` from the snapshot in batches, calling `body` with the query of each batch's
    /// rows (`SELECT … FROM unnest(…)`, its columns named as the table's).
    private func read(_ table: ImportedTable, _ body: (PostgresQuery, Int) async throws -> Void) async throws {
        guard table.since <= source.version else { return }
        let statement = try source.connection.statement(table.sourceQuery(version: source.version))
        if table.sourceCondition.isEmpty { try statement.startRows() } else { try statement.startRows(now.millisecondsSinceEpoch) }
        var batch = ColumnBatch(table)
        while try statement.nextRow({ batch.append($0) }) {
            if batch.count == SQLiteImport.batchRows {
                try await body(batch.rowsQuery(), batch.count)
                batch = ColumnBatch(table)
            }
        }
        if batch.count > 0 { try await body(batch.rowsQuery(), batch.count) }
    }

    /// Copies `table` into a temporary table of the same columns (`import_…`), dropped at commit.
    private mutating func stage(_ table: ImportedTable) async throws {
        let columns = table.columns.map { "\($0.name) \($0.kind.postgresType)" }.joined(separator: ", ")
        try await connection.query(PostgresQuery(unsafeSQL: "CREATE TEMPORARY TABLE \(table.staged) (\(columns)) ON COMMIT DROP"), logger: logger)
        let names = table.columns.map(\.name).joined(separator: ", ")
        try await read(table) { rows, _ in
            try await connection.query(PostgresQuery(unsafeSQL: "INSERT INTO \(table.staged) (\(names)) " + rows.sql, binds: rows.binds),
                                       logger: logger)
        }
    }

    /// Runs `sql` (an `INSERT` reading `import_…`, returning `added` for each row written: true for
    /// a row the district did not have) for each batch of `table` as it is read, printing progress.
    private mutating func stream(_ table: ImportedTable, _ sql: String) async throws {
        let total = try source.count(table, now: now)
        var count = SQLiteImport.TableCount(table: table.name, read: 0, added: 0)
        var reported = Int64(0)
        try await read(table) { rows, rowCount in
            count.added += try await number(PostgresQuery(unsafeSQL: "WITH \(table.staged) AS (\(rows.sql)), written AS (\(sql))"
                                                          + " SELECT count(*) FILTER (WHERE added) FROM written", binds: rows.binds))
            count.read += Int64(rowCount)
            if count.read - reported >= 1_000_000 {
                reported = count.read
                progress("\(table.name): \(count.read) of \(total)")
            }
        }
        finish(count)
    }

    /// Runs `sql` (an `INSERT` as `stream` takes it) once over the staged `import_…` table.
    private mutating func merge(_ table: ImportedTable, _ sql: String) async throws {
        let written = try await number(PostgresQuery(unsafeSQL: "WITH written AS (\(sql)) SELECT count(*) FILTER (WHERE added) FROM written"))
        finish(SQLiteImport.TableCount(table: table.name, read: try await stagedCount(table), added: written))
    }

    private func stagedCount(_ table: ImportedTable) async throws -> Int64 {
        try await number(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table.staged)"))
    }

    private mutating func finish(_ count: SQLiteImport.TableCount) {
        counts.append(count)
        progress(count.description)
    }

    /// Who sends the import's change notices (no instance: every running one re-reads them).
    private static let noticeSender = "import-sqlite"

    /// The (device, alarm id) rows `sql` returns: the alarms an update carried over.
    private func carriedAlarms(_ sql: String) async throws -> [(device: String, id: Int64)] {
        var alarms: [(device: String, id: Int64)] = []
        for try await (device, id) in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).decode((String, Int64).self) {
            alarms.append((device, id))
        }
        return alarms
    }

    /// The one number `query` returns.
    private func number(_ query: PostgresQuery) async throws -> Int64 {
        for try await count in try await connection.query(query, logger: logger).decode(Int64.self) { return count }
        return 0
    }

    // MARK: Rules across rows

    /// Every row that would attach the street's data to someone else in the district, named with what to do.
    private func refuseConflicts() async throws {
        var problems: [String] = []
        for try await (kind, subject, other) in try await connection.query("""
            SELECT 'device', i.id, '' FROM import_devices i JOIN devices d ON d.id = i.id WHERE d.hmac_key <> i.hmac_key
            UNION ALL SELECT 'staff', i.name, '' FROM import_staff i JOIN staff s ON s.name = i.name WHERE s.token_sha256 <> i.token_sha256
            UNION ALL SELECT 'token', i.name, s.name FROM import_staff i JOIN staff s ON s.token_sha256 = i.token_sha256 WHERE s.name <> i.name
            UNION ALL SELECT 'phone', i.phone, t.device || ' ' || i.device FROM import_terminals i JOIN terminals t ON t.phone = i.phone
                WHERE t.device <> i.device
            UNION ALL SELECT 'terminal', i.device, t.phone || ' ' || i.phone FROM import_terminals i JOIN terminals t ON t.device = i.device
                WHERE t.phone <> i.phone
            ORDER BY 1, 2
            """, logger: logger).decode((String, String, String).self) {
            let pair = other.split(separator: " ").map(String.init)
            switch kind {
            case "device":
                problems.append("device \(subject) is registered in the district with a different key: two boards have that id; register the street's board under a new id at the street centre (patrol-centre devices add) or remove the district's, then import again")
            case "staff":
                problems.append("staff member \(subject) exists in the district with a different token: two accounts have that name; rename one of them (a new account with patrol-centre staff add), then import again")
            case "token":
                problems.append("staff member \(subject)'s token is district staff member \(other)'s token: give one of them a new account with patrol-centre staff add, then import again")
            case "phone":
                problems.append("terminal \(subject) is device \(pair.first ?? "") in the district but device \(pair.last ?? "") in \(source.path): register it under one device id on both, then import again")
            default:
                problems.append("device \(subject) is the district's terminal \(pair.first ?? "") but terminal \(pair.last ?? "") in \(source.path): register it under one phone on both, then import again")
            }
        }
        guard problems.isEmpty else {
            throw SQLiteImportRefusal("nothing was imported from \(source.path):\n" + problems.map { "  " + $0 }.joined(separator: "\n"))
        }
    }

    /// `import_acknowledged` collects the alarms whose acknowledgement this import writes into the
    /// district: a new alarm that comes acknowledged, or one the district has open and the street
    /// acknowledged since an earlier import. Only their downlink messages are imported.
    ///
    /// What the street did since an earlier import to alarms the district has (escalated one,
    /// acknowledged one still open in the district) is carried over, and running instances are told
    /// as of their own staff's escalations and acknowledgements.
    private mutating func mergeEvents() async throws {
        try await connection.query("CREATE TEMPORARY TABLE import_acknowledged (device text, sequence bigint) ON COMMIT DROP", logger: logger)
        try await connection.query("CREATE TEMPORARY TABLE import_opened (device text, sequence bigint) ON COMMIT DROP", logger: logger)
        let escalated = try await carriedAlarms("""
            UPDATE events SET escalated_by = i.escalated_by, escalated_ms = i.escalated_ms, escalation_note = i.escalation_note
            FROM import_events i
            WHERE events.device = i.device AND events.sequence = i.sequence AND events.escalated_ms IS NULL AND i.escalated_ms IS NOT NULL
            RETURNING events.device, events.id
            """)
        let acknowledged = try await carriedAlarms("""
            WITH carried AS (
                UPDATE events SET acknowledged_by = i.acknowledged_by, acknowledged_ms = i.acknowledged_ms FROM import_events i
                WHERE events.device = i.device AND events.sequence = i.sequence AND events.acknowledged_ms IS NULL
                    AND i.acknowledged_ms IS NOT NULL
                RETURNING events.device, events.sequence, events.id),
            noted AS (INSERT INTO import_acknowledged SELECT device, sequence FROM carried)
            SELECT device, id FROM carried
            """)
        let committedMs = now.millisecondsSinceEpoch
        let notices = escalated.map { ChangeNotice(instance: Self.noticeSender, device: $0.device, escalated: $0.id, committedMs: committedMs) }
            + acknowledged.map { ChangeNotice(instance: Self.noticeSender, device: $0.device, acknowledged: $0.id, committedMs: committedMs) }
        for notice in notices { try await PostgresCentreStorage.notify(notice, on: connection, logger: logger) }
        let names = ImportedTable.events.writtenNames
        var alarmKinds = PostgresBindings()
        alarmKinds.append(EventKind.acknowledgedCodes)
        let inserted = try await number(PostgresQuery(unsafeSQL: """
            WITH inserted AS (
                INSERT INTO events (\(names)) SELECT \(names) FROM import_events ORDER BY id
                ON CONFLICT (device, sequence) DO NOTHING RETURNING device, sequence, kind, acknowledged_ms),
            noted AS (INSERT INTO import_acknowledged SELECT device, sequence FROM inserted WHERE acknowledged_ms IS NOT NULL),
            opened AS (INSERT INTO import_opened SELECT device, sequence FROM inserted WHERE acknowledged_ms IS NULL AND kind = ANY($1))
            SELECT count(*) FROM inserted
            """, binds: alarmKinds))
        finish(SQLiteImport.TableCount(table: "events", read: try await stagedCount(.events), added: inserted))
        if !escalated.isEmpty { progress("events: \(escalated.count) escalated at the street since they were imported: escalated in the district too") }
        if !acknowledged.isEmpty {
            progress("events: \(acknowledged.count) acknowledged at the street since they were imported: acknowledged in the district too")
        }
        try await announceOpenAlarms()
    }

    /// Tells every running instance's consoles of the open alarms this import adds, one change
    /// notice per unit as an ingest sends it; PostgreSQL delivers them at the commit, or never.
    private func announceOpenAlarms() async throws {
        var notices: [ChangeNotice] = []
        for try await (device, sequences) in try await connection.query("""
            SELECT device, array_agg(sequence ORDER BY sequence) FROM import_opened GROUP BY device ORDER BY device
            """, logger: logger).decode((String, [Int64]).self) {
            notices.append(ChangeNotice(instance: Self.noticeSender, device: device,
                                        alarms: sequences.prefix(ChangeNotice.maxAlarms).map { UInt64(bitPattern: $0) },
                                        committedMs: now.millisecondsSinceEpoch))
        }
        for notice in notices { try await PostgresCentreStorage.notify(notice, on: connection, logger: logger) }
    }

    /// Audit lines name alarms by id (`alarm 12`, how an acknowledgement's note is found): the
    /// street's ids become the district's.
    private func renumberAlarmSubjects() async throws {
        try await connection.query("""
            UPDATE import_audit SET subject = \(AuditEntry.alarmSubjectPrefix) || e.id
            FROM import_events i JOIN events e ON e.device = i.device AND e.sequence = i.sequence
            WHERE import_audit.subject = \(AuditEntry.alarmSubjectPrefix) || i.id
            """, logger: logger)
    }

    /// Rows without a key of their own: each distinct row is added as many times as the file holds
    /// it beyond the copies the district has already, so a second import adds none and two
    /// identical lines in one file stay two.
    static func mergeAllCopies(_ table: ImportedTable, orderedBy order: String) -> String {
        let names = table.writtenNames
        let same = table.written.map { "x.\($0.name) IS NOT DISTINCT FROM n.\($0.name)" }.joined(separator: " AND ")
        return """
            INSERT INTO \(table.name) (\(names))
            SELECT \(names) FROM (SELECT *, row_number() OVER (PARTITION BY \(names)) AS copy FROM \(table.staged)) n
            WHERE n.copy > (SELECT count(*) FROM \(table.name) x WHERE \(same)) ORDER BY \(order)
            RETURNING true AS added
            """
    }

    /// A device confirms downlink messages by id ("through N") and skips ids up to the highest it has
    /// handled, so a message imported under an id at or below what the device confirmed at the street
    /// would never reach it. The district therefore (under a lock, briefly, at the end) moves its id
    /// sequence past every id the street gave, so every later message of these devices is above
    /// what they confirmed, and keeps each imported message's street id where the district has
    /// that id free: the device's "through N" then means at the district what it meant at the
    /// street (a message it handled but had not yet confirmed is not shown again). A message whose
    /// id another device's message holds gets a new id above all of them: delivered, and at worst
    /// handled a second time, never lost. Only messages of acknowledgements this import writes
    /// are added, so a second import adds none (nor one the device confirmed since the first).
    private mutating func mergeDownlink() async throws {
        let highest = try source.highestDownlinkID()
        try await connection.query("LOCK TABLE downlink IN EXCLUSIVE MODE", logger: logger)
        try await connection.query("""
            SELECT setval(pg_get_serial_sequence('downlink', 'id'), greatest(\(highest), (SELECT coalesce(max(id), 0) FROM downlink),
                coalesce(pg_sequence_last_value(pg_get_serial_sequence('downlink', 'id')::regclass), 0), 1))
            """, logger: logger)
        let names = ImportedTable.downlink.writtenNames
        let due = """
            SELECT d.* FROM import_downlink d JOIN import_acknowledged a ON a.device = d.device AND a.sequence = d.alarm_sequence
            """
        let kept = try await number(PostgresQuery(unsafeSQL: """
            WITH kept AS (
                INSERT INTO downlink (id, \(names)) OVERRIDING SYSTEM VALUE SELECT id, \(names) FROM (\(due)) d ORDER BY id
                ON CONFLICT (id) DO NOTHING RETURNING 1)
            SELECT count(*) FROM kept
            """))
        let renumbered = try await number(PostgresQuery(unsafeSQL: """
            WITH renumbered AS (
                INSERT INTO downlink (\(names)) SELECT \(names) FROM (\(due)) d
                WHERE NOT EXISTS (SELECT 1 FROM downlink x WHERE x.device = d.device AND x.alarm_sequence = d.alarm_sequence) ORDER BY id
                RETURNING 1)
            SELECT count(*) FROM renumbered
            """))
        finish(SQLiteImport.TableCount(table: "downlink", read: try await stagedCount(.downlink), added: kept + renumbered))
        if renumbered > 0 { progress("downlink: \(renumbered) messages got new ids (the district's messages held theirs)") }
    }
}

/// One batch of rows, column by column, as `unnest` takes them: every column one array, and a
/// nullable column a second array saying which rows are NULL (PostgresNIO encodes no optional elements).
private struct ColumnBatch {
    private struct Values {
        var integers: [Int64] = []
        var texts: [String] = []
        var blobs: [ByteBuffer] = []
        var flags: [Bool] = []
        var nulls: [Bool] = []
    }

    private let columns: [ImportedColumn]
    private var values: [Values]
    private(set) var count = 0

    init(_ table: ImportedTable) {
        columns = table.columns
        values = Array(repeating: Values(), count: columns.count)
    }

    mutating func append(_ row: SQLiteRow) {
        for (index, column) in columns.enumerated() {
            let position = Int32(index)
            if column.nullable { values[index].nulls.append(row.isNull(position)) }
            switch column.kind {
            case .integer: values[index].integers.append(row.int64(position))
            case .text: values[index].texts.append(row.text(position))
            case .blob: values[index].blobs.append(ByteBuffer(bytes: row.blob(position)))
            case .flag: values[index].flags.append(row.int64(position) != 0)
            }
        }
        count += 1
    }

    /// `SELECT … FROM unnest($1::bigint[], …)`, its columns named as the table's.
    func rowsQuery() -> PostgresQuery {
        var binds = PostgresBindings()
        var arrays: [String] = []
        var selected: [String] = []
        for (index, column) in columns.enumerated() {
            switch column.kind {
            case .integer: binds.append(values[index].integers)
            case .text: binds.append(values[index].texts)
            case .blob: binds.append(values[index].blobs)
            case .flag: binds.append(values[index].flags)
            }
            arrays.append("$\(binds.count)::\(column.kind.postgresType)[]")
            if column.nullable {
                binds.append(values[index].nulls)
                arrays.append("$\(binds.count)::boolean[]")
                selected.append("CASE WHEN n\(index) THEN NULL ELSE v\(index) END AS \(column.name)")
            } else {
                selected.append("v\(index) AS \(column.name)")
            }
        }
        let aliases = columns.indices.flatMap { columns[$0].nullable ? ["v\($0)", "n\($0)"] : ["v\($0)"] }
        return PostgresQuery(unsafeSQL: "SELECT " + selected.joined(separator: ", ") + " FROM unnest(" + arrays.joined(separator: ", ")
                             + ") AS r(" + aliases.joined(separator: ", ") + ")", binds: binds)
    }
}
