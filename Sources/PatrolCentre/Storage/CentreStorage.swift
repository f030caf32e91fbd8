import PatrolCore

/// Where the centre keeps devices, staff (`ConsoleStorage`), records, alarms and downlink messages.
///
/// The protocol speaks only in PatrolLink's own types (no SQL, no SQLite types), so a PostgreSQL
/// backend can implement it later. Every method that changes data is atomic and durable when it
/// returns: the ingest route answers "accepted" only after `ingest` has returned.
public protocol CentreStorage: ConsoleStorage {
    /// Registers a device with its HMAC key in `street` (nil: the district's own); false when the id is already taken.
    func addDevice(id: String, key: [UInt8], street: String?, at time: UTCTime) async throws -> Bool
    /// Moves a device to `street` (nil: to the district itself); false when there is no such device.
    func assignDevice(id: String, street: String?) async throws -> Bool
    /// Marks a device revoked; false when there is no such device.
    func revokeDevice(id: String, at time: UTCTime) async throws -> Bool
    func device(id: String) async throws -> Device?
    /// The devices `scope` sees, by id.
    func devices(in scope: StaffScope) async throws -> [Device]

    /// The device `id` as a signed request's headers are checked against it, with whether it already
    /// used `nonce` (unexpired at `now`): one lookup before the body is read. Nil when there is no such device.
    func requestSigner(device id: String, nonce: String, at now: UTCTime) async throws -> RequestSigner?

    /// Uses up `nonce` (nil: a batch that came in no signed request) and, unless it was already used,
    /// stores `batch` (already authenticated and checked record by record), each record once however
    /// often it is sent, marks the device seen at `time`, forgets downlink messages up to
    /// `batch.downlinkAcknowledgedThrough` and returns the device's later downlink messages.
    ///
    /// The nonce is used up in the transaction that stores the batch: a replay is refused by every
    /// centre instance on the database and after a restart, and a request costs one commit, not two
    /// (a district's thousand reports a second are bound by commits). Expired nonces are forgotten
    /// on the way.
    ///
    /// Alarms must not wait behind bulk track uploads: an implementation may commit a batch's events
    /// (and the nonce) ahead of its track points, in a transaction of their own (so a batch is
    /// durable, but not atomic, when this returns; a resend after a failure completes it without duplicates).
    func ingest(_ batch: UplinkBatch, usingUp nonce: RequestNonce?, at time: UTCTime) async throws -> IngestOutcome

    /// The alarms of the devices `scope` sees, by id.
    func alarms(openOnly: Bool, in scope: StaffScope) async throws -> [Alarm]
    /// One device's open alarms, by id: its unit's count on the live map, read at each of its
    /// ingests while a console watches (a district has thousands a second; a street's open alarms
    /// are read only where a list is asked for).
    func openAlarms(device: String) async throws -> [Alarm]
    /// The alarm with this id, whoever's it is (`alarm(id:in:)` is the scoped lookup routes use).
    func alarm(id: Int64) async throws -> Alarm?
    /// Acknowledges an alarm and queues a downlink message telling its device.
    func acknowledgeAlarm(id: Int64, by staffName: String, at time: UTCTime) async throws -> AlarmAcknowledgement
    /// Marks an open alarm escalated to the district desk by street staff `staffName`, with their note.
    func escalateAlarm(id: Int64, by staffName: String, note: String, at time: UTCTime) async throws -> AlarmEscalationResult

    /// Up to `limit` of a device's track points with times in `range`, in time order, starting after
    /// `cursor` (nil: from the start). Paging keeps memory bounded however long the range: read the
    /// next page from `TrackCursor(after:)` of the last point, until a page comes back short.
    /// `forEachTrackPoint` does exactly that.
    func trackPoints(device: String, in range: Range<UTCTime>, after cursor: TrackCursor?, limit: Int) async throws -> [TrackRecord]
    /// When a device's heartbeats in `range` were sent, in time order.
    func heartbeatTimes(device: String, in range: Range<UTCTime>) async throws -> [UTCTime]
    /// A device's events (alarms, check-ins, faults) in `range`, in time order.
    func events(device: String, in range: Range<UTCTime>) async throws -> [UplinkEvent]

    /// Stores a sign-on or sign-off staff recorded at the centre (`patrol-centre duty sign-on`).
    func addDutyRecord(_ record: CentreDutyRecord) async throws
    /// The sign-ons and sign-offs recorded at the centre with times in `range`, in time order.
    func dutyRecords(in range: Range<UTCTime>) async throws -> [CentreDutyRecord]

}

/// A registered device as a signed request's headers are checked against it (`requestSigner`).
public struct RequestSigner: Sendable, Equatable {
    public var device: Device
    /// The request's nonce was used by an earlier request of the device and has not expired.
    public var nonceIsUsed: Bool

    public init(device: Device, nonceIsUsed: Bool) {
        self.device = device
        self.nonceIsUsed = nonceIsUsed
    }
}

/// A correctly signed request's nonce, to be used up with what the request stores; it blocks a
/// replay until `expiry`.
public struct RequestNonce: Sendable, Equatable {
    public var value: String
    public var expiry: UTCTime

    public init(_ value: String, until expiry: UTCTime) {
        self.value = value
        self.expiry = expiry
    }
}

/// What `ingest` did with a batch.
public enum IngestOutcome: Sendable, Equatable {
    /// Stored (or already stored); the device's downlink messages not yet confirmed, oldest first.
    case stored(downlink: [DownlinkMessage])
    /// Nothing stored: the device already used the request's nonce (a replay).
    case replayed
}

/// Where a page of track points ended: points are ordered by time, then by the device's sequence.
public struct TrackCursor: Sendable, Equatable {
    public var timeMilliseconds: Int64
    public var sequence: UInt64

    public init(after point: TrackRecord) {
        timeMilliseconds = point.timeMilliseconds
        sequence = point.sequence
    }
}

extension CentreStorage {
    /// Registers a device of the district itself (no street).
    public func addDevice(id: String, key: [UInt8], at time: UTCTime) async throws -> Bool {
        try await addDevice(id: id, key: key, street: nil, at: time)
    }

    /// Stores `batch`, one that came in no signed request (tools and tests), and returns the device's
    /// downlink messages not yet confirmed.
    public func ingest(_ batch: UplinkBatch, at time: UTCTime) async throws -> [DownlinkMessage] {
        guard case .stored(let downlink) = try await ingest(batch, usingUp: nil, at: time) else { return [] }
        return downlink
    }

    /// Every device (what district staff see).
    public func devices() async throws -> [Device] { try await devices(in: .district) }

    /// Every alarm (what district staff see).
    public func alarms(openOnly: Bool) async throws -> [Alarm] { try await alarms(openOnly: openOnly, in: .district) }

    /// The device, when `scope` sees it: the one check every route and command that names a device
    /// (its track, coverage, duty, revocation) makes, so a device out of scope is answered exactly
    /// like one that does not exist.
    public func device(id: String, in scope: StaffScope) async throws -> Device? {
        guard let device = try await device(id: id), scope.includes(street: device.street) else { return nil }
        return device
    }

    /// The alarm, when `scope` sees it: the one check for an alarm named by id (acknowledge,
    /// escalate, its history); out of scope reads as "no such alarm".
    public func alarm(id: Int64, in scope: StaffScope) async throws -> Alarm? {
        guard let alarm = try await alarm(id: id), scope.includes(street: alarm.street) else { return nil }
        return alarm
    }

    /// Calls `body` with every track point of `device` in `range`, in time order, one page of
    /// `pageSize` points in memory at a time.
    public func forEachTrackPoint(device: String, in range: Range<UTCTime>, pageSize: Int = 16_384,
                                  _ body: (TrackRecord) throws -> Void) async throws {
        var cursor: TrackCursor?
        while true {
            let page = try await trackPoints(device: device, in: range, after: cursor, limit: pageSize)
            try page.forEach(body)
            guard page.count == pageSize, let last = page.last else { return }
            cursor = TrackCursor(after: last)
        }
    }
}

/// A registered board.
public struct Device: Sendable, Equatable {
    public var id: String
    /// The shared HMAC key: HMAC verification needs the key itself, not a hash of it.
    public var key: [UInt8]
    public var registeredAt: UTCTime
    public var revokedAt: UTCTime?
    /// When the device last sent anything authenticated (records or a heartbeat).
    public var lastSeen: UTCTime?
    /// The street it belongs to; nil for a device of the district itself (and every device of a
    /// centre without streets).
    public var street: String?

    public init(id: String, key: [UInt8], registeredAt: UTCTime, revokedAt: UTCTime? = nil, lastSeen: UTCTime? = nil, street: String? = nil) {
        self.id = id
        self.key = key
        self.registeredAt = registeredAt
        self.revokedAt = revokedAt
        self.lastSeen = lastSeen
        self.street = street
    }

    /// Silent: not revoked and nothing heard for longer than `silentAfterSeconds` (or never).
    public func isSilent(at now: UTCTime, silentAfterSeconds: Int) -> Bool {
        guard revokedAt == nil else { return false }
        guard let lastSeen else { return true }
        return lastSeen.seconds(to: now) > Double(silentAfterSeconds)
    }
}

/// A person's sign-on or sign-off of a unit that staff recorded at the centre (a unit without a
/// duty reader, a forgotten badge); the duty report shows it as evidence with who recorded it.
public struct CentreDutyRecord: Sendable, Equatable {
    /// The plan's person id, as staff typed it.
    public var person: String
    public var device: String
    public var change: DutyChange
    /// When the person signed on or off.
    public var time: UTCTime
    public var recordedBy: String
    public var recordedAt: UTCTime

    public init(person: String, device: String, change: DutyChange, time: UTCTime, recordedBy: String, recordedAt: UTCTime) {
        self.person = person
        self.device = device
        self.change = change
        self.time = time
        self.recordedBy = recordedBy
        self.recordedAt = recordedAt
    }
}

/// An event of kind `alarm`, as staff see it.
public struct Alarm: Sendable, Equatable {
    /// The centre's id for the alarm (what staff acknowledge).
    public var id: Int64
    public var deviceID: String
    public var event: UplinkEvent
    public var receivedAt: UTCTime
    public var acknowledgedBy: String?
    public var acknowledgedAt: UTCTime?
    /// Its device's street as it is now (nil: the district's own): who may see and act on the alarm.
    public var street: String?
    /// Set once street staff handed the alarm to the district desk.
    public var escalation: AlarmEscalation?

    public init(id: Int64, deviceID: String, event: UplinkEvent, receivedAt: UTCTime,
                acknowledgedBy: String? = nil, acknowledgedAt: UTCTime? = nil, street: String? = nil, escalation: AlarmEscalation? = nil) {
        self.id = id
        self.deviceID = deviceID
        self.event = event
        self.receivedAt = receivedAt
        self.acknowledgedBy = acknowledgedBy
        self.acknowledgedAt = acknowledgedAt
        self.street = street
        self.escalation = escalation
    }

    public var isOpen: Bool { acknowledgedAt == nil }
}

/// Who escalated an alarm to the district desk, when, and why.
public struct AlarmEscalation: Sendable, Equatable {
    public var by: String
    public var at: UTCTime
    public var note: String

    public init(by: String, at: UTCTime, note: String) {
        self.by = by
        self.at = at
        self.note = note
    }
}

/// What escalating an alarm did.
public enum AlarmEscalationResult: Sendable, Equatable {
    case escalated(Alarm)
    /// Escalated before; the alarm says by whom.
    case alreadyEscalated(Alarm)
    /// Acknowledged already: nothing left for the district desk to do.
    case alreadyAcknowledged(Alarm)
    case notFound
}

/// What acknowledging an alarm did.
public enum AlarmAcknowledgement: Sendable, Equatable {
    case acknowledged(Alarm)
    /// Someone acknowledged it first; the alarm says who and when.
    case alreadyAcknowledged(Alarm)
    case notFound
}

/// A message from the centre to one device, carried in ingest responses until the device
/// acknowledges its id.
public struct DownlinkMessage: Sendable, Equatable {
    public var id: Int64
    /// The device's own sequence number of the alarm that was acknowledged.
    public var alarmSequence: UInt64
    public var acknowledgedBy: String
    public var acknowledgedAt: UTCTime

    public init(id: Int64, alarmSequence: UInt64, acknowledgedBy: String, acknowledgedAt: UTCTime) {
        self.id = id
        self.alarmSequence = alarmSequence
        self.acknowledgedBy = acknowledgedBy
        self.acknowledgedAt = acknowledgedAt
    }

    /// The sentence a board can show or speak as is.
    public var text: String {
        "alarm \(alarmSequence) acknowledged by operator \(acknowledgedBy) at \(acknowledgedAt.iso8601)"
    }
}
