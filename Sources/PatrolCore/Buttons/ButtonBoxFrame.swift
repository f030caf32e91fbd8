/// One message of the button box line protocol (see `Board/button-box-protocol.md`).
public enum ButtonBoxMessage: Sendable, Equatable {
    // Box to agent.
    /// Sent once after boot and in answer to ``query``. The uptime tells a boot from an answer.
    case hello(boxID: String, firmware: String, uptimeSeconds: Int64)
    /// Sent every second; `buttonsDown` lets the agent recover a lost down or up frame.
    case heartbeat(uptimeSeconds: Int64, buttonsDown: Set<Int>)
    case buttonDown(button: Int)
    case buttonUp(button: Int)
    // Agent to box.
    /// Confirms a box frame by its sequence number; the box repeats down/up frames until confirmed.
    case ack(sequence: UInt16)
    case led(index: Int, pattern: IndicatorPattern)
    case buzzer(pattern: IndicatorPattern)
    /// Asks the box to send ``hello``.
    case query
}

/// A framed, checksummed button box message: `$PLBX,<seq>,<TYPE>[,<field>…]*<CS>\r\n`.
///
/// NMEA-like so that a technician can read it in a terminal. Each side numbers its own frames
/// 0…65535 (wrapping); a repeated frame keeps its number, which is what makes a repeated down
/// frame recognisable as the same press.
public struct ButtonBoxFrame: Sendable, Equatable {
    /// Buttons are numbered 1…16, the bits of the heartbeat's down mask.
    public static let buttonNumbers = 1...16
    static let talker = "PLBX"

    public var sequence: UInt16
    public var message: ButtonBoxMessage

    public init(sequence: UInt16, message: ButtonBoxMessage) {
        self.sequence = sequence
        self.message = message
    }

    /// The frame as sent on the wire, terminated by CR LF.
    public var line: String {
        let body = ([Self.talker, String(sequence)] + message.fields).joined(separator: ",")
        return "$" + body + "*" + Self.hex(Self.checksum(body.utf8)) + "\r\n"
    }

    /// Decodes one line (without its terminator); nil when it is corrupt, malformed or unknown.
    ///
    /// Bytes before the last `$` are dropped: line noise in front of a frame is common when the
    /// box powers up.
    public init?(line: some Collection<UInt8>) {
        let bytes = Array(line)
        guard let dollar = bytes.lastIndex(of: UInt8(ascii: "$")),
              let star = bytes.lastIndex(of: UInt8(ascii: "*")), star > dollar, bytes.count == star + 3,
              let sent = Self.byte(fromHex: bytes[(star + 1)...]) else { return nil }
        let body = bytes[(dollar + 1)..<star]
        guard Self.checksum(body) == sent else { return nil }
        let fields = body.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
        guard fields.count >= 3, fields[0] == Self.talker, let sequence = UInt16(fields[1]),
              let message = ButtonBoxMessage(type: fields[2], fields: fields[3...]) else { return nil }
        self.init(sequence: sequence, message: message)
    }

    /// XOR of the bytes between `$` and `*`, as in NMEA 0183.
    static func checksum(_ bytes: some Sequence<UInt8>) -> UInt8 {
        bytes.reduce(0, ^)
    }

    static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
    }

    /// Two hex digits, either case; nothing else (`UInt8(_:radix:)` would also take a sign).
    static func byte(fromHex digits: some Collection<UInt8>) -> UInt8? {
        guard digits.count == 2, digits.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x66) })
        else { return nil }
        return UInt8(String(decoding: digits, as: UTF8.self), radix: 16)
    }
}

extension ButtonBoxMessage {
    /// The type token and fields after the sequence number.
    var fields: [String] {
        switch self {
        case .hello(let boxID, let firmware, let uptime): ["HELLO", boxID, firmware, String(uptime)]
        case .heartbeat(let uptime, let down): ["HB", String(uptime), String(Self.mask(of: down), radix: 16, uppercase: true)]
        case .buttonDown(let button): ["DOWN", String(button)]
        case .buttonUp(let button): ["UP", String(button)]
        case .ack(let sequence): ["ACK", String(sequence)]
        case .led(let index, let pattern): ["LED", String(index), pattern.rawValue]
        case .buzzer(let pattern): ["BUZ", pattern.rawValue]
        case .query: ["QUERY"]
        }
    }

    init?(type: String, fields: ArraySlice<String>) {
        let f = Array(fields)
        switch (type, f.count) {
        case ("HELLO", 3):
            guard !f[0].isEmpty, let uptime = Int64(f[2]), uptime >= 0 else { return nil }
            self = .hello(boxID: f[0], firmware: f[1], uptimeSeconds: uptime)
        case ("HB", 2):
            guard let uptime = Int64(f[0]), uptime >= 0, let mask = UInt16(f[1], radix: 16) else { return nil }
            self = .heartbeat(uptimeSeconds: uptime, buttonsDown: Self.buttons(inMask: mask))
        case ("DOWN", 1):
            guard let button = Self.button(f[0]) else { return nil }
            self = .buttonDown(button: button)
        case ("UP", 1):
            guard let button = Self.button(f[0]) else { return nil }
            self = .buttonUp(button: button)
        case ("ACK", 1):
            guard let sequence = UInt16(f[0]) else { return nil }
            self = .ack(sequence: sequence)
        case ("LED", 2):
            guard let index = Int(f[0]), index >= 1, let pattern = IndicatorPattern(rawValue: f[1]) else { return nil }
            self = .led(index: index, pattern: pattern)
        case ("BUZ", 1):
            guard let pattern = IndicatorPattern(rawValue: f[0]) else { return nil }
            self = .buzzer(pattern: pattern)
        case ("QUERY", 0):
            self = .query
        default:
            return nil
        }
    }

    private static func button(_ field: String) -> Int? {
        guard let button = Int(field), ButtonBoxFrame.buttonNumbers.contains(button) else { return nil }
        return button
    }

    private static func mask(of buttons: Set<Int>) -> UInt16 {
        buttons.filter(ButtonBoxFrame.buttonNumbers.contains).reduce(0) { $0 | 1 << ($1 - 1) }
    }

    private static func buttons(inMask mask: UInt16) -> Set<Int> {
        Set(ButtonBoxFrame.buttonNumbers.filter { mask & 1 << ($0 - 1) != 0 })
    }
}
