import Foundation
import Logging
import PatrolCentre
import PatrolCore
import PostgresNIO

/// What one instance tells the others it committed, as the payload of a PostgreSQL notification
/// (at most 8000 bytes, so only names and ids; receivers re-read the rest from the database).
struct ChangeNotice: Codable, Equatable {
    /// The instance that committed it, so it skips its own notices.
    var instance: String
    /// The device of an ingest with alarms or of an acknowledgement (empty in a notice of moves).
    var device: String
    /// The sequences of the alarm events the ingest carried.
    var alarms: [UInt64] = []
    /// The alarm acknowledged, when this is an acknowledgement.
    var acknowledged: Int64?
    /// The alarm escalated to the district desk, when this is an escalation.
    var escalated: Int64?
    /// Devices whose track points or heartbeats (no alarm) were committed since the last such notice.
    var moved: [String] = []
    /// When the change committed (for moves: the newest of them).
    var committedMs: Int64

    /// Beyond this many alarm sequences in one batch the notice names the first ones only (a
    /// notice must stay under PostgreSQL's 8000 bytes; a board sends a handful per batch).
    static let maxAlarms = 200
    /// A notice of moves names devices while its JSON stays under this many bytes.
    static let maxMovedBytes = 7000
}

/// Devices that moved (see `announceMove`) and are not yet told to the other instances, and
/// whether a task is sending them.
struct UnannouncedMoves {
    var devices: Set<String> = []
    var newestMs: Int64 = 0
    var sending = false
}

/// Alarms and acknowledgements send a `ChangeNotice` on the `patrol_changes` channel inside their
/// transaction (`pg_notify`), so the notice goes out exactly when the change commits; ingests of
/// track and heartbeats only are announced just after (`announceMove`). Every instance listens on a
/// connection of its own and republishes the others' notices on its feed.
extension PostgresCentreStorage: CentreChangeRelay {
    static let changeChannel = "patrol_changes"

    /// Queues `notice` on `connection`'s transaction: PostgreSQL delivers it at commit, or never.
    static func notify(_ notice: ChangeNotice, on connection: PostgresConnection, logger: Logger) async throws {
        let payload = String(decoding: try JSONEncoder().encode(notice), as: UTF8.self)
        try await connection.query("SELECT pg_notify(\(changeChannel), \(payload))", logger: logger)
    }

    /// The notice of an ingest of `device`'s `events` committed at `time`, when they hold alarms
    /// (nil otherwise: the ingest is announced by `announceMove` after it commits).
    func alarmNotice(device: String, events: [UplinkEvent], at time: UTCTime) -> ChangeNotice? {
        let alarms = events.filter { EventKind.acknowledgedCodes.contains($0.kind) }.map(\.sequence)
        guard !alarms.isEmpty else { return nil }
        return ChangeNotice(instance: instance, device: device, alarms: Array(alarms.prefix(ChangeNotice.maxAlarms)),
                            committedMs: time.millisecondsSinceEpoch)
    }

    /// Tells the other instances, after the commit, that `device`'s track or heartbeats committed at
    /// `time` (an ingest without alarms).
    ///
    /// Not in the ingest's transaction: PostgreSQL lets one transaction that notifies commit at a
    /// time (a database-wide lock, held through the commit's flush to disk), so a notice in every
    /// ingest queued each of a district's thousand ingests a second behind the others' fsyncs,
    /// and the ingest answers behind them. Alarms keep their notice in the transaction (it goes out
    /// exactly when they commit; they are few). Moves go out from one task per instance, as many
    /// devices to a notice as fit, so they gather while a notice is on its way and an ingest never
    /// waits for one. A crash in between loses the moves of that moment: the unit's next report
    /// moves it again.
    func announceMove(of device: String, at time: UTCTime) {
        let start = unannouncedMoves.withLock { moves in
            moves.devices.insert(device)
            moves.newestMs = max(moves.newestMs, time.millisecondsSinceEpoch)
            guard !moves.sending else { return false }
            moves.sending = true
            return true
        }
        if start { Task { await sendMoves() } }
    }

    /// Sends notices of moves until none are left.
    private func sendMoves() async {
        while true {
            let (devices, newestMs) = unannouncedMoves.withLock { moves in
                defer { moves = UnannouncedMoves(sending: !moves.devices.isEmpty) }
                return (moves.devices, moves.newestMs)
            }
            guard !devices.isEmpty else { return }
            var notice = ChangeNotice(instance: instance, device: "", committedMs: newestMs)
            var bytes = 200
            for device in devices {
                let size = (try? JSONEncoder().encode(device).count) ?? ChangeNotice.maxMovedBytes
                if bytes + size > ChangeNotice.maxMovedBytes {
                    await send(notice)
                    notice.moved = []
                    bytes = 200
                }
                notice.moved.append(device)
                bytes += size + 1
            }
            await send(notice)
        }
    }

    private func send(_ notice: ChangeNotice) async {
        guard !notice.moved.isEmpty else { return }
        do {
            try await client.withConnection { connection in try await Self.notify(notice, on: connection, logger: logger) }
        } catch {
            logger.error("could not tell the other instances of \(notice.moved.count) units' new positions (their next reports will): \(error)")
        }
    }

    /// Listens until cancelled. A lost connection is logged and listened to again a second later;
    /// what other instances committed in between reaches this instance's consoles when they reload.
    public func relayChanges(to feed: CentreChanges) async throws {
        while !Task.isCancelled {
            do {
                try await client.withConnection { connection in
                    for try await notification in try await connection.listen(Self.changeChannel) {
                        guard let notice = try? JSONDecoder().decode(ChangeNotice.self, from: Data(notification.payload.utf8)),
                              notice.instance != instance else { continue }
                        for device in notice.moved {
                            feed.publish(.ingested(device: device, events: [], committedAt: UTCTime(millisecondsSinceEpoch: notice.committedMs)))
                        }
                        if notice.moved.isEmpty, let change = try await change(for: notice) { feed.publish(change) }
                    }
                }
            } catch where !Task.isCancelled {
                logger.error("listening for other instances' changes failed, listening again in 1 s: \(error)")
                try await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// The change `notice` stands for, its alarms re-read from the database (nil when an acknowledged
    /// alarm is not there). Only alarms: a notice comes for every ingest of every instance, and the
    /// unit's position is read by whoever shows it, not for each notice.
    private func change(for notice: ChangeNotice) async throws -> CentreChange? {
        let committedAt = UTCTime(millisecondsSinceEpoch: notice.committedMs)
        var binds = PostgresBindings()
        if let id = notice.acknowledged {
            return try await alarm(id: id).map { .alarmAcknowledged($0, note: nil, committedAt: committedAt) }
        }
        if let id = notice.escalated {
            return try await alarm(id: id).map { .alarmEscalated($0, committedAt: committedAt) }
        }
        binds.append(notice.device)
        binds.append(notice.alarms.map { Int64(bitPattern: $0) })
        let raised = notice.alarms.isEmpty ? [] : try await alarms("WHERE device = $1 AND sequence = ANY($2) ORDER BY id", binds)
        return .ingested(device: notice.device, events: raised.map(\.event), committedAt: committedAt)
    }
}
