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

    /// Inflates a zlib stream that must produce exactly `expectedCount` bytes, or nil when it is
    /// corrupt or produces any other count.
    ///
    /// The output grows as the stream inflates, in steps of at most 64 KiB, and inflation stops
    /// as soon as it would pass `expectedCount`: the count is the sender's claim, so an 11-byte
    /// body declaring 256 MiB costs 64 KiB, and a deflate bomb stops at the declared size.
    public static func decompress(_ bytes: ArraySlice<UInt8>, expectedCount: Int) -> [UInt8]? {
        let step = 64 << 10
        guard (0..<Int.max).contains(expectedCount) else { return nil }
        var stream = z_stream()
        guard inflateInit_(&stream, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return nil }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: min(step, expectedCount + 1))
        return bytes.withUnsafeBufferPointer { input -> [UInt8]? in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
            stream.avail_in = uInt(input.count)
            while true {
                // One byte beyond the declared count is room enough to notice a stream that lies.
                let room = min(chunk.count, expectedCount + 1 - output.count)
                let rc = chunk.withUnsafeMutableBufferPointer { out -> Int32 in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(room)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                output.append(contentsOf: chunk[0..<(room - Int(stream.avail_out))])
                guard output.count <= expectedCount else { return nil }
                switch rc {
                case Z_STREAM_END:
                    return output.count == expectedCount && stream.avail_in == 0 ? output : nil
                case Z_OK:
                    continue
                default: // Z_BUF_ERROR: input ended early; Z_DATA_ERROR and others: corrupt
                    return nil
                }
            }
        }
    }
}
