/// A checkpoint tag's identity, normalised so that the same tag reads the same on every reader of
/// one kind: 10 upper-case hex digits for EM4100 hex readers, the digits as sent (leading zeros
/// kept, as printed on the card) for decimal readers.
public struct TagID: Sendable, Hashable, CustomStringConvertible {
    public let text: String

    public init(_ text: String) {
        self.text = text
    }

    public var description: String { text }

    /// For a 10-hex-digit EM4100 id, the numbers decimal readers print for the same tag, so a
    /// checkpoint list enrolled with one reader kind can be matched against another.
    ///
    /// `decimal10` is the low 32 bits as 10 digits; `decimal8` is the Wiegand-26 view, the
    /// "facility" byte (bits 16–23) as 3 digits followed by the low 16 bits as 5 digits.
    public var decimalForms: (decimal10: TagID, decimal8: TagID)? {
        guard text.utf8.count == 10, let value = UInt64(text, radix: 16) else { return nil }
        let low32 = value & 0xFFFF_FFFF
        return (TagID(Self.zeroPadded(low32, 10)),
                TagID(Self.zeroPadded((value >> 16) & 0xFF, 3) + Self.zeroPadded(value & 0xFFFF, 5)))
    }

    private static func zeroPadded(_ value: UInt64, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

/// What a tag reader sends for one read. Hex and decimal cannot be told apart from the line
/// ("0001780797" is valid as both), so the reader's kind is configured.
public enum TagReaderFormat: String, Sendable, Equatable, CaseIterable {
    /// 125 kHz EM4100 readers: the tag's 10 hex digits (version byte + 32-bit id), optionally
    /// followed by 2 hex digits, the XOR of the 5 bytes (RDM6300 and similar); optionally wrapped
    /// in STX (0x02) … ETX (0x03); ended by CR, LF, CR LF or the ETX.
    case em4100Hex = "em4100-hex"
    /// Readers sending a decimal card number: 10 digits (the id's low 32 bits) or 8 digits
    /// (Wiegand-26 facility + card), ended by CR, LF or CR LF.
    case decimal
}

/// Turns a tag reader's serial output into tag ids; unreadable lines are counted and dropped.
public struct TagReaderDecoder: Sendable {
    static let startOfText: UInt8 = 0x02
    static let endOfText: UInt8 = 0x03

    public let format: TagReaderFormat
    /// Lines that were no tag read: noise, a bad checksum, wrong length or characters.
    public private(set) var rejectedLines = 0

    private var splitter = LineSplitter(maximumLength: 32,
                                        terminators: [LineSplitter.carriageReturn, LineSplitter.lineFeed, endOfText])

    public init(format: TagReaderFormat) {
        self.format = format
    }

    /// The tags whose reads the bytes complete.
    public mutating func receive(_ bytes: some Sequence<UInt8>) -> [TagID] {
        let overlongBefore = splitter.overlongLines
        var tags: [TagID] = []
        for line in splitter.append(bytes) {
            if let tag = Self.decode(line: line, format: format) { tags.append(tag) } else { rejectedLines += 1 }
        }
        rejectedLines += splitter.overlongLines - overlongBefore
        return tags
    }

    /// Decodes one line without its terminator; anything up to an STX and surrounding spaces are
    /// ignored.
    public static func decode(line: some Collection<UInt8>, format: TagReaderFormat) -> TagID? {
        var bytes = Array(line)
        if let start = bytes.lastIndex(of: startOfText) { bytes.removeSubrange(...start) }
        let text = String(decoding: bytes, as: UTF8.self).trimmingSpaces
        switch format {
        case .em4100Hex: return hexTag(text)
        case .decimal: return decimalTag(text)
        }
    }

    private static func hexTag(_ text: String) -> TagID? {
        // Upper case for ASCII only: `uppercased()` would also turn a ligature such as "ﬀ" into "FF".
        let digits = text.utf8.map { $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") ? $0 - 0x20 : $0 }
        guard digits.count == 10 || digits.count == 12,
              digits.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x46) }) else { return nil }
        let bytes = stride(from: 0, to: digits.count, by: 2).map {
            UInt8(String(decoding: digits[$0..<($0 + 2)], as: UTF8.self), radix: 16)!
        }
        if bytes.count == 6, bytes[..<5].reduce(0, ^) != bytes[5] { return nil }
        return TagID(String(decoding: digits[..<10], as: UTF8.self))
    }

    private static func decimalTag(_ text: String) -> TagID? {
        let digits = text.utf8
        guard digits.count == 8 || digits.count == 10, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            return nil
        }
        return TagID(text)
    }
}

extension String {
    /// Without leading and trailing spaces and tabs (no Foundation in the core).
    var trimmingSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
