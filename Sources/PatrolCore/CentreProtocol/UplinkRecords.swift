/// The record streams a device sends. Every record is identified by (device, stream, sequence), and
/// each stream has its own per-device sequence, so a resend is recognised and stored once.
public enum UplinkStream: String, Sendable, CaseIterable, Codable {
    /// Alarms, check-ins, faults.
    case event
    /// Recorded track points.
    case track
    /// "Still alive" records that keep a device from being listed as silent.
    case heartbeat
}

extension TrackRecord {
    /// Why the centre must refuse this point for good, or nil when it is plausible. Checked after
    /// decoding, so one bad point is rejected alone instead of failing the whole batch.
    ///
    /// The reasons name the field and the rule, not the value: the device has the value, and equal
    /// reasons let the centre answer a run of refused records as one range. Magnitudes are compared
    /// as `UInt64` because `abs(Int64.min)` traps.
    public var problem: String? {
        if !UplinkLimits.plausibleTimes.contains(timeMilliseconds) { return "time is outside 2000–2200" }
        if latitudeE7.magnitude > 900_000_000 { return "latitude is outside ±90°" }
        if longitudeE7.magnitude > 1_800_000_000 { return "longitude is outside ±180°" }
        if mode == .noFix { return "a track point needs a 2D or 3D fix" }
        if let speed = speedCentimetresPerSecond, !(0...50_000).contains(speed) { return "speed is outside 0–500 m/s" }
        if let track = trackCentidegrees, !(0..<36_000).contains(track) { return "track angle is outside 0–359.99°" }
        if let hdop = hdopHundredths, !(0...10_000).contains(hdop) { return "hdop is outside 0–100" }
        if let satellites = satellitesUsed, !(0...255).contains(satellites) { return "satellites is outside 0–255" }
        if let altitude = altitudeDecimetres, !(-100_000...1_000_000).contains(altitude) { return "altitude is outside −10–100 km" }
        return nil
    }
}

/// Where an event happened, from the last fix before it.
public struct UplinkEventPosition: Sendable, Equatable {
    public var latitudeE7: Int64
    public var longitudeE7: Int64
    /// How old the fix was when the event happened; a panic alarm sent from a garage says so.
    public var fixAgeMilliseconds: UInt64

    public init(latitudeE7: Int64, longitudeE7: Int64, fixAgeMilliseconds: UInt64) {
        self.latitudeE7 = latitudeE7
        self.longitudeE7 = longitudeE7
        self.fixAgeMilliseconds = fixAgeMilliseconds
    }
}

/// An alarm, check-in or fault.
public struct UplinkEvent: Sendable, Equatable {
    public var sequence: UInt64
    /// The agent's event code (`EventKind.code`: `panic`, `check-in.tag`, `fault.gps-lost`, …):
    /// lower-case letters, digits, `.`, `_`, `-`. One vocabulary from button to centre.
    public var kind: String
    public var time: UTCTime
    /// Where `time` came from (`gnss`, `system`, …): a board without a real-time clock may have
    /// stamped it from an uncorrected system clock, and the operator must be able to tell.
    public var timeSource: String
    /// Nil when the device had no fix.
    public var position: UplinkEventPosition?
    /// The button that raised it, for alarms and check-ins.
    public var buttonID: String?
    /// A small JSON object with kind-specific details (empty string for none).
    public var payloadJSON: String

    public init(sequence: UInt64, kind: String, time: UTCTime, timeSource: String, position: UplinkEventPosition? = nil,
                buttonID: String? = nil, payloadJSON: String = "") {
        self.sequence = sequence
        self.kind = kind
        self.time = time
        self.timeSource = timeSource
        self.position = position
        self.buttonID = buttonID
        self.payloadJSON = payloadJSON
    }

    /// Why the centre must refuse this event for good, or nil when it is plausible (reasons as for
    /// `TrackRecord.problem`: field and rule, no value; magnitudes as `UInt64`, which cannot trap).
    public var problem: String? {
        let kindCharacters = kind.utf8.allSatisfy { (97...122).contains($0) || (48...57).contains($0) || $0 == 46 || $0 == 95 || $0 == 45 }
        if kind.isEmpty || !kindCharacters { return "kind must be lower-case letters, digits, '.', '_' or '-'" }
        if !UplinkLimits.plausibleTimes.contains(time.millisecondsSinceEpoch) { return "time is outside 2000–2200" }
        if let position, position.latitudeE7.magnitude > 900_000_000 || position.longitudeE7.magnitude > 1_800_000_000 {
            return "position is outside the globe"
        }
        let payload = payloadJSON.utf8
        if !payload.isEmpty, payload.first != UInt8(ascii: "{") || payload.last != UInt8(ascii: "}") {
            return "payload must be a JSON object"
        }
        return nil
    }
}

/// A sign of life: sent every few seconds while there is nothing else to send.
public struct UplinkHeartbeat: Sendable, Equatable {
    public var sequence: UInt64
    public var time: UTCTime
    public var timeSource: String
    /// Records the device still holds for upload, so the centre can show who is catching up.
    public var pendingRecords: UInt64

    public init(sequence: UInt64, time: UTCTime, timeSource: String, pendingRecords: UInt64 = 0) {
        self.sequence = sequence
        self.time = time
        self.timeSource = timeSource
        self.pendingRecords = pendingRecords
    }
}

/// Bounds the decoder enforces before allocating, so a hostile or broken body fails fast with a
/// `WireError` instead of exhausting the centre's memory.
public struct UplinkLimits: Sendable {
    /// The most bytes a deflated payload may inflate to. Output is grown as it inflates, never
    /// allocated from the declared length, so a body that lies about its size costs nothing.
    public var maxDecodedBytes: Int
    /// The most records of all streams in one batch (`Docs/uplink-protocol.md`); with the answer
    /// given as ranges, this bounds the centre's work and answer per request.
    public var maxRecords: Int

    /// The protocol's limit on records per batch (a day of 1 Hz track fits); the agent's
    /// `batch_points` stays below it.
    public static let maxRecordsPerBatch = 100_000

    public static let maxDeviceIDBytes = 64
    public static let maxShortStringBytes = 64
    public static let maxPayloadBytes = 2048
    /// 2000-01-01 to 2200-01-01: anything else is a clock that was never set, not a real time.
    public static let plausibleTimes: ClosedRange<Int64> = 946_684_800_000...7_258_118_400_000

    /// 16 MiB decoded holds the largest batch: 100,000 points (a day at 1 Hz is 86,400) take about
    /// 1.2 MB, and 10 MB with every field of every point at its widest; 100 events at most 230 KB.
    public init(maxDecodedBytes: Int = 16 << 20, maxRecords: Int = maxRecordsPerBatch) {
        self.maxDecodedBytes = maxDecodedBytes
        self.maxRecords = maxRecords
    }
}
