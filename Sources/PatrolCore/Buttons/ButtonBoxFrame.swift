/// One message of the button box line protocol (see `Board/button-box-protocol.md`).
public enum ButtonBoxMessage: Sendable, Equatable {
    // Box to agent.
    /// Sent once after boot and in answer to ``query``. The uptime tells a boot from an answer.
    /// A PLBX 2 box adds its `offer` (6 fields); a protocol 1 box sends 3 fields.
    case hello(boxID: String, firmware: String, uptimeSeconds: Int64, offer: ButtonBoxOffer? = nil)
    /// Sent every second; `buttonsDown` lets the agent recover a lost down or up frame (protocol
    /// 1). A PLBX 2 box adds `lastPress`, the highest press number it has assigned (0: none).
    case heartbeat(uptimeSeconds: Int64, buttonsDown: Set<Int>, lastPress: UInt32? = nil)
    // Protocol 1 only.
    case buttonDown(button: Int)
    case buttonUp(button: Int)
    // PLBX 2 only: the box's numbered press, with the box's own times.
    /// The contact of `button` closed `ageMilliseconds` ago and is still closed; repeated every
    /// second while held.
    case pressDown(button: Int, press: UInt32, ageMilliseconds: Int64)
    /// The contact opened after `heldMilliseconds`; repeated until ``stored(press:)``.
    /// `afterReset`: the box was reset while the press was held, and `heldMilliseconds` is the
    /// last hold time it had persisted, a lower bound.
    case pressUp(button: Int, press: UInt32, heldMilliseconds: Int64, afterReset: Bool = false)
    // Agent to box.
    /// Confirms a box frame by its sequence number; the box repeats down/up frames until confirmed.
    /// In PLBX 2 only ``hello`` is acked.
    case ack(sequence: UInt16)
    /// Tells a box that offered PLBX 2 to speak it (after the ack of its hello), until it reboots.
    case speakProtocol(version: Int)
    /// PLBX 2: everything press `press` produced, and its end, is committed in the agent's store;
    /// the box forgets it. Sent again for every repeat of a finished press.
    case stored(press: UInt32)
    case led(index: Int, pattern: IndicatorPattern)
    case buzzer(pattern: IndicatorPattern)
    /// Asks the box to send ``hello``.
    case query
}

/// What a PLBX 2 box says about itself in its 6-field hello.
public struct ButtonBoxOffer: Sendable, Equatable {
    /// The highest protocol version the box speaks (2 for PLBX 2).
    public var highestProtocol: Int
    /// Chosen when the box's EEPROM was first initialised; with the press number it names a press.
    public var incarnation: UInt32

    public init(highestProtocol: Int, incarnation: UInt32) {
        self.highestProtocol = highestProtocol
        self.incarnation = incarnation
    }
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
        guard digits.count == 2, digits.allSatisfy(isHexDigit) else { return nil }
        return UInt8(String(decoding: digits, as: UTF8.self), radix: 16)
    }

    static func isHexDigit(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x66)
    }
}

extension ButtonBoxMessage {
    /// The type token and fields after the sequence number.
    var fields: [String] {
        switch self {
        case .hello(let boxID, let firmware, let uptime, let offer):
            ["HELLO", boxID, firmware, String(uptime)]
                + (offer.map { [String($0.highestProtocol), PressKey.hex($0.incarnation)] } ?? [])
        case .heartbeat(let uptime, let down, let lastPress):
            ["HB", String(uptime), String(Self.mask(of: down), radix: 16, uppercase: true)] + (lastPress.map { [String($0)] } ?? [])
        case .buttonDown(let button): ["DOWN", String(button)]
        case .buttonUp(let button): ["UP", String(button)]
        case .pressDown(let button, let press, let age): ["DOWN", String(button), String(press), String(age)]
        case .pressUp(let button, let press, let held, let afterReset):
            ["UP", String(button), String(press), String(held)] + (afterReset ? ["R"] : [])
        case .ack(let sequence): ["ACK", String(sequence)]
        case .speakProtocol(let version): ["PROTO", String(version)]
        case .stored(let press): ["STORED", String(press)]
        case .led(let index, let pattern): ["LED", String(index), pattern.rawValue]
        case .buzzer(let pattern): ["BUZ", pattern.rawValue]
        case .query: ["QUERY"]
        }
    }

    init?(type: String, fields: ArraySlice<String>) {
        let f = Array(fields)
        switch (type, f.count) {
        case ("HELLO", 3), ("HELLO", 5):
            guard !f[0].isEmpty, let uptime = Int64(f[2]), uptime >= 0 else { return nil }
            var offer: ButtonBoxOffer?
            if f.count == 5 {
                guard let highest = Self.unsigned32(f[3]).map(Int.init), Self.protocolVersions.contains(highest),
                      let incarnation = PressKey.incarnation(fromHex: f[4]) else { return nil }
                offer = ButtonBoxOffer(highestProtocol: highest, incarnation: incarnation)
            }
            self = .hello(boxID: f[0], firmware: f[1], uptimeSeconds: uptime, offer: offer)
        case ("HB", 2), ("HB", 3):
            guard let uptime = Int64(f[0]), uptime >= 0, let mask = UInt16(f[1], radix: 16) else { return nil }
            var lastPress: UInt32?
            if f.count == 3 {
                guard let number = Self.unsigned32(f[2]) else { return nil }
                lastPress = number
            }
            self = .heartbeat(uptimeSeconds: uptime, buttonsDown: Self.buttons(inMask: mask), lastPress: lastPress)
        case ("DOWN", 1):
            guard let button = Self.button(f[0]) else { return nil }
            self = .buttonDown(button: button)
        case ("UP", 1):
            guard let button = Self.button(f[0]) else { return nil }
            self = .buttonUp(button: button)
        case ("DOWN", 3):
            guard let button = Self.button(f[0]), let press = Self.press(f[1]), let age = Self.duration(f[2]) else { return nil }
            self = .pressDown(button: button, press: press, ageMilliseconds: age)
        case ("UP", 3), ("UP", 4):
            guard let button = Self.button(f[0]), let press = Self.press(f[1]), let held = Self.duration(f[2]),
                  f.count == 3 || f[3] == "R" else { return nil }
            self = .pressUp(button: button, press: press, heldMilliseconds: held, afterReset: f.count == 4)
        case ("PROTO", 1):
            guard let version = Self.unsigned32(f[0]).map(Int.init), Self.protocolVersions.contains(version) else { return nil }
            self = .speakProtocol(version: version)
        case ("STORED", 1):
            guard let press = Self.press(f[0]) else { return nil }
            self = .stored(press: press)
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

    /// Protocol versions a frame may name; a later box may offer more than this agent speaks.
    static let protocolVersions = 1...99

    /// A press number: 1…4294967295 (0 is "no press" in a heartbeat only).
    private static func press(_ field: String) -> UInt32? {
        guard let press = unsigned32(field), press > 0 else { return nil }
        return press
    }

    /// A box duration in ms: the box counts them in 32 bits, so a larger value is corrupt; the
    /// bound also keeps the agent's time arithmetic on them far from overflow.
    private static func duration(_ field: String) -> Int64? {
        unsigned32(field).map(Int64.init)
    }

    /// Decimal digits only, at most 4294967295: no sign, no spaces (`UInt32(_:)` takes a `+`).
    private static func unsigned32(_ field: String) -> UInt32? {
        guard !field.isEmpty, field.utf8.count <= 10, field.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return UInt32(field)
    }

    private static func mask(of buttons: Set<Int>) -> UInt16 {
        buttons.filter(ButtonBoxFrame.buttonNumbers.contains).reduce(0) { $0 | 1 << ($1 - 1) }
    }

    private static func buttons(inMask mask: UInt16) -> Set<Int> {
        Set(ButtonBoxFrame.buttonNumbers.filter { mask & 1 << ($0 - 1) != 0 })
    }
}
