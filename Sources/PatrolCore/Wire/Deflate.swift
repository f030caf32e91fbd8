import CZlib

/// zlib deflate for the uplink body. Column-ordered delta tracks are mostly runs of tiny numbers,
/// which deflate shrinks by a further 2–4×; that is what keeps a day's backlog under 10 bytes a point.
public enum Deflate {
    /// The zlib stream (RFC 1950) of `bytes` at the default level.
    public static func compress(_ bytes: [UInt8]) -> [UInt8] {
        var capacity = compressBound(uLong(bytes.count))
        var output = [UInt8](repeating: 0, count: Int(capacity))
        let rc = output.withUnsafeMutableBufferPointer { out in
            bytes.withUnsafeBufferPointer { input in
                compress2(out.baseAddress, &capacity, input.baseAddress, uLong(bytes.count), Z_DEFAULT_COMPRESSION)
            }
        }
        // compressBound guarantees room and the input is in memory, so only a broken zlib fails here.
        precondition(rc == Z_OK, "zlib compress2 failed with \(rc)")
        output.removeLast(output.count - Int(capacity))
        return output
    }

    /// Inflates a zlib stream that must produce exactly `expectedCount` bytes (the count the sender
    /// declared, already checked against the receiver's limit, so a small body cannot expand unbounded).
    public static func decompress(_ bytes: ArraySlice<UInt8>, expectedCount: Int) -> [UInt8]? {
        var output = [UInt8](repeating: 0, count: expectedCount)
        var produced = uLong(expectedCount)
        let rc = output.withUnsafeMutableBufferPointer { out in
            bytes.withUnsafeBufferPointer { input in
                uncompress(out.baseAddress, &produced, input.baseAddress, uLong(input.count))
            }
        }
        guard rc == Z_OK, produced == uLong(expectedCount) else { return nil }
        return output
    }
}
