/// What happened, as the centre needs to tell it apart.
///
/// Associated values carry only what identifies the occurrence (a tag, a checkpoint, which
/// fault), so that ``code`` plus ``detail`` round-trip through the store's string columns.
public enum EventKind: Sendable, Hashable {
    /// A panic button; `silent` panics give no local indication so an attacker is not warned.
    case panic(silent: Bool)
    /// A guard under duress: always silent, never indicated locally.
    case duress
    /// A vehicle crew's SOS.
    case sos
    case checkIn(CheckInSource)
    /// The situation behind an alarm is over (e.g. a long press after the incident).
    case alarmRestore
    /// The alarm was raised by mistake.
    case alarmCancel
    /// A test press: proves the button and the path to the centre without raising an alarm.
    case testPress
    case fault(Fault)
    case faultRestore(Fault)
    /// A person signed on or off duty on the unit with their badge (``TagID/text``) at a reader
    /// with the `duty` role: who was on patrol, for the centre's duty report.
    case duty(DutyChange, badge: String)

    /// Which uplink queue the event goes to.
    public var priority: EventPriority {
        switch self {
        case .panic, .duress, .sos, .alarmRestore, .alarmCancel: .alarm
        case .fault, .faultRestore: .fault
        case .checkIn, .duty: .checkIn
        case .testPress: .test
        }
    }

    /// Whether staff at the centre must acknowledge it: the alarms a guard raises. Restores and
    /// cancels share the alarm queue but close an alarm rather than open one.
    public var needsAcknowledgement: Bool {
        switch self {
        case .panic, .duress, .sos: true
        default: false
        }
    }

    /// The codes of the kinds that need acknowledgement: the centre knows events only by code,
    /// and lists and acknowledges exactly these as alarms.
    public static let acknowledgedCodes: [String] = [
        EventKind.panic(silent: false), .panic(silent: true), .duress, .sos,
    ].map(\.code)

    /// Whether the event must give no local indication at all (no LED, no buzzer).
    public var isSilent: Bool {
        switch self {
        case .duress, .panic(silent: true): true
        default: false
        }
    }
}

/// How a guard proved presence at a checkpoint.
public enum CheckInSource: Sendable, Hashable {
    /// A check-in button (no identity beyond the button itself).
    case button
    /// A checkpoint tag held to a reader; the id as ``TagID/text``.
    case tag(id: String)
    /// Arrival inside a checkpoint's geofence.
    case geofence(checkpointID: String)
}

/// Whether a badge read began or ended a person's duty on the unit.
public enum DutyChange: String, Sendable, Hashable, CaseIterable {
    case signOn = "sign-on"
    case signOff = "sign-off"
}

/// A condition that makes the agent less able to raise or place alarms.
public enum Fault: String, Sendable, Hashable, CaseIterable {
    /// The button box stopped sending heartbeats.
    case boxSilent = "box-silent"
    /// A serial port disappeared (unplugged USB adapter, dead board).
    case portGone = "port-gone"
    /// A serial port exists but may not be opened.
    case portPermission = "port-permission"
    /// A button stayed pressed beyond its limit: stuck, jammed or wired wrong.
    case buttonHeld = "button-held"
    /// No position for longer than the limit: alarms carry only a stale position.
    case gpsLost = "gps-lost"
    /// An output's receiver has not answered for its supervision limit (e.g. the alarm receiving
    /// centre): alarms wait in the store for it. The event's input is the output's name.
    case uplinkDown = "uplink-down"
}

/// Uplink order: lower classes are sent first.
public enum EventPriority: Int, Sendable, Comparable, CaseIterable {
    case alarm = 0
    case fault = 1
    case checkIn = 2
    case test = 3

    public static func < (lhs: EventPriority, rhs: EventPriority) -> Bool { lhs.rawValue < rhs.rawValue }

    public var label: String {
        switch self {
        case .alarm: "alarm"
        case .fault: "fault"
        case .checkIn: "check-in"
        case .test: "test"
        }
    }
}

extension EventKind {
    private static let faultPrefix = "fault."
    private static let dutyPrefix = "duty."
    private static let restoreSuffix = ".restore"

    /// The stable string stored and sent for this kind, e.g. `panic`, `check-in.tag`, `fault.gps-lost`.
    ///
    /// Faults and their restores share the `fault.<name>` prefix so that one prefix query finds both.
    public var code: String {
        switch self {
        case .panic(silent: false): "panic"
        case .panic(silent: true): "panic.silent"
        case .duress: "duress"
        case .sos: "sos"
        case .checkIn(.button): "check-in.button"
        case .checkIn(.tag): "check-in.tag"
        case .checkIn(.geofence): "check-in.geofence"
        case .alarmRestore: "restore"
        case .alarmCancel: "cancel"
        case .testPress: "test"
        case .fault(let fault): Self.faultPrefix + fault.rawValue
        case .faultRestore(let fault): Self.faultPrefix + fault.rawValue + Self.restoreSuffix
        case .duty(let change, _): Self.dutyPrefix + change.rawValue
        }
    }

    /// The identifier the code alone does not carry: the tag id, the checkpoint id or the badge.
    public var detail: String? {
        switch self {
        case .checkIn(.tag(let id)): id
        case .checkIn(.geofence(let checkpointID)): checkpointID
        case .duty(_, let badge): badge
        default: nil
        }
    }

    /// Decodes ``code`` (plus ``detail`` for tag and geofence check-ins and duty changes); nil for an unknown code
    /// or a missing detail.
    public init?(code: String, detail: String? = nil) {
        switch code {
        case "panic": self = .panic(silent: false)
        case "panic.silent": self = .panic(silent: true)
        case "duress": self = .duress
        case "sos": self = .sos
        case "check-in.button": self = .checkIn(.button)
        case "check-in.tag":
            guard let detail else { return nil }
            self = .checkIn(.tag(id: detail))
        case "check-in.geofence":
            guard let detail else { return nil }
            self = .checkIn(.geofence(checkpointID: detail))
        case "restore": self = .alarmRestore
        case "cancel": self = .alarmCancel
        case "test": self = .testPress
        case Self.dutyPrefix + DutyChange.signOn.rawValue, Self.dutyPrefix + DutyChange.signOff.rawValue:
            guard let detail, let change = DutyChange(rawValue: String(code.dropFirst(Self.dutyPrefix.count))) else { return nil }
            self = .duty(change, badge: detail)
        default:
            guard code.hasPrefix(Self.faultPrefix) else { return nil }
            var name = code.dropFirst(Self.faultPrefix.count)
            let isRestore = name.hasSuffix(Self.restoreSuffix)
            if isRestore { name = name.dropLast(Self.restoreSuffix.count) }
            guard let fault = Fault(rawValue: String(name)) else { return nil }
            self = isRestore ? .faultRestore(fault) : .fault(fault)
        }
    }
}
