import Logging
import NIOCore
import PatrolCentre
import PatrolCore

/// One terminal's TCP connection: `JT808TerminalLink` turns its bytes into messages and refusals;
/// this actor does what each message asks of the centre's storage and answers only after it.
///
/// Registration (0x0100) of a phone that `devices add --jt808` registered hands out a new
/// authentication code (stored, answered with 0x8100 result 0); an unknown or revoked phone gets
/// result 4 ("no such terminal") and nothing is stored. Authentication (0x0102) with the stored
/// code binds the connection to that phone. Reports (0x0200, 0x0704) and heartbeats (0x0002) are
/// committed before their 0x8001; a storage failure is answered with result 1, so the terminal
/// sends them again. Downlink messages for the device (an acknowledged alarm) go out as 0x8203
/// and are forgotten when the terminal answers it with 0x0001.
actor JT808TerminalConnection {
    private let listener: JT808Listener
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private let peer: String
    private let connectionID: Int
    private let wake: AsyncStream<Void>.Continuation
    private var link = JT808TerminalLink()
    /// The device and header (phone, revision) of the terminal that authenticated here.
    private var terminal: (device: String, header: JT808Header)?
    /// 0x8203 sent on this connection, by its serial: the downlink message it carries.
    private var sentConfirmations: [UInt16: Int64] = [:]

    init(listener: JT808Listener, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, peer: String, connectionID: Int,
         wake: AsyncStream<Void>.Continuation) {
        self.listener = listener
        self.outbound = outbound
        self.peer = peer
        self.connectionID = connectionID
        self.wake = wake
    }

    private var storage: any TerminalStorage { listener.storage }

    /// Handles `buffer`, frame by frame; false when the connection should close (logout).
    func received(_ buffer: ByteBuffer) async throws -> Bool {
        link.receive(buffer.readableBytesView)
        while let item = link.next() {
            switch item {
            case .refused(let problem, let answer, let detail):
                listener.refused(problem, detail: detail, peer: peer)
                if let answer { try await send(answer) }
            case .message(let header, let message):
                guard try await handle(message, header) else { return false }
            }
        }
        return true
    }

    private func handle(_ message: JT808Message, _ header: JT808Header) async throws -> Bool {
        let phone = JT808TerminalLink.canonicalPhone(header.phone) ?? header.phone
        switch message {
        case .register:
            try await register(phone: phone, header)
        case .authenticate(let authentication):
            try await authenticate(phone: phone, code: authentication.code.bytes, header)
        case .heartbeat:
            try await ingest([], header)
        case .position(let position):
            try await ingest([position], header)
        case .positionBatch(let batch):
            try await ingest(batch.positions, header)
        case .terminalResponse(let response):
            try await confirmed(response)
        case .other(0x0003, _):
            try await send(link.answer(header, result: JT808Response.success))
            return false
        default:
            try await send(link.answer(header, result: JT808Response.unsupported))
        }
        return true
    }

    private func register(phone: String, _ header: JT808Header) async throws {
        guard try await storage.terminalDevice(phone: phone) != nil else {
            listener.refusedTerminal("registration of unknown terminal \(RefusalLog.quoted(header.phone)) from \(peer) refused "
                                     + "(register it with `patrol-centre devices add ID --jt808 \(RefusalLog.quoted(phone))`)",
                                     reason: "unknown-terminal")
            return try await send(link.frame(.registerResponse(JT808RegistrationResponse(
                serial: header.serial, result: Self.noSuchTerminal, authCode: "")), to: header))
        }
        // A terminal that registers again lost its code (or was reset): it gets a new one, and the old one stops working.
        let code = Array(Hex.encode(Secrets.randomBytes(count: 8)).utf8)
        try await storage.setTerminalAuthCode(code, phone: phone)
        listener.logger.info("jt808 terminal \(phone) registered from \(peer)")
        try await send(link.frame(.registerResponse(JT808RegistrationResponse(
            serial: header.serial, result: JT808Response.success, authCode: JT808Text(bytes: code))), to: header))
    }

    /// 0x8100 result 4: the standard's "no such terminal in the database".
    static let noSuchTerminal: UInt8 = 4

    private func authenticate(phone: String, code: [UInt8], _ header: JT808Header) async throws {
        guard let stored = try await storage.terminalAuthCode(phone: phone), HMACSHA256.constantTimeEquals(stored, code),
              let device = try await storage.terminalDevice(phone: phone) else {
            listener.refusedTerminal("authentication of terminal \(RefusalLog.quoted(header.phone)) from \(peer) refused: "
                                     + "unknown terminal or wrong code (it should register again)", reason: "authentication")
            return try await send(link.answer(header, result: JT808Response.failure))
        }
        link.bind(phone: header.phone)
        terminal = (device, header)
        listener.register(device: device, connectionID: connectionID, wake: wake)
        listener.logger.info("jt808 terminal \(phone) (\(device)) authenticated from \(peer)")
        try await ingest([], header)
    }

    /// Commits `positions` (none: a heartbeat or authentication marks the device seen) and answers
    /// 0x8001 after the commit; then sends any downlink waiting for the device.
    private func ingest(_ positions: [JT808Position], _ header: JT808Header) async throws {
        guard let terminal else { return try await send(link.answer(header, result: JT808Response.failure)) }
        let now = listener.clock.now()
        let reports = positions.map { TerminalReport(jt808: $0, phone: terminal.header.phone, serial: header.serial, receivedAt: now) }
        let downlink: [DownlinkMessage]
        do {
            downlink = try await storage.ingestTerminalReports(reports, device: terminal.device, at: now)
        } catch let revoked as TerminalRevoked {
            listener.refusedTerminal("terminal \(terminal.header.phone) from \(peer) refused and disconnected: \(revoked)", reason: "revoked")
            try await send(link.answer(header, result: JT808Response.failure))
            throw revoked
        } catch {
            listener.logger.error("jt808: cannot store \(reports.count) reports of \(terminal.device): \(error); answered 1 (send again)")
            return try await send(link.answer(header, result: JT808Response.failure))
        }
        try await send(link.answer(header, result: JT808Response.success))
        if !reports.isEmpty {
            // As the HTTP ingest route does: the console learns of the points and of an alarm at once.
            listener.changes?.publish(.ingested(device: terminal.device, events: reports.filter(\.emergency).map(\.alarmEvent),
                                                committedAt: listener.clock.now()))
        }
        try await deliver(downlink)
    }

    /// Sends downlink waiting for this connection's terminal (woken by the listener's poll).
    func deliverDownlink() async throws {
        guard let terminal else { return }
        try await deliver(try await storage.pendingDownlink(device: terminal.device))
    }

    /// Each message not yet sent on this connection goes as 0x8203 (serial 0: every emergency
    /// alarm report, as the standard defines it, since the centre keeps one alarm per episode).
    private func deliver(_ messages: [DownlinkMessage]) async throws {
        guard let terminal else { return }
        let sent = Set(sentConfirmations.values)
        for message in messages where !sent.contains(message.id) {
            let serial = link.upcomingSerial
            sentConfirmations[serial] = message.id
            listener.logger.info("jt808 terminal \(terminal.device): \(message.text), sent as 0x8203")
            try await send(link.frame(.confirmAlarm(serial: 0, alarms: JT808Position.emergencyAlarm), to: terminal.header))
        }
    }

    private func confirmed(_ response: JT808Response) async throws {
        guard response.messageID == 0x8203, let terminal, let id = sentConfirmations[response.serial] else { return }
        sentConfirmations[response.serial] = nil
        guard response.result == JT808Response.success else {
            return listener.logger.warning("jt808 terminal \(terminal.device) answered 0x8203 with result \(response.result); sent again on its next connection")
        }
        try await storage.forgetDownlink(device: terminal.device, through: id)
    }

    private func send(_ bytes: [UInt8]) async throws {
        try await outbound.write(ByteBuffer(bytes: bytes))
    }
}
