/// Cuts a serial byte stream into lines for the line-oriented devices (button box, tag readers).
///
/// Bytes arrive in arbitrary chunks, so a line may span reads. A line longer than the limit is
/// noise or a wrong baud rate: it is dropped up to its terminator and counted, never buffered
/// without bound.
public struct LineSplitter: Sendable {
    public static let carriageReturn: UInt8 = 0x0D
    public static let lineFeed: UInt8 = 0x0A

    public let maximumLength: Int
    public let terminators: Set<UInt8>
    /// Lines dropped for being too long.
    public private(set) var overlongLines = 0

    private var pending: [UInt8] = []
    private var discarding = false

    public init(maximumLength: Int, terminators: Set<UInt8> = [carriageReturn, lineFeed]) {
        self.maximumLength = maximumLength
        self.terminators = terminators
    }

    /// The complete, non-empty lines the bytes finish, without their terminators.
    public mutating func append(_ bytes: some Sequence<UInt8>) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        for byte in bytes {
            if terminators.contains(byte) {
                if !discarding, !pending.isEmpty { lines.append(pending) }
                pending.removeAll(keepingCapacity: true)
                discarding = false
            } else if discarding {
                continue
            } else if pending.count == maximumLength {
                overlongLines += 1
                pending.removeAll(keepingCapacity: true)
                discarding = true
            } else {
                pending.append(byte)
            }
        }
        return lines
    }
}
