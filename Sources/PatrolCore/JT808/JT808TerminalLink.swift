/// One terminal's connection to a platform, as the platform sees it, without I/O: bytes in,
/// messages and refusals out (one at a time, `next()`), each refusal with the 0x8001 answer the
/// standard asks for.
///
/// The centre's listener owns one per TCP connection and does the storage work; everything that
/// decides what a received byte means is here, so the fuzz target `jt808` can drive it with
/// arbitrary streams. Memory is bounded by the splitter's frame limit whatever a peer sends.
public struct JT808TerminalLink: Sendable {
    /// Why a frame was refused: the keys of `refusals`, and of the listener's counts.
    public enum Problem: String, Sendable, CaseIterable {
        /// Check code does not match the XOR of header and body (answered result 1: send again).
        case checkCode = "check_code"
        /// A 0x7D escape other than 7D 01 / 7D 02, or a flag inside a frame (not answered: the
        /// header cannot be trusted).
        case escape
        /// Shorter than a header, or a body length that does not match the frame (answered result 1
        /// when the header's id and serial could be read).
        case length
        /// A frame longer than the largest the standard allows (skipped whole, not answered).
        case oversized
        /// A message id a terminal does not send, a sub-packaged or encrypted message (result 3).
        case unknownMessage = "unknown_message"
        /// A known message whose body does not decode (result 2: it will not get better if resent).
        case body
        /// Data before the terminal authenticated on this connection (result 1).
        case unauthenticated
        /// A frame carrying another terminal's phone than the one that authenticated (result 1).
        case foreignPhone = "foreign_phone"
    }

    /// What the link made of received bytes, in stream order.
    public enum Item: Sendable, Equatable {
        /// A message for the platform to act on (registration, authentication, heartbeat, reports,
        /// general responses to its commands, logout).
        case message(JT808Header, JT808Message)
        /// A refused frame, the answer to send (nil when no id and serial could be read), and why.
        case refused(Problem, answer: [UInt8]?, detail: String)
    }

    /// The phone number (leading zeros dropped, see `canonicalPhone`) that authenticated on this
    /// connection; frames with another number are refused from then on.
    public private(set) var boundPhone: String?
    /// Refusals so far on this connection, by problem.
    public private(set) var refusals: [Problem: Int] = [:]
    private var splitter: JT808FrameSplitter
    /// Frames received and not yet read by `next()` (from `unread` on): at most one read's worth.
    private var pieces: [JT808FrameSplitter.Piece] = []
    private var unread = 0
    private var serial: UInt16 = 0

    /// Message ids a terminal sends that the platform acts on; others are refused as unknown.
    static let accepted: Set<UInt16> = [0x0001, 0x0002, 0x0003, 0x0100, 0x0102, 0x0200, 0x0704]
    /// Accepted before authentication: registration, authentication, logout.
    static let beforeAuthentication: Set<UInt16> = [0x0003, 0x0100, 0x0102]

    public init(maxFrameBytes: Int = JT808FrameSplitter.defaultMaxFrameBytes) {
        splitter = JT808FrameSplitter(maxFrameBytes: maxFrameBytes)
    }

    /// A phone number as the platform keys terminals: BCD digits without leading zeros, so the
    /// same terminal is one key in 2013 (6 bytes) and 2019 (10 bytes) headers. Nil for no digits.
    public static func canonicalPhone(_ digits: String) -> String? {
        let trimmed = digits.drop { $0 == "0" }
        return trimmed.isEmpty ? nil : String(trimmed)
    }

    /// Binds the connection to the terminal that authenticated (its frame's phone).
    public mutating func bind(phone: String) {
        boundPhone = Self.canonicalPhone(phone)
    }

    /// The serial number the next message the platform sends will carry.
    public var upcomingSerial: UInt16 { serial }

    /// The next serial number for a message the platform sends (wrapping, as the standard says).
    private mutating func nextSerial() -> UInt16 {
        defer { serial &+= 1 }
        return serial
    }

    /// `message` framed to the terminal of `header` (same phone and revision) with the next serial.
    public mutating func frame(_ message: JT808Message, to header: JT808Header) -> [UInt8] {
        message.frames(phone: header.phone, revision: header.revision, serial: nextSerial()).flatMap(\.wire)
    }

    /// The general response 0x8001 to the frame of `header`.
    public mutating func answer(_ header: JT808Header, result: UInt8) -> [UInt8] {
        frame(.platformResponse(JT808Response(serial: header.serial, messageID: header.messageID, result: result)), to: header)
    }

    /// Takes `bytes` from the stream; a frame may span calls. Read what they hold with `next()`.
    public mutating func receive(_ bytes: some Sequence<UInt8>) {
        if unread == pieces.count {
            pieces.removeAll(keepingCapacity: true)
            unread = 0
        }
        pieces += splitter.push(bytes)
    }

    /// The next received frame, checked and decoded, or nil when all were read.
    ///
    /// One at a time, so a frame is judged after the platform acted on the frames before it: a
    /// terminal that sends its authentication and its first reports in one TCP segment has them
    /// accepted once the authentication bound the connection, and a second authentication in the
    /// same segment is checked against that binding.
    public mutating func next() -> Item? {
        guard unread < pieces.count else { return nil }
        defer { unread += 1 }
        switch pieces[unread] {
        case .oversized(let dropped):
            return refuse(.oversized, nil, "frame of more than \(splitter.maxFrameBytes) bytes (\(dropped) dropped)")
        case .frame(let bytes):
            return item(bytes)
        }
    }

    private mutating func item(_ bytes: [UInt8]) -> Item {
        let parsed: JT808Frame.Parsed
        do { parsed = try JT808Frame.parse(bytes) } catch {
            guard error.field != "frame" else { return refuse(.escape, nil, error.description) }
            let header = Self.readableHeader(bytes)
            return refuse(.length, header, error.description, result: JT808Response.failure)
        }
        let header = parsed.frame.header
        guard parsed.checkCodeValid else {
            return refuse(.checkCode, header, "check code \(Hex.encode([parsed.checkCode])) does not match", result: JT808Response.failure)
        }
        if let boundPhone, Self.canonicalPhone(header.phone) != boundPhone {
            return refuse(.foreignPhone, header, "phone \(header.phone) on the connection of \(boundPhone)", result: JT808Response.failure)
        }
        guard Self.accepted.contains(header.messageID), header.package == nil, header.encryption == 0 else {
            let what = header.package != nil ? "sub-packaged message" : header.encryption != 0 ? "encrypted message" : "message"
            return refuse(.unknownMessage, header, "\(what) \(JT808JSON.name(header.messageID)) not supported", result: JT808Response.unsupported)
        }
        guard boundPhone != nil || Self.beforeAuthentication.contains(header.messageID) else {
            return refuse(.unauthenticated, header, "\(JT808JSON.name(header.messageID)) before authentication", result: JT808Response.failure)
        }
        do {
            return .message(header, try JT808Message.decode(parsed.frame))
        } catch {
            return refuse(.body, header, error.description, result: JT808Response.wrongMessage)
        }
    }

    private mutating func refuse(_ problem: Problem, _ header: JT808Header?, _ detail: String, result: UInt8 = 0) -> Item {
        refusals[problem, default: 0] &+= 1
        return .refused(problem, answer: header.map { answer($0, result: result) }, detail: detail)
    }

    /// The message id, phone and serial of a frame whose length is wrong, when its escapes are
    /// right and it is long enough to hold them: enough to address a 0x8001 to it.
    static func readableHeader(_ bytes: [UInt8]) -> JT808Header? {
        guard let content = try? JT808Framing.unwrap(bytes), content.count >= 4 else { return nil }
        let revision: JT808Revision = content[2] & 0x40 != 0 ? .v2019 : .v2013
        let phoneAt = revision == .v2019 ? 5 : 4
        let serialAt = phoneAt + revision.phoneBytes
        guard content.count >= serialAt + 2 else { return nil }
        return JT808Header(messageID: UInt16(content[0]) << 8 | UInt16(content[1]), revision: revision,
                           phone: Hex.encode(content[phoneAt..<serialAt]),
                           serial: UInt16(content[serialAt]) << 8 | UInt16(content[serialAt + 1]))
    }
}
