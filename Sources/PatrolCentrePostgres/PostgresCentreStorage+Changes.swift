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
    var device: String
    /// The sequences of the alarm events the ingest carried (empty: track points or heartbeats only).
    var alarms: [UInt64] = []
    /// The alarm acknowledged, when this is an acknowledgement.
    var acknowledged: Int64?
    /// The alarm escalated to the district desk, when this is an escalation.
    var escalated: Int64?
    var committedMs: Int64

    /// Beyond this many alarm sequences in one batch the notice names the first ones only (a
    /// notice must stay under PostgreSQL's 8000 bytes; a board sends a handful per batch).
    static let maxAlarms = 200
}

/// Every ingest and acknowledgement sends a `ChangeNotice` on the `patrol_changes` channel inside
/// its transaction (`pg_notify`), so the notice goes out exactly when the change commits; every
/// instance listens on a connection of its own and republishes the others' notices on its feed.
extension PostgresCentreStorage: CentreChangeRelay {
    static let changeChannel = "patrol_changes"

    /// Queues `notice` on `connection`'s transaction: PostgreSQL delivers it at commit, or never.
    static func notify(_ notice: ChangeNotice, on connection: PostgresConnection, logger: Logger) async throws {
        let payload = String(decoding: try JSONEncoder().encode(notice), as: UTF8.self)
        try await connection.query("SELECT pg_notify(\(changeChannel), \(payload))", logger: logger)
    }

    /// The notice of an ingest of `device`'s `events` (its alarms among them) committed at `time`.
    func ingestNotice(device: String, events: [UplinkEvent], at time: UTCTime) -> ChangeNotice {
        let alarms = events.filter { EventKind.acknowledgedCodes.contains($0.kind) }.map(\.sequence)
        return ChangeNotice(instance: instance, device: device, alarms: Array(alarms.prefix(ChangeNotice.maxAlarms)),
                            committedMs: time.millisecondsSinceEpoch)
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
                        if let change = try await change(for: notice) { feed.publish(change) }
                    }
                }
            } catch where !Task.isCancelled {
                logger.error("listening for other instances' changes failed, listening again in 1 s: \(error)")
                try await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// The change `notice` stands for, re-read from the database (nil when the alarm is not there).
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
        return .ingested(device: notice.device, events: raised.map(\.event), latestPoint: try await latestTrackPoint(device: notice.device),
                         committedAt: committedAt)
    }
}
