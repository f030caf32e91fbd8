import Hummingbird
import PatrolCore

// The JSON shapes of the HTTP API, one per resource, as `Docs/openapi.json` describes them.
// Times are given both as Unix milliseconds (for programs) and ISO 8601 (for people).

/// `POST /v1/ingest`'s answer: defined in PatrolCore, where the agent reads it too.
extension IngestResponse: ResponseEncodable {}

extension DownlinkView {
    init(_ message: DownlinkMessage) {
        self.init(id: message.id, type: "alarm-acknowledged", alarmSequence: message.alarmSequence, by: message.acknowledgedBy,
                  atMs: message.acknowledgedAt.millisecondsSinceEpoch, text: message.text)
    }
}

public struct PositionView: Codable, Sendable, Equatable {
    public var lat: Double
    public var lon: Double
    public var fixAgeMs: UInt64
}

public struct AlarmView: ResponseEncodable, Decodable, Sendable, Equatable {
    public var id: Int64
    public var device: String
    public var sequence: UInt64
    public var timeMs: Int64
    public var time: String
    public var timeSource: String
    public var position: PositionView?
    public var button: String?
    /// The event's JSON object, as text.
    public var payload: String
    public var receivedMs: Int64
    public var open: Bool
    public var acknowledgedBy: String?
    public var acknowledgedMs: Int64?
    /// The device's street; absent for the district's own.
    public var street: String?
    /// Who escalated it to the district desk, when, and why; absent when nobody did.
    public var escalatedBy: String?
    public var escalatedMs: Int64?
    public var escalationNote: String?

    public init(_ alarm: Alarm) {
        id = alarm.id
        device = alarm.deviceID
        street = alarm.street
        escalatedBy = alarm.escalation?.by
        escalatedMs = alarm.escalation?.at.millisecondsSinceEpoch
        escalationNote = alarm.escalation?.note
        sequence = alarm.event.sequence
        timeMs = alarm.event.time.millisecondsSinceEpoch
        time = alarm.event.time.iso8601
        timeSource = alarm.event.timeSource
        position = alarm.event.position.map {
            PositionView(lat: Double($0.latitudeE7) / 1e7, lon: Double($0.longitudeE7) / 1e7, fixAgeMs: $0.fixAgeMilliseconds)
        }
        button = alarm.event.buttonID
        payload = alarm.event.payloadJSON
        receivedMs = alarm.receivedAt.millisecondsSinceEpoch
        open = alarm.isOpen
        acknowledgedBy = alarm.acknowledgedBy
        acknowledgedMs = alarm.acknowledgedAt?.millisecondsSinceEpoch
    }
}

public struct AlarmList: ResponseEncodable, Decodable, Sendable {
    public var alarms: [AlarmView]

    public init(alarms: [AlarmView]) {
        self.alarms = alarms
    }
}

public struct DeviceView: Codable, Sendable, Equatable {
    public var id: String
    public var registeredMs: Int64
    public var revokedMs: Int64?
    public var lastSeenMs: Int64?
    public var lastSeen: String?
    public var silent: Bool
    /// The street it belongs to; absent for the district's own.
    public var street: String?

    public init(_ device: Device, now: UTCTime, silentAfterSeconds: Int) {
        id = device.id
        street = device.street
        registeredMs = device.registeredAt.millisecondsSinceEpoch
        revokedMs = device.revokedAt?.millisecondsSinceEpoch
        lastSeenMs = device.lastSeen?.millisecondsSinceEpoch
        lastSeen = device.lastSeen?.iso8601
        silent = device.isSilent(at: now, silentAfterSeconds: silentAfterSeconds)
    }
}

public struct DeviceList: ResponseEncodable, Decodable, Sendable {
    public var silentAfterSeconds: Int
    public var devices: [DeviceView]

    public init(silentAfterSeconds: Int, devices: [DeviceView]) {
        self.silentAfterSeconds = silentAfterSeconds
        self.devices = devices
    }
}

public struct HealthView: ResponseEncodable, Decodable, Sendable {
    public var status: String
    public var centreTimeMs: Int64
}
