import PatrolCore

/// A JT/T 808 terminal written from the standard for tests of the centre's listener: it sends
/// exactly the frames a test builds (good, damaged, another terminal's) over a real TCP connection
/// and reads the platform's answers with PatrolCore's codec.
public final class JT808TestTerminal: @unchecked Sendable {
    public let phone: String
    public let revision: JT808Revision
    public let connection: RawHTTPConnection
    private var splitter = JT808FrameSplitter()
    private var pending: [JT808Frame] = []
    private var serial: UInt16 = 0

    public init(port: Int, phone: String = "013912345678", revision: JT808Revision = .v2013, timeout: Double = 5) throws {
        self.phone = phone
        self.revision = revision
        connection = try RawHTTPConnection(port: port, timeout: timeout)
    }

    /// Sends `message` from this terminal (or as `phone`), returning the serial it carried.
    @discardableResult
    public func send(_ message: JT808Message, phone: String? = nil) -> UInt16 {
        defer { serial &+= 1 }
        connection.send(message.frames(phone: phone ?? self.phone, revision: revision, serial: serial).flatMap(\.wire))
        return serial
    }

    /// The next frame from the platform, nil when none came within the timeout or the connection closed.
    public func next() async -> (header: JT808Header, message: JT808Message)? {
        while pending.isEmpty {
            guard let bytes = await connection.readBytes() else { return nil }
            for case .frame(let frame) in splitter.push(bytes) {
                if let decoded = try? JT808Frame.decode(frame) { pending.append(decoded) }
            }
        }
        let frame = pending.removeFirst()
        return (frame.header, (try? JT808Message.decode(frame)) ?? .other(id: frame.header.messageID, body: frame.body))
    }

    /// The next 0x8001 answer's result for the message of `serial`, skipping other frames.
    public func result(for serial: UInt16) async -> UInt8? {
        while let (_, message) = await next() {
            if case .platformResponse(let response) = message, response.serial == serial { return response.result }
        }
        return nil
    }

    /// Registers and authenticates with the code the platform hands out; the code, or nil when refused.
    @discardableResult
    public func registerAndAuthenticate() async -> [UInt8]? {
        let serial = send(.register(JT808Registration(layout: revision == .v2019 ? .v2019 : .v2013, province: 44, city: 300,
                                                      maker: "TEST", model: "terminal", terminalID: "T1", plateColour: 1, plate: "B-T 1")))
        while let (_, message) = await next() {
            guard case .registerResponse(let answer) = message, answer.serial == serial else { continue }
            guard answer.result == 0 else { return nil }
            let authentication = send(.authenticate(JT808Authentication(code: answer.authCode)))
            return await result(for: authentication) == 0 ? answer.authCode.bytes : nil
        }
        return nil
    }
}
