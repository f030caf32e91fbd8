import Hummingbird
import PatrolCentre
import PatrolCore

// The console API's JSON shapes (/work/notes/console-api.md is their contract with the browser).
// Times are ISO 8601 UTC strings; the browser shows them in the configured zone. Positions are WGS-84.

struct SignInBody: Decodable {
    var name: String
    var password: String
}

struct AcknowledgeBody: Decodable {
    var note: String?
}

struct EscalateBody: Decodable {
    var note: String
}

struct AddDeviceBody: Decodable {
    var name: String
}

struct SessionView: ResponseEncodable, Decodable {
    var name: String
    var role: String
    /// The street the staff member works for; absent for district staff.
    var street: String?
    var csrf: String
    var expiresAt: String?
}

struct ConfigView: ResponseEncodable, Decodable {
    struct Tiles: Codable {
        var url: String
        var datum: String
        var attribution: String?
    }

    var timeZone: String
    var tiles: Tiles?
    var plans: [String]
    var silentAfterSeconds: Int
}

struct FixView: Codable, Equatable {
    var lat: Double
    var lon: Double
    var time: String
    /// Metres per second, when the receiver reported it.
    var speed: Double?
    /// Degrees from north, when reported.
    var course: Double?

    init(_ point: TrackRecord) {
        lat = Double(point.latitudeE7) / 1e7
        lon = Double(point.longitudeE7) / 1e7
        time = UTCTime(millisecondsSinceEpoch: point.timeMilliseconds).iso8601
        speed = point.speedCentimetresPerSecond.map { Double($0) / 100 }
        course = point.trackCentidegrees.map { Double($0) / 100 }
    }
}

struct UnitView: ResponseEncodable, Decodable, Equatable {
    var device: String
    /// The device's street; absent for the district's own.
    var street: String?
    var state: String
    var lastSeen: String?
    var fix: FixView?
    /// `[lat, lon, time ms]`, oldest first, ending with `fix`.
    var tail: [[Double]]
    var openAlarms: Int
    /// On `unit` events: when the centre committed the batch (Unix ms), for latency measurement.
    var committedMs: Int64?
}

struct UnitList: ResponseEncodable, Decodable {
    var units: [UnitView]
}

struct AlarmPositionView: Codable, Equatable {
    var lat: Double
    var lon: Double
    /// When the fix was taken: the alarm's time less the fix's age.
    var time: String
    var fixAgeMs: UInt64
}

struct ConsoleAlarmView: ResponseEncodable, Decodable, Equatable {
    var id: Int64
    var device: String
    /// The event's code as the agent typed it: `panic`, `panic.silent`, `duress`, `sos`, ….
    var kind: String
    /// The event's JSON payload, as text.
    var detail: String
    var button: String?
    var raisedAt: String
    var receivedAt: String
    var position: AlarmPositionView?
    var acknowledgedBy: String?
    var acknowledgedAt: String?
    var note: String?
    /// The device's street; absent for the district's own.
    var street: String?
    /// Set when street staff escalated it to the district desk: who, when, and their note.
    var escalatedBy: String?
    var escalatedAt: String?
    var escalationNote: String?
    /// On `alarm` and `alarm-ack` events: when the centre committed it (Unix ms).
    var committedMs: Int64?

    init(_ alarm: Alarm, note: String? = nil, committedAt: UTCTime? = nil) {
        id = alarm.id
        device = alarm.deviceID
        street = alarm.street
        escalatedBy = alarm.escalation?.by
        escalatedAt = alarm.escalation?.at.iso8601
        escalationNote = alarm.escalation?.note
        kind = alarm.event.kind
        detail = alarm.event.payloadJSON
        button = alarm.event.buttonID
        raisedAt = alarm.event.time.iso8601
        receivedAt = alarm.receivedAt.iso8601
        position = alarm.event.position.map { position in
            AlarmPositionView(lat: Double(position.latitudeE7) / 1e7, lon: Double(position.longitudeE7) / 1e7,
                              time: alarm.event.time.adding(milliseconds: -Int64(clamping: position.fixAgeMilliseconds)).iso8601,
                              fixAgeMs: position.fixAgeMilliseconds)
        }
        acknowledgedBy = alarm.acknowledgedBy
        acknowledgedAt = alarm.acknowledgedAt?.iso8601
        self.note = note
        committedMs = committedAt?.millisecondsSinceEpoch
    }
}

struct ConsoleAlarmList: ResponseEncodable, Decodable {
    var alarms: [ConsoleAlarmView]
}

/// One alarm with its history, oldest first: received, escalated (by whom, when, why), acknowledged (with the note).
struct AlarmHistoryView: ResponseEncodable, Decodable {
    struct Step: Codable, Equatable {
        /// `received`, `escalated` or `acknowledged`.
        var step: String
        var at: String
        var by: String?
        var note: String?
    }

    var alarm: ConsoleAlarmView
    var history: [Step]

    init(_ alarm: Alarm, note: String?) {
        self.alarm = ConsoleAlarmView(alarm, note: note)
        history = [Step(step: "received", at: alarm.receivedAt.iso8601, by: alarm.deviceID)]
        if let escalation = alarm.escalation {
            history.append(Step(step: "escalated", at: escalation.at.iso8601, by: escalation.by, note: escalation.note))
        }
        if let acknowledgedAt = alarm.acknowledgedAt {
            history.append(Step(step: "acknowledged", at: acknowledgedAt.iso8601, by: alarm.acknowledgedBy, note: note))
        }
    }
}

struct TrackView: ResponseEncodable, Decodable {
    var device: String
    /// `[lat, lon, time ms, speed m/s or -1]`, in time order, thinned to at most `TrackThinning.maxPoints`.
    var points: [[Double]]
    /// True when the range held more points than were sent (they were thinned evenly).
    var thinned: Bool
}

/// A device as the admin's device page lists it: the /v1 device view plus its reported backlog.
struct ConsoleDeviceView: Encodable {
    var device: DeviceView
    var backlog: ReportedBacklog?

    enum Keys: String, CodingKey { case backlog, backlogReportedAt }

    func encode(to encoder: any Encoder) throws {
        try device.encode(to: encoder)
        var container = encoder.container(keyedBy: Keys.self)
        try container.encodeIfPresent(backlog?.pendingRecords, forKey: .backlog)
        try container.encodeIfPresent(backlog?.reportedAt.iso8601, forKey: .backlogReportedAt)
    }
}

struct ConsoleDeviceList: Encodable {
    var silentAfterSeconds: Int
    var devices: [ConsoleDeviceView]
}

struct AddedDeviceView: ResponseEncodable, Decodable {
    var name: String
    /// The device's HMAC key in hex: shown once, never again.
    var key: String
}

struct StaffView: Codable {
    var name: String
    var role: String
    var street: String?
    var hasPassword: Bool
    var createdAt: String
}

struct StaffList: ResponseEncodable, Decodable {
    var staff: [StaffView]
}
