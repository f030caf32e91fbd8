/// One upload from a device: its track points, events and heartbeats, plus how far it has read the
/// centre's downlink messages. Encoded as described in `Docs/uplink-protocol.md`:
///
///     body    = magic "PLB" · version 0x01 · flags (bit 0: deflated) · [decoded length] · payload
///     payload = device id · downlink acknowledged through · track columns · events · heartbeats
///
/// Track points are sent as columns of zigzag varint deltas (delta-of-delta for time and position,
/// which barely change at 1 Hz), then deflated; a day of 1 Hz points costs a few bytes each.
/// Pure value code: no I/O, shared by the agent (encode) and the centre (decode).
public struct UplinkBatch: Sendable, Equatable {
    public static let magic: [UInt8] = [0x50, 0x4C, 0x42] // "PLB"
    public static let version: UInt8 = 1
    /// The media type of an encoded batch.
    public static let contentType = "application/vnd.patrol.batch"

    public var deviceID: String
    /// The highest downlink message id the device has acted on; the centre resends later ones
    /// until they are acknowledged this way, so a lost response loses no message.
    public var downlinkAcknowledgedThrough: UInt64
    public var trackPoints: [TrackRecord]
    public var events: [UplinkEvent]
    public var heartbeats: [UplinkHeartbeat]

    public init(deviceID: String, downlinkAcknowledgedThrough: UInt64 = 0, trackPoints: [TrackRecord] = [],
                events: [UplinkEvent] = [], heartbeats: [UplinkHeartbeat] = []) {
        self.deviceID = deviceID
        self.downlinkAcknowledgedThrough = downlinkAcknowledgedThrough
        self.trackPoints = trackPoints
        self.events = events
        self.heartbeats = heartbeats
    }

    public var recordCount: Int { trackPoints.count + events.count + heartbeats.count }

    // MARK: Encoding

    /// The request body; `deflate` is worth it for any batch of more than a few points.
    public func encoded(deflate: Bool = true) -> [UInt8] {
        var payload = WireWriter()
        payload.string(deviceID)
        payload.unsigned(downlinkAcknowledgedThrough)
        TrackColumns.encode(trackPoints, into: &payload)
        payload.unsigned(UInt64(events.count))
        for event in events { encode(event, into: &payload) }
        payload.unsigned(UInt64(heartbeats.count))
        for heartbeat in heartbeats {
            payload.unsigned(heartbeat.sequence)
            payload.signed(heartbeat.time.millisecondsSinceEpoch)
            payload.string(heartbeat.timeSource)
            payload.unsigned(heartbeat.pendingRecords)
        }
        var body = WireWriter()
        body.raw(Self.magic)
        body.byte(Self.version)
        body.byte(deflate ? 1 : 0)
        if deflate {
            body.unsigned(UInt64(payload.bytes.count))
            body.raw(Deflate.compress(payload.bytes))
        } else {
            body.raw(payload.bytes)
        }
        return body.bytes
    }

    private func encode(_ event: UplinkEvent, into writer: inout WireWriter) {
        writer.unsigned(event.sequence)
        writer.string(event.kind)
        writer.signed(event.time.millisecondsSinceEpoch)
        writer.string(event.timeSource)
        writer.byte((event.position == nil ? 0 : 1) | (event.buttonID == nil ? 0 : 2))
        if let position = event.position {
            writer.signed(position.latitudeE7)
            writer.signed(position.longitudeE7)
            writer.unsigned(position.fixAgeMilliseconds)
        }
        if let buttonID = event.buttonID { writer.string(buttonID) }
        writer.string(event.payloadJSON)
    }

    // MARK: Decoding

    /// Decodes a request body, enforcing `limits`; every failure names the field and byte offset.
    public static func decode(_ body: [UInt8], limits: UplinkLimits = UplinkLimits()) throws(WireError) -> UplinkBatch {
        var header = WireReader(body)
        guard Array(try header.raw(3, "header.magic")) == magic else {
            throw header.failure("header.magic", "not a PatrolLink batch (expected \"PLB\")", at: 0)
        }
        let version = try header.byte("header.version")
        guard version == Self.version else { throw header.failure("header.version", "version \(version) is not supported; this centre reads 1", at: 3) }
        let flags = try header.byte("header.flags")
        guard flags & ~1 == 0 else { throw header.failure("header.flags", "unknown flags \(flags)", at: 4) }
        var payload: [UInt8]
        if flags & 1 == 1 {
            let declared = try header.count("header.decodedLength", atMost: limits.maxDecodedBytes)
            let compressed = try header.raw(header.remainingCount, "payload")
            guard let inflated = Deflate.decompress(compressed, expectedCount: declared) else {
                throw header.failure("payload", "deflate stream is corrupt or does not inflate to the declared \(declared) bytes "
                                     + "(header.decodedLength)")
            }
            payload = inflated
        } else {
            payload = Array(try header.raw(header.remainingCount, "payload"))
        }
        var reader = WireReader(payload)
        var recordBudget = limits.maxRecords
        func recordCount(_ field: String, _ reader: inout WireReader) throws(WireError) -> Int {
            let start = reader.offset
            let count = try reader.unsigned(field)
            guard count <= UInt64(recordBudget) else {
                throw reader.failure(field, "the batch holds more than \(limits.maxRecords) records, the most one batch may carry; "
                                     + "send smaller batches", at: start)
            }
            // Every record takes at least one byte, so a count beyond the bytes left is a lie.
            guard count <= UInt64(reader.remainingCount) else {
                throw reader.failure(field, "\(count) records cannot fit in the \(reader.remainingCount) bytes left", at: start)
            }
            recordBudget -= Int(count)
            return Int(count)
        }
        let deviceID = try reader.string("deviceID", maxBytes: UplinkLimits.maxDeviceIDBytes)
        let acknowledged = try reader.unsigned("downlinkAcknowledgedThrough")
        let trackCount = try recordCount("track.count", &reader)
        let trackPoints = try TrackColumns.decode(count: trackCount, from: &reader)
        let eventCount = try recordCount("events.count", &reader)
        var events: [UplinkEvent] = []
        events.reserveCapacity(eventCount)
        for index in 0..<eventCount { events.append(try decodeEvent(index, from: &reader)) }
        let heartbeatCount = try recordCount("heartbeats.count", &reader)
        var heartbeats: [UplinkHeartbeat] = []
        heartbeats.reserveCapacity(heartbeatCount)
        for index in 0..<heartbeatCount {
            let field = "heartbeats[\(index)]"
            heartbeats.append(UplinkHeartbeat(
                sequence: try reader.unsigned(field + ".sequence"),
                time: UTCTime(millisecondsSinceEpoch: try reader.signed(field + ".time")),
                timeSource: try reader.string(field + ".timeSource", maxBytes: UplinkLimits.maxShortStringBytes),
                pendingRecords: try reader.unsigned(field + ".pendingRecords")))
        }
        guard reader.isAtEnd else { throw reader.failure("payload", "\(reader.remainingCount) unexpected bytes after the last record") }
        return UplinkBatch(deviceID: deviceID, downlinkAcknowledgedThrough: acknowledged, trackPoints: trackPoints,
                           events: events, heartbeats: heartbeats)
    }

    private static func decodeEvent(_ index: Int, from reader: inout WireReader) throws(WireError) -> UplinkEvent {
        let field = "events[\(index)]"
        let sequence = try reader.unsigned(field + ".sequence")
        let kind = try reader.string(field + ".kind", maxBytes: UplinkLimits.maxShortStringBytes)
        let time = UTCTime(millisecondsSinceEpoch: try reader.signed(field + ".time"))
        let timeSource = try reader.string(field + ".timeSource", maxBytes: UplinkLimits.maxShortStringBytes)
        let flagsOffset = reader.offset
        let flags = try reader.byte(field + ".flags")
        guard flags & ~3 == 0 else { throw reader.failure(field + ".flags", "unknown flags \(flags)", at: flagsOffset) }
        var position: UplinkEventPosition?
        if flags & 1 != 0 {
            position = UplinkEventPosition(latitudeE7: try reader.signed(field + ".lat"), longitudeE7: try reader.signed(field + ".lon"),
                                     fixAgeMilliseconds: try reader.unsigned(field + ".fixAge"))
        }
        let buttonID = flags & 2 != 0 ? try reader.string(field + ".button", maxBytes: UplinkLimits.maxShortStringBytes) : nil
        let payload = try reader.string(field + ".payload", maxBytes: UplinkLimits.maxPayloadBytes)
        return UplinkEvent(sequence: sequence, kind: kind, time: time, timeSource: timeSource, position: position,
                           buttonID: buttonID, payloadJSON: payload)
    }
}
