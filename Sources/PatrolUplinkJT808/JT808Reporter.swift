import PatrolCore
import PatrolUplink

/// What JT/T 808 makes of the runner's rounds, and of the platform's answers: pure, so the rules
/// are tested without a socket.
///
/// - an alarm (panic, silent panic, duress, SOS) is a 0x0200 with alarm bit 0; the bit stays set
///   in every report after it until the platform confirms it (0x8203) or the guard restores or
///   cancels it;
/// - a restore or cancel is a 0x0200 with the bit cleared;
/// - check-ins, faults and test presses have no alarm bit: they go as 0x0900 pass-through of type
///   `eventPassThroughType` carrying the event's JSON (`Docs/jt808.md`);
/// - the backlog goes as 0x0704 type 1 (blind-area supplement), `pointsPerBatchMessage` points a
///   message so each fits one frame; the live point as 0x0200; a heartbeat round as 0x0002.
public struct JT808Reporter: Sendable {
    /// A message to send and the records it carries (delivered only when the platform answers
    /// 0x8001 result 0 for its serial).
    public struct Outgoing: Sendable, Equatable {
        public var message: JT808Message
        public var events: [Int64]
        public var track: [UInt64]
        /// The event sequence of the alarm this report raises, for matching a later 0x8203.
        public var alarmEvent: Int64?
    }

    /// User-defined pass-through type (0xF0–0xFF are the standard's user range).
    public static let eventPassThroughType: UInt8 = 0xF0
    /// 0x0704 items of our reports are 33 bytes (2 length + 28 fixed + satellites item): 30 fit
    /// the 1023-byte body of one frame with room to spare.
    public static let pointsPerBatchMessage = 30

    /// Whether an emergency alarm is open: set in every report until confirmed or restored.
    public private(set) var emergency = false

    public init() {}

    public mutating func messages(for batch: OutboundBatch) -> [Outgoing] {
        var out: [Outgoing] = []
        for stored in batch.events {
            let event = stored.event
            switch event.kind {
            case .panic, .duress, .sos:
                emergency = true
                out.append(Outgoing(message: .position(position(event)), events: [stored.sequence], track: [], alarmEvent: stored.sequence))
            case .alarmRestore, .alarmCancel:
                emergency = false
                out.append(Outgoing(message: .position(position(event)), events: [stored.sequence], track: []))
            case .checkIn, .duty, .fault, .faultRestore, .testPress:
                out.append(Outgoing(message: .passThrough(type: Self.eventPassThroughType, content: Array(event.payloadJSON.utf8)),
                                    events: [stored.sequence], track: []))
            }
        }
        var start = 0
        while start < batch.track.count {
            let part = batch.track[start..<min(start + Self.pointsPerBatchMessage, batch.track.count)]
            out.append(Outgoing(message: .positionBatch(JT808PositionBatch(type: JT808PositionBatch.blindArea, positions: part.map(position))),
                                events: [], track: part.map(\.sequence)))
            start += Self.pointsPerBatchMessage
        }
        if let live = batch.live {
            out.append(Outgoing(message: .position(position(live)), events: [], track: []))
        }
        if out.isEmpty { out.append(Outgoing(message: .heartbeat, events: [], track: [])) }
        return out
    }

    /// The platform confirmed alarms (0x8203): bit 0 among them ends the emergency.
    public mutating func confirmed(alarms: UInt32) {
        if alarms & JT808Position.emergencyAlarm != 0 || alarms == 0 { emergency = false }
    }

    /// A point as a report, with the emergency bit while an alarm is open.
    public func position(_ record: TrackRecord) -> JT808Position {
        var status: UInt32 = record.mode >= .twoD ? JT808Position.positionedStatus : 0
        if record.latitudeE7 < 0 { status |= JT808Position.southStatus }
        if record.longitudeE7 < 0 { status |= JT808Position.westStatus }
        return JT808Position(alarm: emergency ? JT808Position.emergencyAlarm : 0, status: status,
                             latitudeE6: Self.e6(record.latitudeE7), longitudeE6: Self.e6(record.longitudeE7),
                             altitudeMetres: UInt16(clamping: max(0, (record.altitudeDecimetres ?? 0) / 10)),
                             // cm/s to 0.1 km/h: × 0.36, rounded.
                             speedTenthsKmh: UInt16(clamping: (min(max(0, record.speedCentimetresPerSecond ?? 0), 1 << 40) * 36 + 50) / 100),
                             heading: UInt16(clamping: ((record.trackCentidegrees ?? 0) / 100 % 360 + 360) % 360),
                             time: UTCTime(millisecondsSinceEpoch: record.timeMilliseconds),
                             items: record.satellitesUsed.map { [.satellites(UInt8(clamping: $0))] } ?? [])
    }

    /// An event's report: its position (positioned only when current) and time.
    func position(_ event: PatrolEvent) -> JT808Position {
        let coordinate = event.position.coordinate
        var status: UInt32 = 0
        if case .current = event.position { status |= JT808Position.positionedStatus }
        if let coordinate, coordinate.latitude < 0 { status |= JT808Position.southStatus }
        if let coordinate, coordinate.longitude < 0 { status |= JT808Position.westStatus }
        return JT808Position(alarm: emergency ? JT808Position.emergencyAlarm : 0, status: status,
                             latitudeE6: Self.e6(degrees: coordinate?.latitude ?? 0), longitudeE6: Self.e6(degrees: coordinate?.longitude ?? 0),
                             time: event.time.utc)
    }

    /// |degrees × 10⁷| to |degrees × 10⁶|, rounded.
    static func e6(_ e7: Int64) -> UInt32 {
        UInt32(clamping: (e7.magnitude + 5) / 10)
    }

    static func e6(degrees: Double) -> UInt32 {
        guard degrees.isFinite else { return 0 }
        return UInt32(clamping: Int64((abs(degrees) * 1e6).rounded()))
    }

    /// The runner's verdict from the platform's results by serial: result 0 (or 4, "alarm
    /// processing confirmed") delivers a message's records, 2 dead-letters them (the message is
    /// wrong and will not become right), 3 (unsupported) dead-letters them too, naming the
    /// message; 1 and no answer leave them for the runner to send again.
    public static func answer(_ sent: [(serial: UInt16, outgoing: Outgoing)], results: [UInt16: UInt8]) -> UplinkAnswer {
        var answer = UplinkAnswer(accepted: [:])
        for (serial, outgoing) in sent {
            guard let result = results[serial] else { continue }
            let id = "0x" + Hex.encode([UInt8(outgoing.message.messageID >> 8), UInt8(outgoing.message.messageID & 0xFF)])
            switch result {
            case JT808Response.success, JT808Response.alarmConfirmed:
                for sequence in outgoing.events { answer.accepted[.event, default: []].append(UInt64(sequence)...UInt64(sequence)) }
                if let first = outgoing.track.first, let last = outgoing.track.last { answer.accepted[.track, default: []].append(first...last) }
            case JT808Response.wrongMessage, JT808Response.unsupported:
                let reason = result == JT808Response.unsupported ? "the platform does not support \(id) (0x8001 result 3)"
                                                                 : "the platform says \(id) is wrong (0x8001 result 2)"
                for sequence in outgoing.events {
                    answer.rejected.append(.init(stream: .event, sequences: UInt64(sequence)...UInt64(sequence), reason: reason))
                }
                if let first = outgoing.track.first, let last = outgoing.track.last {
                    answer.rejected.append(.init(stream: .track, sequences: first...last, reason: reason))
                }
            default:
                continue
            }
        }
        return answer
    }
}
