import Hummingbird
import PatrolCore

extension CentreStorage {
    /// Acknowledges alarm `id` as staff do, whichever way they do it (the console, the HTTP API, the
    /// command line): the acknowledgement and its downlink to the device, the audit line with the
    /// note, and the change feed (`changes`; nil in a process that serves none). Returns what
    /// `acknowledgeAlarm` answered.
    public func acknowledge(alarm id: Int64, by staffName: String, note: String?, address: String? = nil, at time: UTCTime,
                            changes: CentreChanges?) async throws -> AlarmAcknowledgement {
        let result = try await acknowledgeAlarm(id: id, by: staffName, at: time)
        if case .acknowledged(let alarm) = result {
            try await appendAudit(AuditEntry(time: time, actor: staffName, action: AuditEntry.Action.alarmAcknowledged,
                                             subject: AuditEntry.alarmSubject(id), address: address, detail: note))
            changes?.publish(.alarmAcknowledged(alarm, note: note, committedAt: time))
        }
        return result
    }
}

extension AlarmAcknowledgement {
    /// The acknowledged alarm, or the refusal an HTTP route answers (409 when someone was first, 404).
    public func acknowledgedAlarm(id: Int64) throws -> Alarm {
        switch self {
        case .acknowledged(let alarm): return alarm
        case .alreadyAcknowledged(let alarm):
            throw CentreError(.conflict, code: "already-acknowledged",
                              message: "alarm \(id) was acknowledged by \(alarm.acknowledgedBy ?? "?") at \(alarm.acknowledgedAt?.iso8601 ?? "?")")
        case .notFound:
            throw CentreError(.notFound, code: "no-such-alarm", message: "there is no alarm \(id)")
        }
    }
}

extension CentreRequestContext {
    /// The `{id}` of an alarm route: digits only, as `alarms` lists them.
    public func alarmID() throws -> Int64 {
        guard let id = parameters.get("id").flatMap({ Int64(strictDecimal: $0) }) else {
            throw CentreError(.badRequest, code: "bad-alarm-id", message: "the alarm id must be a whole number (digits only, as listed)",
                              field: "id")
        }
        return id
    }
}
