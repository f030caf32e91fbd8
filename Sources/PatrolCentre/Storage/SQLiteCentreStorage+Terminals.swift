import PatrolCore
import PatrolSQLite

/// `TerminalStorage` on the centre's SQLite file: terminals are rows of `devices` (with a random
/// key nobody holds) plus their phone and code in `terminals`, and their reports go into the same
/// `track_points`, `events` and `downlink` tables as a board's.
extension SQLiteCentreStorage: TerminalStorage {
    /// Version 6: terminals by phone, and each terminal's emergency episode (open or not, and the
    /// report time of the last change), kept beside it so an episode survives reconnects and restarts.
    static func addTerminals(_ connection: SQLiteConnection) throws {
        try connection.transaction {
            try connection.executeScript("""
                CREATE TABLE terminals (
                    phone TEXT PRIMARY KEY, device TEXT NOT NULL UNIQUE REFERENCES devices (id), auth_code BLOB,
                    emergency_open INTEGER NOT NULL DEFAULT 0, emergency_changed_ms INTEGER NOT NULL DEFAULT 0);
                PRAGMA user_version = 6;
                """)
        }
    }

    public func addTerminal(id: String, phone: String, at time: UTCTime) throws -> Bool {
        try connection.transaction {
            let taken = try connection.statement("SELECT 1 FROM terminals WHERE phone = ?").firstRow(phone) { _ in true } ?? false
            guard !taken, try addDevice(id: id, key: Secrets.randomBytes(), street: nil, at: time) else { return false }
            try connection.statement("INSERT INTO terminals (phone, device) VALUES (?, ?)").execute(phone, id)
            return true
        }
    }

    public func terminalDevice(phone: String) throws -> String? {
        try connection.statement("""
            SELECT terminals.device FROM terminals JOIN devices ON devices.id = terminals.device
            WHERE phone = ? AND devices.revoked_ms IS NULL
            """).firstRow(phone) { $0.text(0) }
    }

    public func setTerminalAuthCode(_ code: [UInt8], phone: String) throws {
        try connection.statement("UPDATE terminals SET auth_code = ? WHERE phone = ?").execute(code, phone)
    }

    public func terminalAuthCode(phone: String) throws -> [UInt8]? {
        try connection.statement("""
            SELECT auth_code FROM terminals JOIN devices ON devices.id = terminals.device
            WHERE phone = ? AND devices.revoked_ms IS NULL AND auth_code IS NOT NULL
            """).firstRow(phone) { $0.blob(0) }
    }

    public func ingestTerminalReports(_ reports: [TerminalReport], device: String, at time: UTCTime) throws -> [DownlinkMessage] {
        let received = time.millisecondsSinceEpoch
        return try connection.transaction {
            let revoked = try connection.statement("SELECT revoked_ms IS NOT NULL FROM devices WHERE id = ?").firstRow(device) { $0.int64(0) != 0 }
            guard revoked == false else { throw TerminalRevoked(device: device) }
            try insertTrack(reports.compactMap(\.point), of: device, received: received)
            var episode = try connection.statement("SELECT emergency_open, emergency_changed_ms FROM terminals WHERE device = ?")
                .firstRow(device) { (open: $0.int64(0) != 0, changed: $0.int64(1)) } ?? (open: false, changed: 0)
            let before = episode
            for report in reports where report.time.millisecondsSinceEpoch > episode.changed && report.emergency != episode.open {
                episode = (report.emergency, report.time.millisecondsSinceEpoch)
                guard report.emergency else { continue }
                try insertEvents([report.alarmEvent], of: device, received: received)
            }
            if episode != before {
                try connection.statement("UPDATE terminals SET emergency_open = ?, emergency_changed_ms = ? WHERE device = ?")
                    .execute(episode.open ? 1 : 0, episode.changed, device)
            }
            try connection.statement("UPDATE devices SET last_seen_ms = max(coalesce(last_seen_ms, 0), ?) WHERE id = ?")
                .execute(received, device)
            return try pendingDownlink(device: device)
        }
    }

    public func forgetDownlink(device: String, through id: Int64) throws {
        try connection.statement("DELETE FROM downlink WHERE device = ? AND id <= ?").execute(device, id)
    }

    public func devicesWithPendingDownlink() throws -> Set<String> {
        var devices: Set<String> = []
        try connection.statement("SELECT DISTINCT device FROM downlink").forEachRow { devices.insert($0.text(0)) }
        return devices
    }
}
