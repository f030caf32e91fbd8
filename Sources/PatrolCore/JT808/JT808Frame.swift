/// The two revisions of the standard a terminal or platform may speak. 2019 sets the version flag
/// (bit 14 of the body properties), adds a protocol version byte and widens the phone number from
/// 6 to 10 BCD bytes; several bodies grow longer fields.
public enum JT808Revision: String, Sendable, Equatable, CaseIterable {
    case v2013 = "2013"
    case v2019 = "2019"

    /// BCD bytes of the terminal phone number in the header.
    public var phoneBytes: Int { self == .v2013 ? 6 : 10 }
}

/// One part of a message split into sub-packages: `index` counts from 1 to `total`.
public struct JT808Package: Sendable, Equatable {
    public var total: UInt16
    public var index: UInt16

    public init(total: UInt16, index: UInt16) {
        self.total = total
        self.index = index
    }
}

/// The message header: id, body properties, terminal phone number, serial number and, for a
/// sub-packaged message, which package this is.
public struct JT808Header: Sendable, Equatable {
    public var messageID: UInt16
    public var revision: JT808Revision
    /// 2019 only: the protocol version byte (1 for the 2019 text).
    public var protocolVersion: UInt8
    /// The terminal phone number as its BCD digits (12 for 2013, 20 for 2019, leading zeros kept).
    public var phone: String
    public var serial: UInt16
    /// Bits 10–12 of the body properties (0: not encrypted, bit 10: RSA). Kept, never applied.
    public var encryption: UInt8
    public var package: JT808Package?

    /// The largest body one frame carries (10 bits of body length); longer ones are sub-packaged.
    public static let maxBodyBytes = 1023

    public init(messageID: UInt16, revision: JT808Revision = .v2013, protocolVersion: UInt8 = 1, phone: String,
                serial: UInt16, encryption: UInt8 = 0, package: JT808Package? = nil) {
        self.messageID = messageID
        self.revision = revision
        self.protocolVersion = protocolVersion
        self.phone = phone
        self.serial = serial
        self.encryption = encryption
        self.package = package
    }

    /// `digits` (a phone number or terminal number) left-padded with zeros to the header's width,
    /// or nil when it is not all decimal digits or too long.
    public static func normalisedPhone(_ digits: String, revision: JT808Revision) -> String? {
        let width = revision.phoneBytes * 2
        guard !digits.isEmpty, digits.utf8.count <= width, digits.utf8.allSatisfy({ (48...57).contains($0) }) else { return nil }
        return String(repeating: "0", count: width - digits.utf8.count) + digits
    }
}

/// A frame: header and body, before escaping. `wire` is what goes on the TCP stream.
public struct JT808Frame: Sendable, Equatable {
    public var header: JT808Header
    public var body: [UInt8]

    public init(header: JT808Header, body: [UInt8]) {
        self.header = header
        self.body = body
    }

    /// Header, body and check code, unescaped. The body must fit one frame (`maxBodyBytes`);
    /// `JT808Message.frames` sub-packages longer ones.
    public var content: [UInt8] {
        precondition(body.count <= JT808Header.maxBodyBytes, "JT/T 808 body of \(body.count) bytes must be sub-packaged")
        var out = WireWriter()
        out.uint16(header.messageID)
        var properties = UInt16(body.count) | UInt16(header.encryption & 0x07) << 10
        if header.package != nil { properties |= 1 << 13 }
        if header.revision == .v2019 { properties |= 1 << 14 }
        out.uint16(properties)
        if header.revision == .v2019 { out.byte(header.protocolVersion) }
        out.raw(BCD.encode(header.phone, bytes: header.revision.phoneBytes))
        out.uint16(header.serial)
        if let package = header.package {
            out.uint16(package.total)
            out.uint16(package.index)
        }
        out.raw(body)
        out.byte(JT808Framing.checkCode(out.bytes))
        return out.bytes
    }

    /// The frame escaped between two 0x7E flags.
    public var wire: [UInt8] { JT808Framing.wrap(content) }

    /// A frame as received, and whether its check code matched (a technician's decoder shows a
    /// frame with a wrong check code; a listener refuses it).
    public struct Parsed: Sendable, Equatable {
        public var frame: JT808Frame
        public var checkCode: UInt8
        public var checkCodeValid: Bool
    }

    /// Parses an escaped frame (with or without its flags). Errors name the field and its offset
    /// in the unescaped content; the check code is reported, not enforced (see `decode`).
    public static func parse(_ frame: some Collection<UInt8>) throws(WireError) -> Parsed {
        let content = try JT808Framing.unwrap(frame)
        guard content.count >= 13 else {
            throw WireError(field: "header", offset: 0, message: "frame of \(content.count) bytes is shorter than a header and check code (13)")
        }
        var reader = WireReader(Array(content.dropLast()))
        let messageID = try reader.uint16("header.message_id")
        let properties = try reader.uint16("header.properties")
        let revision: JT808Revision = properties & (1 << 14) != 0 ? .v2019 : .v2013
        let protocolVersion = revision == .v2019 ? try reader.byte("header.protocol_version") : 1
        let phone = BCD.decode(try reader.raw(revision.phoneBytes, "header.phone"))
        let serial = try reader.uint16("header.serial")
        var package: JT808Package?
        if properties & (1 << 13) != 0 {
            let totalAt = reader.offset
            let total = try reader.uint16("header.package_total")
            let index = try reader.uint16("header.package_index")
            guard total >= 1, (1...total).contains(index) else {
                throw reader.failure("header.package_index", "package \(index) of \(total) (must count from 1 to the total)", at: totalAt)
            }
            package = JT808Package(total: total, index: index)
        }
        let declared = Int(properties & 0x03FF)
        guard declared == reader.remainingCount else {
            throw reader.failure("header.properties.body_length",
                                 "says \(declared) body bytes, the frame holds \(reader.remainingCount)", at: 2)
        }
        let body = Array(try reader.raw(declared, "body"))
        let header = JT808Header(messageID: messageID, revision: revision, protocolVersion: protocolVersion, phone: phone,
                                 serial: serial, encryption: UInt8(truncatingIfNeeded: properties >> 10) & 0x07, package: package)
        let received = content[content.count - 1]
        return Parsed(frame: JT808Frame(header: header, body: body), checkCode: received,
                      checkCodeValid: received == JT808Framing.checkCode(content.dropLast()))
    }

    /// Parses a frame and refuses one whose check code does not match, naming both codes.
    public static func decode(_ frame: some Collection<UInt8>) throws(WireError) -> JT808Frame {
        let parsed = try parse(frame)
        guard parsed.checkCodeValid else {
            let content = try JT808Framing.unwrap(frame)
            throw WireError(field: "check_code", offset: content.count - 1,
                            message: "is \(Hex.encode([parsed.checkCode])), the XOR of header and body is \(Hex.encode([JT808Framing.checkCode(content.dropLast())]))")
        }
        return parsed.frame
    }
}

/// Packed BCD, two decimal digits a byte, as the standard writes phone numbers and times.
enum BCD {
    /// `digits` right-aligned in `bytes` bytes (zeros in front); characters that are not digits
    /// count as 0, callers check their text first (`JT808Header.normalisedPhone`).
    static func encode(_ digits: String, bytes count: Int) -> [UInt8] {
        var values = digits.utf8.map { (48...57).contains($0) ? $0 - 48 : ((97...102).contains($0) ? $0 - 87 : 0) }
        if values.count > count * 2 { values = Array(values.suffix(count * 2)) }
        values.insert(contentsOf: repeatElement(0, count: count * 2 - values.count), at: 0)
        return (0..<count).map { values[2 * $0] << 4 | values[2 * $0 + 1] }
    }

    /// The nibbles as digits; a nibble above 9 (some terminals put hex in their number) shows as
    /// a–f so the number still identifies the terminal and encodes back to the same bytes.
    static func decode(_ bytes: some Collection<UInt8>) -> String {
        Hex.encode(bytes)
    }

    /// Two BCD digits as their value, or nil when a nibble is above 9.
    static func value(_ byte: UInt8) -> Int? {
        let high = byte >> 4, low = byte & 0x0F
        guard high <= 9, low <= 9 else { return nil }
        return Int(high) * 10 + Int(low)
    }

    static func byte(_ value: Int) -> UInt8 {
        UInt8(value / 10 % 10) << 4 | UInt8(value % 10)
    }
}

extension WireWriter {
    /// Big-endian WORD, as JT/T 808 writes every multi-byte number.
    mutating func uint16(_ value: UInt16) {
        byte(UInt8(truncatingIfNeeded: value >> 8))
        byte(UInt8(truncatingIfNeeded: value))
    }

    /// Big-endian DWORD.
    mutating func uint32(_ value: UInt32) {
        uint16(UInt16(truncatingIfNeeded: value >> 16))
        uint16(UInt16(truncatingIfNeeded: value))
    }
}

extension WireReader {
    mutating func uint16(_ field: @autoclosure () -> String) throws(WireError) -> UInt16 {
        let bytes = try raw(2, field())
        return UInt16(bytes[bytes.startIndex]) << 8 | UInt16(bytes[bytes.startIndex + 1])
    }

    mutating func uint32(_ field: @autoclosure () -> String) throws(WireError) -> UInt32 {
        let high = try uint16(field())
        return UInt32(high) << 16 | UInt32(try uint16(field()))
    }

    /// Everything left, for the trailing field of a body.
    mutating func rest(_ field: @autoclosure () -> String) throws(WireError) -> [UInt8] {
        Array(try raw(remainingCount, field()))
    }
}
