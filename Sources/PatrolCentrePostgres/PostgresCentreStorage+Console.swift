import NIOCore
import PatrolCentre
import PatrolCore
import PostgresNIO

/// Staff accounts, console sessions, sign-in failures and the audit log on PostgreSQL, and the live
/// map's read of each device's newest point: what `SQLiteCentreStorage+Console` keeps in the file.
extension PostgresCentreStorage {
    // MARK: Staff

    public func addStaff(_ member: StaffMember, tokenHash: [UInt8]) async throws -> Bool {
        try await client.query("""
            INSERT INTO staff (name, token_sha256, created_ms, role, password, street)
            VALUES (\(member.name), \(ByteBuffer(bytes: tokenHash)), \(member.createdAt.millisecondsSinceEpoch), \(member.role.rawValue),
                \(member.passwordHash), \(member.street))
            ON CONFLICT DO NOTHING RETURNING 1
            """).collect().count == 1
    }

    public func staffMember(name: String) async throws -> StaffMember? {
        try await staffMembers("WHERE name = $1", name).first
    }

    public func staffMember(tokenHash: [UInt8]) async throws -> StaffMember? {
        try await staffMembers("WHERE token_sha256 = $1", ByteBuffer(bytes: tokenHash)).first
    }

    public func staffMembers() async throws -> [StaffMember] {
        try await staffMembers("ORDER BY name")
    }

    /// A role this version does not know (written by a newer one) reads as the least: operator.
    private func staffMembers(_ condition: String, _ value: (some PostgresEncodable & Sendable)? = String?.none) async throws -> [StaffMember] {
        var binds = PostgresBindings()
        if let value { try binds.append(value) }
        var members: [StaffMember] = []
        for try await (name, role, password, created, street) in try await client.query(
            PostgresQuery(unsafeSQL: "SELECT name, role, password, created_ms, street FROM staff " + condition, binds: binds))
            .decode((String, String, String?, Int64, String?).self) {
            members.append(StaffMember(name: name, role: StaffRole(rawValue: role) ?? .operator, passwordHash: password,
                                       createdAt: UTCTime(millisecondsSinceEpoch: created), street: street))
        }
        return members
    }

    // MARK: Sessions

    public func addSession(idHash: [UInt8], name: String, csrfToken: String, at time: UTCTime) async throws {
        try await client.query("""
            INSERT INTO staff_sessions (id_sha256, name, csrf, created_ms, last_used_ms)
            VALUES (\(ByteBuffer(bytes: idHash)), \(name), \(csrfToken), \(time.millisecondsSinceEpoch), \(time.millisecondsSinceEpoch))
            """)
    }

    public func session(idHash: [UInt8]) async throws -> StaffSession? {
        for try await (name, role, password, created, csrf, sessionCreated, lastUsed, street) in try await client.query("""
            SELECT staff.name, staff.role, staff.password, staff.created_ms, csrf, staff_sessions.created_ms, last_used_ms, staff.street
            FROM staff_sessions JOIN staff ON staff.name = staff_sessions.name WHERE id_sha256 = \(ByteBuffer(bytes: idHash))
            """).decode((String, String, String?, Int64, String, Int64, Int64, String?).self) {
            let staff = StaffMember(name: name, role: StaffRole(rawValue: role) ?? .operator, passwordHash: password,
                                    createdAt: UTCTime(millisecondsSinceEpoch: created), street: street)
            return StaffSession(staff: staff, csrfToken: csrf, createdAt: UTCTime(millisecondsSinceEpoch: sessionCreated),
                                lastUsedAt: UTCTime(millisecondsSinceEpoch: lastUsed))
        }
        return nil
    }

    public func touchSession(idHash: [UInt8], at time: UTCTime) async throws {
        try await client.query("""
            UPDATE staff_sessions SET last_used_ms = greatest(last_used_ms, \(time.millisecondsSinceEpoch))
            WHERE id_sha256 = \(ByteBuffer(bytes: idHash))
            """)
    }

    public func removeSession(idHash: [UInt8]) async throws {
        try await client.query("DELETE FROM staff_sessions WHERE id_sha256 = \(ByteBuffer(bytes: idHash))")
    }

    public func removeSessions(idleBefore: UTCTime, createdBefore: UTCTime) async throws {
        try await client.query("""
            DELETE FROM staff_sessions
            WHERE last_used_ms < \(idleBefore.millisecondsSinceEpoch) OR created_ms < \(createdBefore.millisecondsSinceEpoch)
            """)
    }

    // MARK: Sign-in failures

    public func signInFailures(key: String) async throws -> SignInFailures? {
        for try await (count, last) in try await client.query("SELECT count, last_ms FROM sign_in_failures WHERE key = \(key)")
            .decode((Int64, Int64).self) {
            return SignInFailures(count: Int(clamping: count), lastAt: UTCTime(millisecondsSinceEpoch: last))
        }
        return nil
    }

    /// One upsert counts the failure, whichever instance the guess reached, so a lockout holds across
    /// instances. Failures a day old are forgotten on the way.
    public func recordSignInFailure(key: String, at time: UTCTime) async throws -> SignInFailures {
        let now = time.millisecondsSinceEpoch
        try await client.query("DELETE FROM sign_in_failures WHERE last_ms < \(now - 86_400_000)")
        for try await (count, last) in try await client.query("""
            INSERT INTO sign_in_failures (key, count, last_ms) VALUES (\(key), 1, \(now))
            ON CONFLICT (key) DO UPDATE SET count = sign_in_failures.count + 1, last_ms = greatest(sign_in_failures.last_ms, excluded.last_ms)
            RETURNING count, last_ms
            """).decode((Int64, Int64).self) {
            return SignInFailures(count: Int(clamping: count), lastAt: UTCTime(millisecondsSinceEpoch: last))
        }
        return SignInFailures(count: 1, lastAt: time)
    }

    public func clearSignInFailures(key: String) async throws {
        try await client.query("DELETE FROM sign_in_failures WHERE key = \(key)")
    }

    // MARK: Audit log

    public func appendAudit(_ entry: AuditEntry) async throws {
        try await client.query("""
            INSERT INTO audit (time_ms, actor, action, subject, address, detail)
            VALUES (\(entry.time.millisecondsSinceEpoch), \(entry.actor), \(entry.action), \(entry.subject), \(entry.address), \(entry.detail))
            """)
    }

    public func auditEntries(in range: Range<UTCTime>?, limit: Int) async throws -> [AuditEntry] {
        var entries: [AuditEntry] = []
        for try await (id, time, actor, action, subject, address, detail) in try await client.query("""
            SELECT id, time_ms, actor, action, subject, address, detail FROM audit
            WHERE time_ms >= \(range?.lowerBound.millisecondsSinceEpoch ?? Int64.min) AND time_ms < \(range?.upperBound.millisecondsSinceEpoch ?? Int64.max)
            ORDER BY time_ms, id LIMIT \(Int64(max(0, limit)))
            """).decode((Int64, Int64, String, String, String?, String?, String?).self) {
            entries.append(AuditEntry(id: id, time: UTCTime(millisecondsSinceEpoch: time), actor: actor, action: action,
                                      subject: subject, address: address, detail: detail))
        }
        return entries
    }

    public func acknowledgementNotes(alarmIDs: [Int64]) async throws -> [Int64: String] {
        var notes: [Int64: String] = [:]
        for id in alarmIDs {
            for try await note in try await client.query("""
                SELECT detail FROM audit WHERE action = \(AuditEntry.Action.alarmAcknowledged) AND subject = \(AuditEntry.alarmSubject(id))
                    AND detail IS NOT NULL ORDER BY id LIMIT 1
                """).decode(String.self) {
                notes[id] = note
            }
        }
        return notes
    }

    // MARK: Live map

    /// One step down the (device, time, sequence) index from its end.
    public func latestTrackPoint(device: String) async throws -> TrackRecord? {
        try await trackRecords("""
            SELECT \(unescaped: Self.trackColumns) FROM track_points WHERE device = \(device) ORDER BY time_ms DESC, sequence DESC LIMIT 1
            """).first
    }

    public func reportedBacklogs() async throws -> [String: ReportedBacklog] {
        var backlogs: [String: ReportedBacklog] = [:]
        for try await (device, pending, time) in try await client.query("""
            SELECT DISTINCT ON (device) device, pending_records, time_ms FROM heartbeats ORDER BY device, time_ms DESC
            """).decode((String, Int64, Int64).self) {
            backlogs[device] = ReportedBacklog(pendingRecords: pending, reportedAt: UTCTime(millisecondsSinceEpoch: time))
        }
        return backlogs
    }
}
