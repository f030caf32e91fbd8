/// JT/T 808 framing: a message travels between two 0x7E flags, with 0x7E and 0x7D inside it
/// escaped (0x7E → 0x7D 0x02, 0x7D → 0x7D 0x01) and a one-byte XOR check code over header and body.
///
/// One definition for the agent's output and the centre's listener, so both sides agree on every
/// byte; everything here is pure and takes untrusted input without trapping.
public enum JT808Framing {
    public static let flag: UInt8 = 0x7E
    static let escapeByte: UInt8 = 0x7D

    /// XOR of every byte: the standard's check code over header and body.
    public static func checkCode(_ bytes: some Sequence<UInt8>) -> UInt8 {
        bytes.reduce(0, ^)
    }

    /// `content` (header, body and check code) escaped and wrapped in flags, ready for the wire.
    public static func wrap(_ content: some Collection<UInt8>) -> [UInt8] {
        var out: [UInt8] = [flag]
        out.reserveCapacity(content.count + content.count / 8 + 2)
        for byte in content {
            switch byte {
            case flag: out += [escapeByte, 0x02]
            case escapeByte: out += [escapeByte, 0x01]
            default: out.append(byte)
            }
        }
        out.append(flag)
        return out
    }

    /// The content between the flags with escapes undone. `frame` may include or omit the two
    /// flags; a flag inside it or a 0x7D not followed by 0x01 or 0x02 is an error with its offset
    /// in `frame`.
    public static func unwrap(_ frame: some Collection<UInt8>) throws(WireError) -> [UInt8] {
        var bytes = Array(frame)
        var start = 0
        if bytes.first == flag { start = 1 }
        if bytes.count > start, bytes.last == flag { bytes.removeLast() }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = start
        while index < bytes.count {
            let byte = bytes[index]
            if byte == flag {
                throw WireError(field: "frame", offset: index, message: "0x7E inside a frame (a flag must be escaped as 7D 02)")
            }
            if byte == escapeByte {
                guard index + 1 < bytes.count else {
                    throw WireError(field: "frame", offset: index, message: "frame ends inside an escape (7D without 01 or 02)")
                }
                switch bytes[index + 1] {
                case 0x01: out.append(escapeByte)
                case 0x02: out.append(flag)
                default:
                    throw WireError(field: "frame", offset: index,
                                    message: "bad escape 7D \(Hex.encode([bytes[index + 1]])) (only 7D 01 and 7D 02 are defined)")
                }
                index += 2
            } else {
                out.append(byte)
                index += 1
            }
        }
        return out
    }
}

/// Cuts a TCP byte stream into frames at the 0x7E flags, with a bound on how much it holds.
///
/// Bytes before the first flag are counted as noise; a frame longer than `maxFrameBytes` (escaped)
/// is skipped whole and reported, so a peer that never sends a closing flag costs at most that much
/// memory.
public struct JT808FrameSplitter: Sendable {
    /// What the splitter found in the stream.
    public enum Piece: Sendable, Equatable {
        /// The escaped bytes between two flags (without them).
        case frame([UInt8])
        /// A frame that exceeded the limit, with the bytes dropped.
        case oversized(droppedBytes: Int)
    }

    /// The largest frame the standard allows: a 2019 header (17 bytes + 4 for sub-packages), a
    /// 1023-byte body and the check code, every byte escaped, plus slack for peers that pad.
    public static let defaultMaxFrameBytes = 2 * (21 + 1023 + 1) + 64

    public let maxFrameBytes: Int
    private var buffer: [UInt8] = []
    private var started = false
    private var overflowed = 0
    /// Bytes seen outside any frame (before the first flag).
    public private(set) var noiseBytes = 0

    public init(maxFrameBytes: Int = JT808FrameSplitter.defaultMaxFrameBytes) {
        self.maxFrameBytes = maxFrameBytes
    }

    public mutating func push(_ bytes: some Sequence<UInt8>) -> [Piece] {
        var pieces: [Piece] = []
        for byte in bytes {
            if byte == JT808Framing.flag {
                if overflowed > 0 {
                    pieces.append(.oversized(droppedBytes: overflowed))
                    overflowed = 0
                } else if started, !buffer.isEmpty {
                    pieces.append(.frame(buffer))
                }
                buffer.removeAll(keepingCapacity: true)
                started = true
            } else if !started {
                noiseBytes &+= 1
            } else if overflowed > 0 {
                overflowed &+= 1
            } else if buffer.count >= maxFrameBytes {
                overflowed = buffer.count &+ 1
                buffer.removeAll()
            } else {
                buffer.append(byte)
            }
        }
        return pieces
    }
}
