import PatrolCore

/// What staff may do. Each role includes the ones before it: an operator takes alarms and watches
/// the map; a supervisor also reviews coverage and tracks; an admin also manages devices and staff.
public enum StaffRole: String, Sendable, CaseIterable, Comparable {
    case `operator`
    case supervisor
    case admin

    private var rank: Int { Self.allCases.firstIndex(of: self) ?? 0 }

    public static func < (lhs: StaffRole, rhs: StaffRole) -> Bool { lhs.rank < rhs.rank }

    /// Whether this role may do what `required` may.
    public func includes(_ required: StaffRole) -> Bool { self >= required }
}

/// A staff account: a bearer token for scripts, and a password for the console (optional: an
/// account made for a script has none and cannot sign in to the console).
public struct StaffMember: Sendable, Equatable {
    public var name: String
    public var role: StaffRole
    /// `PasswordHash.encoded`: the scrypt parameters, salt and hash; nil when the account has no password.
    public var passwordHash: String?
    public var createdAt: UTCTime
    /// The street they work for; nil for district staff (and everyone at a centre without streets).
    public var street: String?

    public init(name: String, role: StaffRole, passwordHash: String?, createdAt: UTCTime, street: String? = nil) {
        self.name = name
        self.role = role
        self.passwordHash = passwordHash
        self.createdAt = createdAt
        self.street = street
    }

    /// Whose units, alarms and reports they see and act on.
    public var scope: StaffScope { StaffScope(street: street) }
}

/// Whose data a staff member sees and acts on: the whole district (every street, and devices of
/// no street), or one street's. Derived from the signed-in staff member (`StaffMember.scope`) and
/// handed to every storage query and lookup a route or command makes on their behalf.
public enum StaffScope: Sendable, Equatable {
    case district
    case street(String)

    /// The scope of `street`'s staff and units; no street is the district's own.
    public init(street: String?) {
        self = street.map(Self.street) ?? .district
    }

    /// Whether something of `street` (nil: of no street, the district's own) is in this scope.
    public func includes(street: String?) -> Bool {
        switch self {
        case .district: true
        case .street(let own): street == own
        }
    }

    /// The street, or nil for the district.
    public var street: String? {
        if case .street(let street) = self { street } else { nil }
    }

    /// What a street id may be: as a device id, 1 to `UplinkLimits.maxDeviceIDBytes` bytes, no white space.
    public static func isValidStreet(_ id: String) -> Bool { Device.isValidID(id) }
}

/// A console sign-in, found by the SHA-256 of the id the browser holds in its cookie.
public struct StaffSession: Sendable, Equatable {
    public var staff: StaffMember
    /// Sent back in `X-CSRF-Token` on every state-changing request made with the cookie.
    public var csrfToken: String
    public var createdAt: UTCTime
    public var lastUsedAt: UTCTime

    public init(staff: StaffMember, csrfToken: String, createdAt: UTCTime, lastUsedAt: UTCTime) {
        self.staff = staff
        self.csrfToken = csrfToken
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
    }
}

/// Failed sign-ins counted under one key (a staff name, or a client address) since the last success.
public struct SignInFailures: Sendable, Equatable {
    public var count: Int
    public var lastAt: UTCTime

    public init(count: Int, lastAt: UTCTime) {
        self.count = count
        self.lastAt = lastAt
    }
}

/// One line of the audit log: who did what to what, from where.
public struct AuditEntry: Sendable, Equatable {
    public var id: Int64
    public var time: UTCTime
    /// The staff member, or the name someone tried to sign in as.
    public var actor: String
    /// One of `AuditEntry.Action`'s names.
    public var action: String
    /// What it was done to (`alarm 12`, a device id, a staff name); nil when nothing in particular.
    public var subject: String?
    /// The client's address; nil for the command line.
    public var address: String?
    /// Free text: the acknowledgement's note, the reason a sign-in failed.
    public var detail: String?

    public init(id: Int64 = 0, time: UTCTime, actor: String, action: String, subject: String? = nil,
                address: String? = nil, detail: String? = nil) {
        self.id = id
        self.time = time
        self.actor = actor
        self.action = action
        self.subject = subject
        self.address = address
        self.detail = detail
    }
}

/// Staff accounts, console sessions, sign-in failures, the audit log, and the live map's one extra
/// read: the part of the centre's storage the console needs, kept apart from records and alarms.
public protocol ConsoleStorage: Sendable {
    /// Adds a staff member with the SHA-256 of their bearer token; false when the name is taken.
    func addStaff(_ member: StaffMember, tokenHash: [UInt8]) async throws -> Bool
    func staffMember(name: String) async throws -> StaffMember?
    /// The staff member whose bearer token has this SHA-256, if any.
    func staffMember(tokenHash: [UInt8]) async throws -> StaffMember?
    func staffMembers() async throws -> [StaffMember]

    func addSession(idHash: [UInt8], name: String, csrfToken: String, at time: UTCTime) async throws
    /// The session with this id hash, with its staff member as they are now (a changed role applies at once).
    func session(idHash: [UInt8]) async throws -> StaffSession?
    func touchSession(idHash: [UInt8], at time: UTCTime) async throws
    func removeSession(idHash: [UInt8]) async throws
    /// Forgets sessions last used before `idleBefore` or created before `createdBefore`.
    func removeSessions(idleBefore: UTCTime, createdBefore: UTCTime) async throws

    func signInFailures(key: String) async throws -> SignInFailures?
    /// Counts one more failure under `key` and returns the new count.
    func recordSignInFailure(key: String, at time: UTCTime) async throws -> SignInFailures
    func clearSignInFailures(key: String) async throws

    func appendAudit(_ entry: AuditEntry) async throws
    /// Entries with times in `range` (all when nil), oldest first, at most `limit`.
    func auditEntries(in range: Range<UTCTime>?, limit: Int) async throws -> [AuditEntry]
    /// The notes given with these alarms' acknowledgements, by alarm id.
    func acknowledgementNotes(alarmIDs: [Int64]) async throws -> [Int64: String]

    /// A device's newest track point (by time), however old: where the map last saw it.
    func latestTrackPoint(device: String) async throws -> TrackRecord?
    /// Each device's records waiting on the board, as its newest heartbeat reported them, by device id.
    func reportedBacklogs() async throws -> [String: ReportedBacklog]
}

/// What a board's newest heartbeat said about its store-and-forward backlog.
public struct ReportedBacklog: Sendable, Equatable {
    public var pendingRecords: Int64
    /// When the heartbeat was sent (the board's clock).
    public var reportedAt: UTCTime

    public init(pendingRecords: Int64, reportedAt: UTCTime) {
        self.pendingRecords = pendingRecords
        self.reportedAt = reportedAt
    }
}

extension Device {
    /// What a device id may be: 1 to `UplinkLimits.maxDeviceIDBytes` bytes, no white space.
    public static func isValidID(_ id: String) -> Bool {
        (1...UplinkLimits.maxDeviceIDBytes).contains(id.utf8.count) && !id.contains(where: \.isWhitespace)
    }
}

extension AuditEntry {
    /// The audit log's actions.
    public enum Action {
        public static let signIn = "sign-in"
        public static let signInFailed = "sign-in-failed"
        public static let signOut = "sign-out"
        public static let lockedOut = "locked-out"
        public static let alarmAcknowledged = "alarm-acknowledged"
        public static let alarmEscalated = "alarm-escalated"
        public static let deviceAssigned = "device-assigned"
        public static let deviceAdded = "device-added"
        public static let deviceRevoked = "device-revoked"
        public static let staffAdded = "staff-added"
    }

    /// The audit subject naming an alarm, also how its acknowledgement note is found again.
    public static func alarmSubject(_ id: Int64) -> String { alarmSubjectPrefix + String(id) }

    /// What an alarm's subject starts with, before its id (an import renumbers the ids after it).
    public static let alarmSubjectPrefix = "alarm "
}
