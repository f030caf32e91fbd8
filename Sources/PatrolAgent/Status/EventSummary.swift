import FoundationEssentials
import PatrolCore
import PatrolStore

/// One stored event as `status` and `events` show it, made either by the running agent (in its
/// status file) or from the store.
public struct EventSummary: Codable, Sendable, Equatable {
    public var sequence: Int64
    /// The stable ``EventKind/code``, e.g. `panic`, `check-in.tag`.
    public var kind: String
    /// The tag or checkpoint id of a check-in.
    public var detail: String?
    public var time: String
    public var timeSource: String
    public var input: String?
    /// `current`, `last-known` or `none` (see ``EventPosition/label``).
    public var fix: String
    public var lat: Double?
    public var lon: Double?
    public var fixAgeMs: Int64?
    /// How far it got towards the centre: `undelivered`, `delivered` (every uplink has it) or,
    /// in the running agent's status, `acknowledged` (staff have seen the alarm).
    public var delivery: String

    static let undelivered = "undelivered"
    static let delivered = "delivered"
    static let acknowledged = "acknowledged"

    public init(sequence: Int64, event: PatrolEvent) {
        self.sequence = sequence
        kind = event.kind.code
        detail = event.kind.detail
        time = event.time.utc.iso8601
        timeSource = event.time.source.rawValue
        input = event.inputID
        fix = event.position.label
        lat = event.position.coordinate?.latitude
        lon = event.position.coordinate?.longitude
        fixAgeMs = event.position.ageMilliseconds
        delivery = Self.undelivered
    }

    /// From the store's row; the fix label and the check-in detail live only in the payload.
    /// - Parameter deliveredThrough: the event sequence every uplink has delivered (nil: no uplink).
    public init(_ stored: StoredEvent, deliveredThrough: Int64?) {
        struct Payload: Decodable {
            var fix: String?
            var tag: String?
            var checkpoint: String?
        }
        let record = stored.record
        let payload = try? JSONDecoder().decode(Payload.self, from: Data(record.payloadJSON.utf8))
        sequence = stored.sequence
        kind = record.kind
        detail = payload?.tag ?? payload?.checkpoint
        time = record.time.iso8601
        timeSource = record.timeSource
        input = record.buttonID
        fix = payload?.fix ?? (record.coordinate == nil ? EventPosition.none.label : "unknown")
        lat = record.coordinate?.latitude
        lon = record.coordinate?.longitude
        fixAgeMs = record.fixAgeMilliseconds
        delivery = stored.sequence <= deliveredThrough ?? 0 ? Self.delivered : Self.undelivered
    }

    /// One line: `#12 2018-…Z panic from box-1 at 52.1, 5.2 (current fix, 0.4 s old), undelivered`.
    public var line: String {
        let what = kind + (detail.map { " \($0)" } ?? "") + (input.map { " from \($0)" } ?? "")
        return "#\(sequence) \(time) \(what) \(position), \(delivery)"
    }

    /// Where it happened in words; an event without a current fix says so.
    public var position: String {
        guard let lat, let lon else { return "no fix, no position known" }
        let place = "\(FixedDecimal.format(lat, decimals: 6)), \(FixedDecimal.format(lon, decimals: 6))"
        let age = fixAgeMs.map { ", \(FixedDecimal.format(Double($0) / 1000, decimals: 1)) s old" } ?? ""
        return fix == "current" ? "at \(place) (fix\(age))" : "no fix, last known \(place)\(age)"
    }

    /// Summaries as a JSON array, for `events --json`.
    public static func json(_ summaries: [EventSummary]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(summaries), as: UTF8.self)
    }
}
