import PatrolCore

/// A stored track point and its sequence number, as exports and status read it.
///
/// Values come back as stored: position to 1e-7°, altitude to 0.1 m, speed to 0.01 m/s,
/// track and HDOP to 0.01.
public struct StoredTrackPoint: Sendable, Equatable {
    public var sequence: Int64
    public var point: TrackPoint

    public init(sequence: Int64, point: TrackPoint) {
        self.sequence = sequence
        self.point = point
    }

    init(_ record: TrackRecord) {
        self.init(sequence: Int64(record.sequence), point: record.trackPoint)
    }
}

/// Encodes the points of one `track_chunk` row compactly (see `Schema` for why chunks exist), as
/// `TrackRecord`s: the integers of fixed units the outputs and every wire carry, so what is stored
/// is exactly what is sent.
///
/// Format, per point, all numbers LEB128 varints, signed ones zigzag-encoded:
/// 1. header: bits 0–1 fix mode (gpsd numbering), bits 2–6 presence of altitude, speed, track,
///    HDOP, satellites; bits 7 and up the time-source code;
/// 2. time (ms), latitude and longitude (1e-7°), each as the difference to the previous point
///    (the first point to zero), so a 1 Hz point costs about two bytes each;
/// 3. the present optional fields, altitude dm, speed cm/s, track centi-degrees, HDOP
///    hundredths, satellites, each as the difference to that field's last present value (zero at
///    first): from a moving car they change slowly, so most take one byte.
enum TrackChunkCodec {
    /// Altitude, speed, track, HDOP, satellites: the optional fields, in the order written.
    private static let optionalFieldCount = 5
    private static let timeSourceShift: UInt64 = 7

    /// The header bit saying optional field `field` (0..<5) is present.
    private static func presenceBit(_ field: Int) -> UInt64 { 1 << UInt64(2 + field) }

    /// Encodes `records` (their sequence numbers are not stored: point `i` is `first_seq + i`).
    static func encode(_ records: [TrackRecord]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(records.count * 16)
        var previous = (time: Int64(0), latitude: Int64(0), longitude: Int64(0))
        var previousOptional = [Int64](repeating: 0, count: optionalFieldCount)
        for record in records {
            let optionalValues = [record.altitudeDecimetres, record.speedCentimetresPerSecond, record.trackCentidegrees,
                                  record.hdopHundredths, record.satellitesUsed]
            var header = UInt64(record.mode.rawValue) | (timeSourceCode(.gnss) << timeSourceShift)
            for (field, value) in optionalValues.enumerated() where value != nil {
                header |= presenceBit(field)
            }
            appendVarint(header, to: &bytes)

            let current = (time: record.timeMilliseconds, latitude: record.latitudeE7, longitude: record.longitudeE7)
            appendSigned(current.time &- previous.time, to: &bytes)
            appendSigned(current.latitude &- previous.latitude, to: &bytes)
            appendSigned(current.longitude &- previous.longitude, to: &bytes)
            previous = current

            for (field, value) in optionalValues.enumerated() {
                guard let value else { continue }
                appendSigned(value &- previousOptional[field], to: &bytes)
                previousOptional[field] = value
            }
        }
        return bytes
    }

    /// Decodes `count` points numbered from `firstSequence`; throws on a malformed blob.
    static func decode(_ bytes: [UInt8], count: Int, firstSequence: Int64) throws -> [TrackRecord] {
        var reader = Reader(bytes: bytes, firstSequence: firstSequence)
        var records: [TrackRecord] = []
        records.reserveCapacity(count)
        var previous = (time: Int64(0), latitude: Int64(0), longitude: Int64(0))
        var previousOptional = [Int64](repeating: 0, count: optionalFieldCount)
        for index in 0..<count {
            let header = try reader.varint()
            guard let mode = FixMode(rawValue: Int(header & 0b11)), timeSource(code: header >> timeSourceShift) != nil else {
                throw reader.malformed("unknown fix mode or time source in header \(header)")
            }
            previous.time &+= try reader.signed()
            previous.latitude &+= try reader.signed()
            previous.longitude &+= try reader.signed()
            func optional(_ field: Int) throws -> Int64? {
                guard header & presenceBit(field) != 0 else { return nil }
                previousOptional[field] &+= try reader.signed()
                return previousOptional[field]
            }
            records.append(TrackRecord(
                sequence: UInt64(firstSequence) &+ UInt64(index), timeMilliseconds: previous.time,
                latitudeE7: previous.latitude, longitudeE7: previous.longitude, mode: mode,
                altitudeDecimetres: try optional(0), speedCentimetresPerSecond: try optional(1), trackCentidegrees: try optional(2),
                hdopHundredths: try optional(3), satellitesUsed: try optional(4)))
        }
        guard reader.isAtEnd else { throw reader.malformed("bytes left after \(count) points") }
        return records
    }

    /// Stable codes for `TimeSource`; the switch makes a new case a compile error here, so it
    /// must be given its own code before it can be stored.
    private static func timeSourceCode(_ source: TimeSource) -> UInt64 {
        switch source {
        case .gnss: 0
        }
    }

    private static func timeSource(code: UInt64) -> TimeSource? {
        TimeSource.allCases.first { timeSourceCode($0) == code }
    }

    private static func appendSigned(_ value: Int64, to bytes: inout [UInt8]) {
        appendVarint(UInt64(bitPattern: (value << 1) ^ (value >> 63)), to: &bytes)
    }

    private static func appendVarint(_ value: UInt64, to bytes: inout [UInt8]) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    private struct Reader {
        let bytes: [UInt8]
        let firstSequence: Int64
        var offset = 0

        var isAtEnd: Bool { offset == bytes.count }

        mutating func varint() throws -> UInt64 {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while offset < bytes.count, shift < 64 {
                let byte = bytes[offset]
                offset += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte < 0x80 { return value }
                shift += 7
            }
            throw malformed("truncated number at byte \(offset)")
        }

        mutating func signed() throws -> Int64 {
            let raw = try varint()
            return Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1)
        }

        func malformed(_ reason: String) -> StoreError {
            StoreError(code: .invalidRow, message: "Track chunk starting at sequence \(firstSequence) cannot be "
                + "decoded (\(reason)). Run an integrity check; the chunk can be deleted without affecting others.")
        }
    }
}
