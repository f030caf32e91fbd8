import PatrolCore

/// One ANSI/SIA DC-09 message block as it travels, both ways:
/// `<LF><CRC><0LLL>"<*token>"<seq><R…><L…><#acct>[<body><CR>`.
///
/// The CRC and the length cover everything from the opening quote of the token to the end of the
/// body; they are computed on encoding and checked on decoding, never taken on trust. The block
/// knows nothing about what its body means: `DC09Message` builds bodies, `DC09Answer` reads them.
public struct DC09Frame: Sendable, Equatable {
    /// `SIA-DCS`, `ADM-CID`, `NULL` from a transmitter; `ACK`, `NAK`, `DUH` from a receiver.
    public var token: String
    /// Whether the body is AES ciphertext in hex (`*` before the token).
    public var encrypted: Bool
    /// Four decimal digits; `0000` only in a NAK.
    public var sequence: String
    /// What stands between the sequence and `[` (receiver `R…`, line `L…`, account `#…`), as sent:
    /// receivers differ here (pysiaalarm writes `None` for a receiver field it was not sent).
    public var header: String
    /// Everything after `[`: `data]` + extended data + `_timestamp`, or the ciphertext in hex.
    public var body: String

    public init(token: String, encrypted: Bool, sequence: String, header: String, body: String) {
        self.token = token
        self.encrypted = encrypted
        self.sequence = sequence
        self.header = header
        self.body = body
    }

    /// The largest block the standard's `0LLL` length field can describe.
    public static let maxContentLength = 0x0FFF
    static let lineFeed: UInt8 = 0x0A
    static let carriageReturn: UInt8 = 0x0D

    /// The part the CRC and the length cover.
    var content: String {
        "\"" + (encrypted ? "*" : "") + token + "\"" + sequence + header + "[" + body
    }

    /// The block with its LF, CRC, length and CR.
    public var encoded: [UInt8] {
        let content = Array(content.utf8)
        return [Self.lineFeed] + Array((DC09CRC.hex(of: content) + DC09CRC.hex4(content.count)).utf8) + content + [Self.carriageReturn]
    }

    /// The account in the header (after `#`), nil when the header has none.
    public var account: String? {
        guard let hash = header.firstIndex(of: "#") else { return nil }
        return String(header[header.index(after: hash)...])
    }

    /// Reads one block: `bytes` from its LF (optional) to its CR (optional). Checks what every
    /// block must satisfy (printable ASCII, CRC, length, quoted token, four-digit sequence, `[`).
    public static func decode(_ bytes: some Collection<UInt8>) throws(DC09FrameError) -> DC09Frame {
        var bytes = ArraySlice(bytes)
        if bytes.first == lineFeed { bytes = bytes.dropFirst() }
        if bytes.last == carriageReturn { bytes = bytes.dropLast() }
        guard bytes.count >= 8 else { throw DC09FrameError("\(bytes.count) bytes: too short for CRC and length") }
        guard bytes.allSatisfy({ (0x20...0x7E).contains($0) }) else {
            throw DC09FrameError("a byte outside printable ASCII")
        }
        let text = String(decoding: bytes, as: UTF8.self)
        let crcText = text.prefix(4)
        let lengthText = text.dropFirst(4).prefix(4)
        let content = Array(bytes.dropFirst(8))
        guard let crc = UInt16(crcText, radix: 16), crcText.allSatisfy(\.isHexDigit) else {
            throw DC09FrameError("CRC '\(crcText)' is not four hex digits")
        }
        guard let length = Int(lengthText, radix: 16), lengthText.allSatisfy(\.isHexDigit) else {
            throw DC09FrameError("length '\(lengthText)' is not four hex digits")
        }
        guard length == content.count else {
            throw DC09FrameError("length field says \(length) bytes, the block has \(content.count)")
        }
        guard DC09CRC.checksum(content) == crc else {
            throw DC09FrameError("CRC \(crcText) does not match the block (\(DC09CRC.hex(of: content)))")
        }
        var rest = Substring(String(decoding: content, as: UTF8.self))
        guard rest.first == "\"" else { throw DC09FrameError("no quoted token") }
        rest = rest.dropFirst()
        guard let close = rest.firstIndex(of: "\"") else { throw DC09FrameError("the token's closing quote is missing") }
        var token = rest[..<close]
        rest = rest[rest.index(after: close)...]
        let encrypted = token.first == "*"
        if encrypted { token = token.dropFirst() }
        guard !token.isEmpty else { throw DC09FrameError("empty token") }
        let sequence = rest.prefix(4)
        guard sequence.count == 4, sequence.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw DC09FrameError("sequence '\(sequence)' is not four digits")
        }
        rest = rest.dropFirst(4)
        guard let bracket = rest.firstIndex(of: "[") else { throw DC09FrameError("no '[' before the data") }
        return DC09Frame(token: String(token), encrypted: encrypted, sequence: String(sequence),
                         header: String(rest[..<bracket]), body: String(rest[rest.index(after: bracket)...]))
    }
}

/// Why bytes are not a DC-09 block.
public struct DC09FrameError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// The block's CRC-16: polynomial 0x8005 reflected (0xA001), initial value 0, as DC-07 and DC-09
/// specify ("CRC-16/ARC"); four upper-case hex digits on the wire.
public enum DC09CRC {
    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc ^= UInt16(byte)
            for _ in 0..<8 {
                crc = crc & 1 == 1 ? (crc >> 1) ^ 0xA001 : crc >> 1
            }
        }
        return crc
    }

    static func hex(of bytes: some Sequence<UInt8>) -> String {
        hex4(Int(checksum(bytes)))
    }

    /// `value` (0...0xFFFF) as four upper-case hex digits.
    static func hex4(_ value: Int) -> String {
        let digits = Array("0123456789ABCDEF")
        return String((0..<4).reversed().map { digits[(value >> ($0 * 4)) & 0xF] })
    }
}

/// The DC-09 timestamp `_HH:MM:SS,MM-DD-YYYY`, always UTC.
public enum DC09Timestamp {
    /// The 20 characters including the leading underscore.
    public static func format(_ time: UTCTime) -> String {
        "_" + clock(time)
    }

    /// `HH:MM:SS,MM-DD-YYYY` (no underscore), also used for the time of occurrence `[H…]`.
    static func clock(_ time: UTCTime) -> String {
        let c = time.civil
        return pad(c.hour) + ":" + pad(c.minute) + ":" + pad(c.second) + "," + pad(c.month) + "-" + pad(c.day) + "-" + pad(c.year, 4)
    }

    /// Reads the 20 characters `_HH:MM:SS,MM-DD-YYYY`; nil when they are not a valid UTC time.
    public static func parse(_ text: some StringProtocol) -> UTCTime? {
        let chars = Array(text.utf8)
        guard chars.count == 20, chars[0] == UInt8(ascii: "_"), chars[3] == UInt8(ascii: ":"), chars[6] == UInt8(ascii: ":"),
              chars[9] == UInt8(ascii: ","), chars[12] == UInt8(ascii: "-"), chars[15] == UInt8(ascii: "-") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                let digit = chars[index]
                guard (48...57).contains(digit) else { return nil }
                value = value * 10 + Int(digit - 48)
            }
            return value
        }
        guard let hour = number(1..<3), let minute = number(4..<6), let second = number(7..<9), let month = number(10..<12),
              let day = number(13..<15), let year = number(16..<20),
              hour < 24, minute < 60, second < 60, (1...12).contains(month), (1...31).contains(day), year >= 1970 else { return nil }
        let time = UTCTime(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        // 31 February and friends roll over; a date that does not read back was not a date.
        guard time.civil.day == day else { return nil }
        return time
    }

    private static func pad(_ value: Int, _ width: Int = 2) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
