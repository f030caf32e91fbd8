import PatrolCore

/// Storage for third-party terminals (JT/T 808 today): a terminal is a device like a board, found
/// by its phone number, authenticated by a code the centre hands out at registration, and its
/// reports land in the same track, event and downlink tables as a board's, so coverage, exports,
/// alarms and acknowledgements treat it like one.
///
/// Kept apart from `CentreStorage` so the board protocol does not grow terminal concerns.
public protocol TerminalStorage: CentreStorage {
    /// Registers a new device `id` reached as terminal `phone` (canonical, `JT808TerminalLink.canonicalPhone`);
    /// false when the id or the phone is taken. The device gets an HMAC key nobody holds: it can
    /// only write through the listener.
    func addTerminal(id: String, phone: String, at time: UTCTime) async throws -> Bool
    /// The device registered for `phone`, when there is one and it is not revoked.
    func terminalDevice(phone: String) async throws -> String?
    /// Stores the authentication code handed to `phone` at registration (replacing any earlier one).
    func setTerminalAuthCode(_ code: [UInt8], phone: String) async throws
    /// The code `phone` must authenticate with; nil when it never registered or was revoked.
    func terminalAuthCode(phone: String) async throws -> [UInt8]?

    /// Commits `reports` of terminal device `device` before returning, each once however often it
    /// is resent (a report's identity is its `sequence`), raises one alarm per emergency episode
    /// (see `TerminalReport.emergency`), marks the device seen at `time`, and returns the device's
    /// pending downlink messages. An empty `reports` is a heartbeat. Throws `TerminalRevoked` for
    /// a device revoked (or removed) since its terminal authenticated, storing nothing.
    func ingestTerminalReports(_ reports: [TerminalReport], device: String, at time: UTCTime) async throws -> [DownlinkMessage]
    /// `device`'s downlink messages not yet confirmed, oldest first (without marking it seen).
    func pendingDownlink(device: String) async throws -> [DownlinkMessage]
    /// Forgets `device`'s downlink messages up to `id`, once the terminal confirmed them.
    func forgetDownlink(device: String, through id: Int64) async throws
    /// The devices with downlink messages waiting, so a listener can push them to those connected.
    func devicesWithPendingDownlink() async throws -> Set<String>
}

/// The terminal's device was revoked while it was connected: the listener closes the connection.
public struct TerminalRevoked: Error, CustomStringConvertible {
    public var device: String
    public init(device: String) { self.device = device }
    public var description: String { "device \(device) is revoked" }
}

/// One position report of a terminal, in the centre's units.
public struct TerminalReport: Sendable, Equatable {
    /// The report's identity for "stored once" (also the track point's and the alarm event's
    /// sequence); the listener derives it from what the terminal sent.
    public var sequence: UInt64
    public var time: UTCTime
    /// The track point, nil when the terminal had no fix (the report still counts for alarms).
    public var point: TrackRecord?
    /// The terminal's emergency alarm flag. An episode opens with the first report that has it
    /// set and closes with the first later report that has it clear; a report older than the last
    /// change (a blind-area backlog) changes nothing, so a backlog drained after a reconnect does
    /// not raise the alarm again.
    public var emergency: Bool
    /// Stored as the alarm event's payload: what the terminal sent, for staff.
    public var detailsJSON: String

    public init(sequence: UInt64, time: UTCTime, point: TrackRecord?, emergency: Bool, detailsJSON: String) {
        self.sequence = sequence
        self.time = time
        self.point = point
        self.emergency = emergency
        self.detailsJSON = detailsJSON
    }

    /// The `sos` alarm this report raises when it opens an emergency episode: stored as a board's
    /// alarm is, and published on the change feed as one.
    public var alarmEvent: UplinkEvent {
        UplinkEvent(sequence: sequence, kind: EventKind.sos.code, time: time, timeSource: "terminal",
                    position: point.map { UplinkEventPosition(latitudeE7: $0.latitudeE7, longitudeE7: $0.longitudeE7, fixAgeMilliseconds: 0) },
                    payloadJSON: detailsJSON)
    }
}
