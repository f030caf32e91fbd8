import PatrolCore

/// How one event kind is reported: its SIA event code (DC-03, for `SIA-DCS`) and its Contact ID
/// qualifier and event (DC-05, for `ADM-CID`). `Docs/dc09.md` lists the table and why each code.
public struct DC09EventCode: Sendable, Equatable {
    /// Two upper-case letters, e.g. `PA`.
    public var sia: String
    /// 1 new event, 3 restore (Contact ID's qualifier).
    public var qualifier: Int
    /// Three digits, e.g. 120.
    public var contactID: Int

    public init(sia: String, qualifier: Int, contactID: Int) {
        self.sia = sia
        self.qualifier = qualifier
        self.contactID = contactID
    }

    static let newEvent = 1
    static let restore = 3

    /// The code of `kind`. Every kind has one: an alarm must never be dropped for want of a code.
    public init(_ kind: EventKind) {
        switch kind {
        case .panic(silent: false): self.init(sia: "PA", qualifier: Self.newEvent, contactID: 120)
        case .panic(silent: true): self.init(sia: "HA", qualifier: Self.newEvent, contactID: 122)
        case .duress: self.init(sia: "HA", qualifier: Self.newEvent, contactID: 121)
        case .sos: self.init(sia: "QA", qualifier: Self.newEvent, contactID: 101)
        // A checkpoint visited: a point proven on a tour, not an alarm to handle.
        case .checkIn: self.init(sia: "TP", qualifier: Self.newEvent, contactID: 611)
        // The event does not say which alarm it ends; the zone does (the button that raised it).
        case .alarmRestore: self.init(sia: "PH", qualifier: Self.restore, contactID: 120)
        case .alarmCancel: self.init(sia: "OC", qualifier: Self.newEvent, contactID: 406)
        case .testPress: self.init(sia: "RP", qualifier: Self.newEvent, contactID: 602)
        // Duty is opening and closing by a user: a crew present on the unit, then gone.
        case .duty(.signOn, _): self.init(sia: "OP", qualifier: Self.newEvent, contactID: 401)
        case .duty(.signOff, _): self.init(sia: "CL", qualifier: Self.restore, contactID: 401)
        case .fault(let fault): self = Self.trouble(fault, restored: false)
        case .faultRestore(let fault): self = Self.trouble(fault, restored: true)
        }
    }

    /// Faults as SIA trouble/restore pairs and Contact ID 3xx troubles (qualifier 3 restores).
    private static func trouble(_ fault: Fault, restored: Bool) -> DC09EventCode {
        let (troubleCode, restoreCode, contactID): (String, String, Int) = switch fault {
        case .boxSilent: ("EM", "EN", 333)         // expansion device missing / restored; CID expansion module failure
        case .portGone: ("ET", "ER", 330)          // expansion trouble / restoral; CID system peripheral trouble
        case .portPermission: ("ET", "ER", 330)
        case .buttonHeld: ("PT", "PJ", 375)        // panic trouble / restore; CID panic zone trouble
        case .gpsLost: ("IA", "IR", 380)           // equipment failure / restoral; CID sensor trouble
        case .uplinkDown: ("YC", "YK", 350)        // communications fail / restoral (another output's link); CID communication trouble
        }
        return DC09EventCode(sia: restored ? restoreCode : troubleCode, qualifier: restored ? restore : newEvent, contactID: contactID)
    }
}

/// How the zone field (three digits, 0–999) names the button, reader or checkpoint.
///
/// Receivers know zones by number; the agent knows inputs by name. An output's `zones` table maps
/// names to numbers; a name it does not list that ends in digits (`button-3`, `cp12`) is that
/// number; anything else is zone 0, so the alarm still goes out and the operator sees "zone 0".
public struct DC09Zones: Sendable, Equatable {
    public var numbers: [String: Int]

    public static let range = 0...999

    public init(_ numbers: [String: Int] = [:]) {
        self.numbers = numbers
    }

    public func zone(of id: String?) -> Int {
        guard let id else { return 0 }
        if let number = numbers[id] { return number }
        let digits = id.reversed().prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.count <= 3, let number = Int(String(digits.reversed())) else { return 0 }
        return number
    }

    /// The name an event's zone stands for: the checkpoint for check-ins that prove one, else the input.
    public static func id(of event: PatrolEvent) -> String? {
        switch event.kind {
        case .checkIn(.tag(let id)): id
        case .checkIn(.geofence(let checkpointID)): checkpointID
        default: event.inputID
        }
    }
}
