import PatrolCore
import PatrolSQLite

/// Staff accounts, console sessions, sign-in failures and the audit log in the SQLite file, and the
/// live map's read of each device's newest point.
extension SQLiteCentreStorage {
    /// Version 5: staff get a role and an optional password (existing accounts become admins: their
    /// tokens could use every route before roles existed), and the console's sessions, sign-in
    /// failures and audit log get tables. A session is kept as the SHA-256 of its id, like a token.
    static func addConsoleTables(_ connection: SQLiteConnection) throws {
        try connection.transaction {
            try connection.executeScript("""
                ALTER TABLE staff ADD COLUMN role TEXT NOT NULL DEFAULT 'admin';
                ALTER TABLE staff ADD COLUMN password TEXT;
                CREATE TABLE staff_sessions (
                    id_sha256 BLOB PRIMARY KEY, name TEXT NOT NULL REFERENCES staff (name) ON DELETE CASCADE,
                    csrf TEXT NOT NULL, created_ms INTEGER NOT NULL, last_used_ms INTEGER NOT NULL) WITHOUT ROWID;
                CREATE TABLE sign_in_failures (
                    key TEXT PRIMARY KEY, count INTEGER NOT NULL, last_ms INTEGER NOT NULL) WITHOUT ROWID;
                CREATE TABLE audit (
                    id INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
                    subject TEXT, address TEXT, detail TEXT);
                CREATE INDEX audit_by_time ON audit (time_ms);
                CREATE INDEX audit_by_subject ON audit (action, subject);
                PRAGMA user_version = 5;
                """)
        }
    }

    // MARK: Staff

    public func addStaff(_ member: StaffMember, tokenHash: [UInt8]) throws -> Bool {
        try connection.statement("""
            INSERT OR IGNORE INTO staff (name, token_sha256, created_ms, role, password, street) VALUES (?, ?, ?, ?, ?, ?)
            """).execute(member.name, tokenHash, member.createdAt.millisecondsSinceEpoch, member.role.rawValue, member.passwordHash, member.street)
        return connection.changes == 1
    }

    private static let staffColumns = "SELECT name, role, password, created_ms, street FROM staff"

    public func staffMember(name: String) throws -> StaffMember? {
        try connection.statement(Self.staffColumns + " WHERE name = ?").firstRow(name) { Self.staffMember(from: $0) }
    }

    public func staffMember(tokenHash: [UInt8]) throws -> StaffMember? {
        try connection.statement(Self.staffColumns + " WHERE token_sha256 = ?").firstRow(tokenHash) { Self.staffMember(from: $0) }
    }

    public func staffMembers() throws -> [StaffMember] {
        var members: [StaffMember] = []
        try connection.statement(Self.staffColumns + " ORDER BY name").forEachRow { members.append(Self.staffMember(from: $0)) }
        return members
    }

    /// Columns 0 to 3 as `staffColumns` reads them, and the street in `streetColumn`. A role this
    /// version does not know (written by a newer one) reads as the least: operator.
    private static func staffMember(from row: SQLiteRow, streetColumn: Int32 = 4) -> StaffMember {
        StaffMember(name: row.text(0), role: StaffRole(rawValue: row.text(1)) ?? .operator,
                    passwordHash: row.optionalText(2), createdAt: UTCTime(millisecondsSinceEpoch: row.int64(3)),
                    street: row.optionalText(streetColumn))
    }

    // MARK: Sessions

    public func addSession(idHash: [UInt8], name: String, csrfToken: String, at time: UTCTime) throws {
        try connection.statement("INSERT INTO staff_sessions (id_sha256, name, csrf, created_ms, last_used_ms) VALUES (?, ?, ?, ?, ?)")
            .execute(idHash, name, csrfToken, time.millisecondsSinceEpoch, time.millisecondsSinceEpoch)
    }

    public func session(idHash: [UInt8]) throws -> StaffSession? {
        try connection.statement("""
            SELECT staff.name, staff.role, staff.password, staff.created_ms, csrf, staff_sessions.created_ms, last_used_ms, staff.street
            FROM staff_sessions JOIN staff ON staff.name = staff_sessions.name WHERE id_sha256 = ?
            """).firstRow(idHash) { row in
            StaffSession(staff: Self.staffMember(from: row, streetColumn: 7), csrfToken: row.text(4),
                         createdAt: UTCTime(millisecondsSinceEpoch: row.int64(5)), lastUsedAt: UTCTime(millisecondsSinceEpoch: row.int64(6)))
        }
    }

    public func touchSession(idHash: [UInt8], at time: UTCTime) throws {
        try connection.statement("UPDATE staff_sessions SET last_used_ms = max(last_used_ms, ?) WHERE id_sha256 = ?")
            .execute(time.millisecondsSinceEpoch, idHash)
    }

    public func removeSession(idHash: [UInt8]) throws {
        try connection.statement("DELETE FROM staff_sessions WHERE id_sha256 = ?").execute(idHash)
    }

    public func removeSessions(idleBefore: UTCTime, createdBefore: UTCTime) throws {
        try connection.statement("DELETE FROM staff_sessions WHERE last_used_ms < ? OR created_ms < ?")
            .execute(idleBefore.millisecondsSinceEpoch, createdBefore.millisecondsSinceEpoch)
    }

    // MARK: Sign-in failures

    public func signInFailures(key: String) throws -> SignInFailures? {
        try connection.statement("SELECT count, last_ms FROM sign_in_failures WHERE key = ?").firstRow(key) {
            SignInFailures(count: Int(clamping: $0.int64(0)), lastAt: UTCTime(millisecondsSinceEpoch: $0.int64(1)))
        }
    }

    /// Failures a day old are forgotten on the way, so guessing from many addresses cannot grow the table for good.
    public func recordSignInFailure(key: String, at time: UTCTime) throws -> SignInFailures {
        let now = time.millisecondsSinceEpoch
        return try connection.transaction {
            try connection.statement("DELETE FROM sign_in_failures WHERE last_ms < ?").execute(now - 86_400_000)
            try connection.statement("""
                INSERT INTO sign_in_failures (key, count, last_ms) VALUES (?1, 1, ?2)
                ON CONFLICT (key) DO UPDATE SET count = count + 1, last_ms = max(last_ms, ?2)
                """).execute(key, now)
            return try signInFailures(key: key) ?? SignInFailures(count: 1, lastAt: time)
        }
    }

    public func clearSignInFailures(key: String) throws {
        try connection.statement("DELETE FROM sign_in_failures WHERE key = ?").execute(key)
    }

    // MARK: Audit log

    public func appendAudit(_ entry: AuditEntry) throws {
        try connection.statement("INSERT INTO audit (time_ms, actor, action, subject, address, detail) VALUES (?, ?, ?, ?, ?, ?)")
            .execute(entry.time.millisecondsSinceEpoch, entry.actor, entry.action, entry.subject, entry.address, entry.detail)
    }

    public func auditEntries(in range: Range<UTCTime>?, limit: Int) throws -> [AuditEntry] {
        var entries: [AuditEntry] = []
        try connection.statement("""
            SELECT id, time_ms, actor, action, subject, address, detail FROM audit
            WHERE time_ms >= ? AND time_ms < ? ORDER BY time_ms, id LIMIT ?
            """).forEachRow(range?.lowerBound.millisecondsSinceEpoch ?? Int64.min, range?.upperBound.millisecondsSinceEpoch ?? Int64.max,
                            Int64(limit)) { row in
            entries.append(AuditEntry(id: row.int64(0), time: UTCTime(millisecondsSinceEpoch: row.int64(1)), actor: row.text(2),
                                      action: row.text(3), subject: row.optionalText(4), address: row.optionalText(5),
                                      detail: row.optionalText(6)))
        }
        return entries
    }

    public func acknowledgementNotes(alarmIDs: [Int64]) throws -> [Int64: String] {
        var notes: [Int64: String] = [:]
        let lookup = try connection.statement("""
            SELECT detail FROM audit WHERE action = ? AND subject = ? AND detail IS NOT NULL ORDER BY id LIMIT 1
            """)
        for id in alarmIDs {
            if let note = try lookup.firstRow(AuditEntry.Action.alarmAcknowledged, AuditEntry.alarmSubject(id), read: { $0.text(0) }) {
                notes[id] = note
            }
        }
        return notes
    }

    // MARK: Live map

    /// One step down the (device, time, sequence) key from its end.
    public func latestTrackPoint(device: String) throws -> TrackRecord? {
        try connection.statement(Self.trackColumns + "WHERE device = ? ORDER BY time_ms DESC, sequence DESC LIMIT 1")
            .firstRow(device, read: Self.trackRecord(from:))
    }

    /// SQLite takes the bare column `pending_records` from the row holding `max(time_ms)`.
    public func reportedBacklogs() throws -> [String: ReportedBacklog] {
        var backlogs: [String: ReportedBacklog] = [:]
        try connection.statement("SELECT device, pending_records, max(time_ms) FROM heartbeats GROUP BY device").forEachRow { row in
            backlogs[row.text(0)] = ReportedBacklog(pendingRecords: row.int64(1), reportedAt: UTCTime(millisecondsSinceEpoch: row.int64(2)))
        }
        return backlogs
    }
}
