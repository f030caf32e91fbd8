/// Why a wire body could not be decoded: which field, at which byte offset, and what was wrong.
///
/// Offsets count from the start of the decoded payload (after inflating, when the body was deflated),
/// and are meant for the JSON error a sender logs, so a bad encoder can be found from one report.
public struct WireError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Dotted name of the field, e.g. `track[0].lat` or `header.magic`.
    public var field: String
    /// Byte offset in the payload where the problem was found.
    public var offset: Int
    public var message: String

    public init(field: String, offset: Int, message: String) {
        self.field = field
        self.offset = offset
        self.message = message
    }

    public var description: String { "\(field) at byte \(offset): \(message)" }
}

/// Appends the wire format's primitives: LEB128 unsigned varints, zigzag signed varints, and
/// length-prefixed strings. Small numbers take one byte, which is what makes delta columns cheap.
public struct WireWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func byte(_ value: UInt8) { bytes.append(value) }

    public mutating func raw(_ value: some Sequence<UInt8>) { bytes.append(contentsOf: value) }

    public mutating func unsigned(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    /// Zigzag maps 0, -1, 1, -2, … to 0, 1, 2, 3, … so small negative deltas stay one byte.
    public mutating func signed(_ value: Int64) {
        unsigned(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    public mutating func string(_ value: String) {
        unsigned(UInt64(value.utf8.count))
        bytes.append(contentsOf: value.utf8)
    }
}

/// Reads the primitives `WireWriter` writes, throwing a `WireError` that names the field being read.
///
/// Field names are autoclosures: they are built only when something fails, not for every value.
public struct WireReader: Sendable {
    private let bytes: [UInt8]
    public private(set) var offset: Int

    public init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    public var isAtEnd: Bool { offset >= bytes.count }
    public var remainingCount: Int { bytes.count - offset }

    public func failure(_ field: String, _ message: String, at position: Int? = nil) -> WireError {
        WireError(field: field, offset: position ?? offset, message: message)
    }

    public mutating func byte(_ field: @autoclosure () -> String) throws(WireError) -> UInt8 {
        guard offset < bytes.count else { throw failure(field(), "body ends early") }
        defer { offset += 1 }
        return bytes[offset]
    }

    public mutating func raw(_ count: Int, _ field: @autoclosure () -> String) throws(WireError) -> ArraySlice<UInt8> {
        guard count <= remainingCount else {
            throw failure(field(), "needs \(count) bytes, only \(remainingCount) left")
        }
        defer { offset += count }
        return bytes[offset..<(offset + count)]
    }

    public mutating func unsigned(_ field: @autoclosure () -> String) throws(WireError) -> UInt64 {
        let start = offset
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < bytes.count else { throw failure(field(), "body ends inside a number", at: start) }
            let byte = bytes[offset]
            offset += 1
            guard shift < 64, shift != 63 || byte <= 1 else { throw failure(field(), "number longer than 64 bits", at: start) }
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
    }

    public mutating func signed(_ field: @autoclosure () -> String) throws(WireError) -> Int64 {
        let zigzag = try unsigned(field())
        return Int64(bitPattern: zigzag >> 1) ^ -Int64(bitPattern: zigzag & 1)
    }

    /// An unsigned number that must fit `limit` (a count or a length, checked before anything is allocated).
    public mutating func count(_ field: @autoclosure () -> String, atMost limit: Int) throws(WireError) -> Int {
        let start = offset
        let value = try unsigned(field())
        guard value <= UInt64(limit) else { throw failure(field(), "\(value) exceeds the limit of \(limit)", at: start) }
        return Int(value)
    }

    public mutating func string(_ field: @autoclosure () -> String, maxBytes: Int) throws(WireError) -> String {
        let start = offset
        let length = try count(field(), atMost: maxBytes)
        let utf8 = try raw(length, field())
        guard let text = String(validating: utf8, as: UTF8.self) else {
            throw failure(field(), "is not valid UTF-8", at: start)
        }
        return text
    }
}
