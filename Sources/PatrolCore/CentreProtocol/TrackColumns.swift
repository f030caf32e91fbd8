/// The track section of a batch: one column per field, each a run of zigzag varint deltas.
///
/// Columns rather than rows because consecutive values of one field are alike (1000 ms apart, a few
/// metres apart), so each delta is one byte and the columns deflate to a fraction of that. Time,
/// latitude and longitude are delta-of-delta (steady motion encodes as zeros); the optional fields
/// are deltas against the previous point that had them, present only where the point's flags say.
enum TrackColumns {
    private static let modeMask: UInt8 = 0b11
    private static let altitudeBit: UInt8 = 1 << 2
    private static let speedBit: UInt8 = 1 << 3
    private static let trackBit: UInt8 = 1 << 4
    private static let hdopBit: UInt8 = 1 << 5
    private static let satellitesBit: UInt8 = 1 << 6

    private static var optionalColumns: [(name: String, bit: UInt8, field: WritableKeyPath<TrackRecord, Int64?>)] {
        [
        ("alt", altitudeBit, \.altitudeDecimetres), ("speed", speedBit, \.speedCentimetresPerSecond),
        ("trackAngle", trackBit, \.trackCentidegrees), ("hdop", hdopBit, \.hdopHundredths),
        ("sats", satellitesBit, \.satellitesUsed),
        ]
    }

    static func encode(_ points: [TrackRecord], into writer: inout WireWriter) {
        writer.unsigned(UInt64(points.count))
        guard let first = points.first else { return }
        writer.unsigned(first.sequence)
        for (previous, point) in zip(points, points.dropFirst()) {
            // Consecutive sequences (the usual case) encode as 0.
            writer.signed(Int64(bitPattern: point.sequence &- previous.sequence) &- 1)
        }
        for field in [\TrackRecord.timeMilliseconds, \.latitudeE7, \.longitudeE7] {
            var previous: Int64 = 0, previousDelta: Int64 = 0
            for point in points {
                let delta = point[keyPath: field] &- previous
                writer.signed(delta &- previousDelta)
                (previous, previousDelta) = (point[keyPath: field], delta)
            }
        }
        for point in points { writer.byte(flags(of: point)) }
        for column in optionalColumns {
            var previous: Int64 = 0
            for point in points {
                guard let value = point[keyPath: column.field] else { continue }
                writer.signed(value &- previous)
                previous = value
            }
        }
    }

    /// Decodes `count` points; values are accumulated with wrapping arithmetic so hostile deltas
    /// cannot trap, and implausible results are left for `TrackRecord.problem` to reject.
    static func decode(count: Int, from reader: inout WireReader) throws(WireError) -> [TrackRecord] {
        guard count > 0 else { return [] }
        let optionalColumns = Self.optionalColumns // once: the static property builds a new array at each use
        var points = [TrackRecord](repeating: TrackRecord(sequence: 0, timeMilliseconds: 0, latitudeE7: 0, longitudeE7: 0),
                                      count: count)
        var sequence = try reader.unsigned("track.sequence")
        points[0].sequence = sequence
        for index in 1..<count {
            sequence = sequence &+ UInt64(bitPattern: try reader.signed("track[\(index)].sequence") &+ 1)
            points[index].sequence = sequence
        }
        for (name, field) in [("time", \TrackRecord.timeMilliseconds), ("lat", \.latitudeE7), ("lon", \.longitudeE7)] {
            var value: Int64 = 0, delta: Int64 = 0
            for index in 0..<count {
                delta = delta &+ (try reader.signed("track[\(index)].\(name)"))
                value = value &+ delta
                points[index][keyPath: field] = value
            }
        }
        for index in 0..<count {
            let flagsOffset = reader.offset
            let flags = try reader.byte("track[\(index)].flags")
            guard flags & 0x80 == 0, let mode = FixMode(rawValue: Int(flags & modeMask)) else {
                throw reader.failure("track[\(index)].flags", "invalid flags \(flags)", at: flagsOffset)
            }
            points[index].mode = mode
            for column in optionalColumns where flags & column.bit != 0 {
                points[index][keyPath: column.field] = 0 // marks presence; the column below fills it in
            }
        }
        for column in optionalColumns {
            var previous: Int64 = 0
            for index in 0..<count where points[index][keyPath: column.field] != nil {
                previous = previous &+ (try reader.signed("track[\(index)].\(column.name)"))
                points[index][keyPath: column.field] = previous
            }
        }
        return points
    }

    private static func flags(of point: TrackRecord) -> UInt8 {
        var flags = UInt8(point.mode.rawValue) & modeMask
        for column in optionalColumns where point[keyPath: column.field] != nil { flags |= column.bit }
        return flags
    }
}
