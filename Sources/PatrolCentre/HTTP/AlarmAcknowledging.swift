import Hummingbird
import PatrolCore

extension CentreStorage {
    /// Acknowledges alarm `id` as staff do, whichever way they do it (the console, the HTTP API, the
    /// command line): the acknowledgement and its downlink to the device, the audit line with the
    /// note, and the change feed (`changes`; nil in a process that serves none). An alarm `scope`
    /// does not see is `.notFound`. Returns what `acknowledgeAlarm` answered.
    public func acknowledge(alarm id: Int64, by staffName: String, scope: StaffScope, note: String?, address: String? = nil,
                            at time: UTCTime, changes: CentreChanges?) async throws -> AlarmAcknowledgement {
        guard try await alarm(id: id, in: scope) != nil else { return .notFound }
        let result = try await acknowledgeAlarm(id: id, by: staffName, at: time)
        if case .acknowledged(let alarm) = result {
            try await appendAudit(AuditEntry(time: time, actor: staffName, action: AuditEntry.Action.alarmAcknowledged,
                                             subject: AuditEntry.alarmSubject(id), address: address, detail: note))
            changes?.publish(.alarmAcknowledged(alarm, note: note, committedAt: time))
        }
        return result
    }
}

extension CentreStorage {
    /// Escalates alarm `id` to the district desk as street staff do (the console, the command
    /// line): stored with the note, audited, and published on the change feed. Only street staff
    /// escalate (the district desk is where it goes); an alarm out of their street is `.notFound`.
    public func escalate(alarm id: Int64, by staff: StaffMember, note: String, address: String? = nil, at time: UTCTime,
                         changes: CentreChanges?) async throws -> AlarmEscalationResult {
        guard staff.street != nil else {
            throw CentreError(.forbidden, code: "district-staff",
                              message: "\(staff.name) is district staff: the district desk acknowledges alarms, street staff escalate them to it")
        }
        guard try await alarm(id: id, in: staff.scope) != nil else { return .notFound }
        let result = try await escalateAlarm(id: id, by: staff.name, note: note, at: time)
        if case .escalated(let alarm) = result {
            try await appendAudit(AuditEntry(time: time, actor: staff.name, action: AuditEntry.Action.alarmEscalated,
                                             subject: AuditEntry.alarmSubject(id), address: address, detail: note))
            changes?.publish(.alarmEscalated(alarm, committedAt: time))
        }
        return result
    }
}

extension AlarmEscalationResult {
    /// The escalated alarm, or the refusal an HTTP route answers (409 when escalated or acknowledged already, 404).
    public func escalatedAlarm(id: Int64) throws -> Alarm {
        switch self {
        case .escalated(let alarm): return alarm
        case .alreadyEscalated(let alarm):
            throw CentreError(.conflict, code: "already-escalated",
                              message: "alarm \(id) was escalated by \(alarm.escalation?.by ?? "?") at \(alarm.escalation?.at.iso8601 ?? "?")")
        case .alreadyAcknowledged(let alarm):
            throw CentreError(.conflict, code: "already-acknowledged",
                              message: "alarm \(id) was acknowledged by \(alarm.acknowledgedBy ?? "?") at \(alarm.acknowledgedAt?.iso8601 ?? "?")")
        case .notFound:
            throw AlarmAcknowledgement.noSuchAlarm(id)
        }
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
            throw Self.noSuchAlarm(id)
        }
    }

    /// The one answer for an alarm that does not exist or is out of the caller's scope: 404, "there is no alarm N".
    public static func noSuchAlarm(_ id: Int64) -> CentreError {
        CentreError(.notFound, code: "no-such-alarm", message: "there is no alarm \(id)")
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
