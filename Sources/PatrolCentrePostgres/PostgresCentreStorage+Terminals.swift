import NIOCore
import PatrolCentre
import PatrolCore
import PostgresNIO

/// `TerminalStorage` on PostgreSQL: what `SQLiteCentreStorage+Terminals` keeps in the file. A
/// terminal is a row of `devices` (with a random key nobody holds) plus its phone, code and
/// emergency episode in `terminals`; its reports go into the board's tables.
extension PostgresCentreStorage: TerminalStorage {
    /// Thrown inside `addTerminal`'s transaction to roll back the device row when another instance
    /// registered the phone at the same moment.
    private struct PhoneTaken: Error {}

    public func addTerminal(id: String, phone: String, at time: UTCTime) async throws -> Bool {
        do {
            return try await client.transaction(logger: logger) { connection in
                let device = try await connection.query("""
                    INSERT INTO devices (id, hmac_key, registered_ms)
                    VALUES (\(id), \(ByteBuffer(bytes: Secrets.randomBytes())), \(time.millisecondsSinceEpoch))
                    ON CONFLICT DO NOTHING RETURNING 1
                    """, logger: logger).collect()
                guard device.count == 1 else { return false }
                let terminal = try await connection.query("""
                    INSERT INTO terminals (phone, device) VALUES (\(phone), \(id)) ON CONFLICT DO NOTHING RETURNING 1
                    """, logger: logger).collect()
                guard terminal.count == 1 else { throw PhoneTaken() }
                return true
            }
        } catch is PhoneTaken {
            return false
        }
    }

    public func terminalDevice(phone: String) async throws -> String? {
        for try await device in try await client.query("""
            SELECT terminals.device FROM terminals JOIN devices ON devices.id = terminals.device
            WHERE phone = \(phone) AND devices.revoked_ms IS NULL
            """).decode(String.self) {
            return device
        }
        return nil
    }

    public func setTerminalAuthCode(_ code: [UInt8], phone: String) async throws {
        try await client.query("UPDATE terminals SET auth_code = \(ByteBuffer(bytes: code)) WHERE phone = \(phone)")
    }

    public func terminalAuthCode(phone: String) async throws -> [UInt8]? {
        for try await code in try await client.query("""
            SELECT auth_code FROM terminals JOIN devices ON devices.id = terminals.device
            WHERE phone = \(phone) AND devices.revoked_ms IS NULL AND auth_code IS NOT NULL
            """).decode(ByteBuffer.self) {
            return Array(code.readableBytesView)
        }
        return nil
    }

    /// The terminal's row is locked (`FOR UPDATE`) for the transaction, so two instances a
    /// reconnecting terminal reached at once read and change its episode one after the other and
    /// raise its alarm once.
    public func ingestTerminalReports(_ reports: [TerminalReport], device: String, at time: UTCTime) async throws -> [DownlinkMessage] {
        let received = time.millisecondsSinceEpoch
        let (downlink, alarmed) = try await client.transaction(logger: logger) { connection in
            var revoked = true
            for try await revokedAt in try await connection.query("SELECT revoked_ms FROM devices WHERE id = \(device)", logger: logger)
                .decode(Int64?.self) {
                revoked = revokedAt != nil
            }
            guard !revoked else { throw TerminalRevoked(device: device) }
            var episode = (open: false, changed: Int64(0))
            for try await (open, changed) in try await connection.query("""
                SELECT emergency_open, emergency_changed_ms FROM terminals WHERE device = \(device) FOR UPDATE
                """, logger: logger).decode((Bool, Int64).self) {
                episode = (open, changed)
            }
            try await Self.insertTrack(reports.compactMap(\.point), of: device, received: received, on: connection, logger: logger)
            let before = episode
            var raised: [UplinkEvent] = []
            for report in reports where report.time.millisecondsSinceEpoch > episode.changed && report.emergency != episode.open {
                episode = (report.emergency, report.time.millisecondsSinceEpoch)
                guard report.emergency else { continue }
                raised.append(report.alarmEvent)
                try await Self.insertEvents([report.alarmEvent], of: device, received: received, on: connection, logger: logger)
            }
            if episode != before {
                try await connection.query("""
                    UPDATE terminals SET emergency_open = \(episode.open), emergency_changed_ms = \(episode.changed) WHERE device = \(device)
                    """, logger: logger)
            }
            try await connection.query("""
                UPDATE devices SET last_seen_ms = greatest(coalesce(last_seen_ms, 0), \(received)) WHERE id = \(device)
                """, logger: logger)
            let notice = alarmNotice(device: device, events: raised, at: time)
            if let notice { try await Self.notify(notice, on: connection, logger: logger) }
            return (try await Self.downlink(device: device, on: connection, logger: logger), notice != nil)
        }
        if !alarmed { announceMove(of: device, at: time) }
        return downlink
    }

    public func pendingDownlink(device: String) async throws -> [DownlinkMessage] {
        try await client.withConnection { connection in try await Self.downlink(device: device, on: connection, logger: logger) }
    }

    public func forgetDownlink(device: String, through id: Int64) async throws {
        try await client.query("DELETE FROM downlink WHERE device = \(device) AND id <= \(id)")
    }

    public func devicesWithPendingDownlink() async throws -> Set<String> {
        var devices: Set<String> = []
        for try await device in try await client.query("SELECT DISTINCT device FROM downlink").decode(String.self) {
            devices.insert(device)
        }
        return devices
    }
}
