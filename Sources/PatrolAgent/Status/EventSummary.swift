import FoundationEssentials
import PatrolCore

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
    /// How far it got: `undelivered` (no output has it), `partly delivered`, `delivered` (every
    /// output has it) or, in the running agent's status, `acknowledged` (staff have seen the alarm).
    public var delivery: String
    /// The same per output (`[[uplink]]` name): `undelivered`, `delivered` or `acknowledged`.
    public var outputs: [String: String]

    static let undelivered = "undelivered"
    static let partlyDelivered = "partly delivered"
    static let delivered = "delivered"
    static let acknowledged = "acknowledged"

    /// A just-stored event, not yet delivered by any of `outputs`.
    public init(sequence: Int64, event: PatrolEvent, outputs: [String] = []) {
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
        self.outputs = Dictionary(uniqueKeysWithValues: outputs.map { ($0, Self.undelivered) })
    }

    /// From the store.
    /// - Parameter progress: how far each output has delivered events, by output name.
    public init(_ stored: StoredEvent, progress: [String: Int64]) {
        self.init(sequence: stored.sequence, event: stored.event, outputs: Array(progress.keys))
        for (output, through) in progress where stored.sequence <= through {
            record(Self.delivered, output: output)
        }
    }

    /// `output` delivered the event, or staff acknowledged it there; an acknowledgement is never
    /// undone by a later delivery report.
    mutating func record(_ state: String, output: String) {
        if outputs[output] != Self.acknowledged { outputs[output] = state }
        let states = Set(outputs.values)
        delivery = states.contains(Self.acknowledged) ? Self.acknowledged
            : states == [Self.delivered] ? Self.delivered
            : states.contains(Self.delivered) ? Self.partlyDelivered : Self.undelivered
    }

    /// One line: `#12 2018-…Z panic from box-1 at 52.1, 5.2 (current fix, 0.4 s old), undelivered`;
    /// with several outputs, each output's state: `…, delivered to centre, undelivered to arc`.
    public var line: String {
        let what = kind + (detail.map { " \($0)" } ?? "") + (input.map { " from \($0)" } ?? "")
        let progress = outputs.count < 2 ? delivery
            : outputs.keys.sorted().map { "\(outputs[$0] ?? Self.undelivered) to \($0)" }.joined(separator: ", ")
        return "#\(sequence) \(time) \(what) \(position), \(progress)"
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
