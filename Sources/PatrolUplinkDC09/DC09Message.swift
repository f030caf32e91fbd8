import PatrolCore

/// Who the messages are from and how they are written: the account and its routing fields, the
/// token, and the key when the receiver expects encryption. One per output.
public struct DC09Account: Sendable, Equatable {
    /// The account number the receiver knows the site by: 3–16 hex digits (upper case on the wire).
    public var number: String
    /// Receiver number `R…` (1–6 hex digits), sent only when set.
    public var receiver: String?
    /// Line number `L…` (1–6 hex digits); always sent, since some receivers refuse blocks without it.
    public var line: String
    public var token: Token
    /// The partition (SIA `ri`, Contact ID group), 0–99.
    public var partition: Int
    public var zones: DC09Zones
    public var key: DC09Key?

    /// The two event formats the standard carries.
    public enum Token: String, Sendable, CaseIterable {
        /// SIA DC-03 event codes (`PA`, `HA`, …), with extended data (position, time of occurrence).
        case sia = "SIA-DCS"
        /// Ademco Contact ID (DC-05), 1 120 01 001. Sent without extended data: receivers that
        /// read Contact ID (pysiaalarm among them) refuse more than one extended block with it.
        case contactID = "ADM-CID"
    }

    public init(number: String, receiver: String? = nil, line: String = "0", token: Token = .sia, partition: Int = 1,
                zones: DC09Zones = DC09Zones(), key: DC09Key? = nil) {
        self.number = number.uppercased()
        self.receiver = receiver?.uppercased()
        self.line = line.uppercased()
        self.token = token
        self.partition = partition
        self.zones = zones
        self.key = key
    }

    /// The header between sequence and data: `R…L…#…`.
    var header: String {
        (receiver.map { "R" + $0 } ?? "") + "L" + line + "#" + number
    }
}

/// One message to the receiver before it is framed: an event report or a NULL (link test).
public struct DC09Message: Sendable, Equatable {
    public var token: String
    /// The data block without its brackets: `#acct|Nri1/PA001`, `#acct|1120 01 001`, or empty for NULL.
    public var data: String
    /// Extended data blocks without their brackets, e.g. `X13.404954`.
    public var extended: [String]

    /// The report of `event` from `account`.
    public init(event: PatrolEvent, account: DC09Account) {
        let code = DC09EventCode(event.kind)
        let zone = min(account.zones.zone(of: DC09Zones.id(of: event)), DC09Zones.range.upperBound)
        let partition = min(max(account.partition, 0), 99)
        switch account.token {
        case .sia:
            token = DC09Account.Token.sia.rawValue
            data = "#\(account.number)|Nri\(partition)/\(code.sia)\(Self.digits(zone, 3))"
            var extended: [String] = []
            if let coordinate = event.position.coordinate {
                extended.append("X" + FixedDecimal.format(coordinate.longitude, decimals: 6))
                extended.append("Y" + FixedDecimal.format(coordinate.latitude, decimals: 6))
            }
            // The frame's timestamp is when it is sent; an alarm delivered after an outage says when it happened.
            extended.append("H" + DC09Timestamp.clock(event.time.utc))
            self.extended = extended
        case .contactID:
            token = DC09Account.Token.contactID.rawValue
            data = "#\(account.number)|\(code.qualifier)\(Self.digits(code.contactID, 3)) \(Self.digits(partition, 2)) \(Self.digits(zone, 3))"
            extended = []
        }
    }

    /// The link test: "I am here", answered like any message.
    public static let null = DC09Message(token: "NULL", data: "", extended: [])

    init(token: String, data: String, extended: [String]) {
        self.token = token
        self.data = data
        self.extended = extended
    }

    /// The framed message, timestamped `time` (the receiver's clock, as far as the sender knows it).
    ///
    /// Encrypted, the plaintext is `<pad>|<data>]<extended>_<timestamp>`: 1–16 random pad characters
    /// (printable, never `|`, `[` or `]`, as the standard asks) fill it to whole AES blocks. A NULL has
    /// no data and so no `|` after its pad.
    /// - Parameter pad: `count` pad characters; random in production, fixed in tests of worked examples.
    public func frame(sequence: Int, account: DC09Account, time: UTCTime,
                      pad: (Int) -> String = DC09Message.randomPad) -> DC09Frame {
        let afterData = "]" + extended.map { "[" + $0 + "]" }.joined() + DC09Timestamp.format(time)
        let body: String
        if let key = account.key {
            let clear = (data.isEmpty ? "" : "|" + data) + afterData
            let padCount = DC09Cipher.blockSize - clear.utf8.count % DC09Cipher.blockSize
            body = DC09Cipher.encrypt(Array((pad(padCount) + clear).utf8), key: key)
        } else {
            body = data + afterData
        }
        return DC09Frame(token: token, encrypted: account.key != nil, sequence: Self.digits(sequence, 4), header: account.header, body: body)
    }

    /// Random printable ASCII, never `|`, `[` or `]`.
    public static func randomPad(_ count: Int) -> String {
        let allowed = (0x21...0x7E).filter { ![0x7C, 0x5B, 0x5D].contains($0) }.map { Character(Unicode.Scalar(UInt8($0))) }
        var random = SystemRandomNumberGenerator()
        return String((0..<count).map { _ in allowed.randomElement(using: &random)! })
    }

    static func digits(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }
}
