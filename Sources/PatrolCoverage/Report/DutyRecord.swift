import PatrolCore

/// One sign-on or sign-off: who, on which unit, when, and the evidence for it.
public struct DutyRecord: Sendable, Equatable {
    /// Who signed on or off, as recorded: a badge read on a board, or a person named at the centre.
    public enum Who: Sendable, Hashable {
        case badge(String)
        case person(String)
    }

    public var who: Who
    public var device: String
    public var change: DutyChange
    public var time: UTCTime
    public var source: DutySource

    public init(who: Who, device: String, change: DutyChange, time: UTCTime, source: DutySource) {
        self.who = who
        self.device = device
        self.change = change
        self.time = time
        self.source = source
    }

    /// The badge a duty event without one in its payload is shown under (as not in the plan):
    /// reported, not dropped.
    public static let missingBadge = "(none)"

    /// The record a board's duty event gives (`duty.sign-on` / `duty.sign-off`, the badge in its
    /// payload), or nil for any other event.
    public init?(device: String, event: UplinkEvent) {
        let badge = EventPayload.string("badge", in: event.payloadJSON) ?? Self.missingBadge
        guard case .duty(let change, _)? = EventKind(code: event.kind, detail: badge) else { return nil }
        self.init(who: .badge(badge), device: device, change: change, time: event.time,
                  source: .board(event: event.sequence, reader: event.buttonID))
    }
}

/// How a sign-on or sign-off is known: the evidence an auditor asks for.
public enum DutySource: Sendable, Equatable {
    /// A badge read at the unit's duty reader: the board's event number and the reader.
    case board(event: UInt64, reader: String?)
    /// Staff recorded it at the centre (`patrol-centre duty sign-on`), and when they did.
    case centre(staff: String, recordedAt: UTCTime)

    /// In words, e.g. "badge read at reader duty-1 (event #12)" or "recorded at the centre by alice
    /// at 2026-11-23T18:02:00+08:00".
    public func text(in zone: TimeZoneRules) -> String {
        switch self {
        case .board(let event, let reader): "badge read" + (reader.map { " at reader \($0)" } ?? "") + " (event #\(event))"
        case .centre(let staff, let recordedAt): "recorded at the centre by \(staff) at \(zone.iso8601(recordedAt))"
        }
    }
}
