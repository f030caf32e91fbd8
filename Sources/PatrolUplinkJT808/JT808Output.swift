import Logging
import PatrolCore
import PatrolEdgeSupport
import PatrolUplink

/// A JT/T 808 platform over TCP: the board is a terminal that registers once (0x0100, the
/// authentication code kept in `authCodeFile` so a reboot does not register again),
/// authenticates on every connection (0x0102), and reports what `JT808Reporter` makes of each
/// round. Delivery progress comes only from the platform's 0x8001 for each message's serial.
///
/// Platform commands arriving meanwhile are answered as the standard says: 0x8203 confirms the
/// emergency alarm (the box shows "acknowledged"), 0x8201 is answered with 0x0201, 0x8300 is
/// logged, shown in status and confirmed, 0x8103 sets the reporting interval (0x0029) and 0x8104
/// is answered with it (0x0104); anything else gets 0x0001 result 3 (not supported).
public actor JT808Output: UplinkOutput {
    public nonisolated let name: String
    public nonisolated let destination: String
    public nonisolated let streams: Set<StoreStream> = [.event, .track]
    private let host: String
    private let port: Int
    private let phone: String
    private let revision: JT808Revision
    private let registration: JT808Registration
    private let authCodeFile: String
    private let timeout: Duration
    private let logger: Logger

    private var link: JT808Link?
    private var inbound: AsyncStream<JT808Link.Inbound>.AsyncIterator?
    private var serial: UInt16 = 0
    private var reporter = JT808Reporter()
    private var waits = 0
    /// Results of 0x8001 by the serial they answer, for the messages in flight.
    private var results: [UInt16: UInt8] = [:]
    private var registrationAnswer: JT808RegistrationResponse?
    /// Serials of alarm reports and their events, to name the event a 0x8203 confirms (the last
    /// `rememberedAlarms`).
    private var alarmSerials: [UInt16: Int64] = [:]
    private static let rememberedAlarms = 256
    private var lastAlarmEvent: Int64?
    private var acknowledgements: [UplinkAcknowledgement] = []
    private var lastPosition: JT808Position?
    /// Message ids the platform said it does not support, logged once each.
    private var unsupported: Set<UInt16> = []
    /// Parameter ids the platform set that this terminal does not use, logged once each.
    private var unsupportedParameters: Set<UInt32> = []
    /// Text messages from the platform (0x8300) not yet handed to the runner (for status).
    private var messages: [UplinkMessage] = []
    /// The platform's default reporting interval (0x8103 parameter 0x0029), s; 0: every round.
    /// Kept in memory: after a restart the platform sets it again (platforms do on authentication).
    public private(set) var reportingIntervalSeconds: UInt32 = 0

    public init(name: String, host: String, port: Int, phone: String, revision: JT808Revision, registration: JT808Registration,
                authCodeFile: String, timeout: Duration, logger: Logger = Logger(label: "patrol-agent")) {
        self.name = name
        self.host = host
        self.port = port
        self.destination = "tcp://\(host):\(port)"
        self.phone = phone
        self.revision = revision
        self.registration = registration
        self.authCodeFile = authCodeFile
        self.timeout = timeout
        self.logger = logger
    }

    public func send(_ batch: OutboundBatch) async throws(UplinkLinkError) -> UplinkVerdict {
        do throws(UplinkLinkError) {
            try await connectAndAuthenticate()
            var sent: [(serial: UInt16, outgoing: JT808Reporter.Outgoing)] = []
            for outgoing in reporter.messages(for: batch) {
                if case .position(let position) = outgoing.message { lastPosition = position }
                let last = try await transmit(outgoing.message)
                if let event = outgoing.alarmEvent {
                    // A platform confirms recent alarms; the oldest are forgotten so this stays small.
                    if alarmSerials.count >= Self.rememberedAlarms, let oldest = alarmSerials.min(by: { $0.value < $1.value }) {
                        alarmSerials[oldest.key] = nil
                    }
                    alarmSerials[last] = event
                    lastAlarmEvent = event
                }
                sent.append((last, outgoing))
            }
            let serials = Set(sent.map(\.serial))
            let answered = await pump(until: { serials.isSubset(of: Set($0.results.keys)) })
            guard answered || sent.contains(where: { results[$0.serial] != nil }) else {
                throw UplinkLinkError("no 0x8001 answer from \(destination) within \(timeout)")
            }
            var answer = JT808Reporter.answer(sent, results: results)
            for (serial, outgoing) in sent where results[serial] == JT808Response.unsupported {
                if unsupported.insert(outgoing.message.messageID).inserted {
                    logger.warning("uplink \(name): the platform does not support message 0x\(Hex.encode([UInt8(outgoing.message.messageID >> 8), UInt8(outgoing.message.messageID & 0xFF)])) (0x8001 result 3); such records are set aside as dead letters")
                }
            }
            for serial in serials { results[serial] = nil }
            answer.acknowledgements = acknowledgements
            acknowledgements = []
            answer.messages = messages
            messages = []
            answer.trackInterval = reportingIntervalSeconds > 0 ? .seconds(Int64(reportingIntervalSeconds)) : nil
            return .answered(answer)
        } catch {
            drop()
            throw error
        }
    }

    // MARK: Session

    private func connectAndAuthenticate() async throws(UplinkLinkError) {
        if let link, link.isActive { return }
        drop()
        let link = try await JT808Link.connect(host: host, port: port)
        self.link = link
        inbound = link.inbound.makeAsyncIterator()
        var code = try? FileAccess.readText(authCodeFile)
        if code?.isEmpty == true { code = nil }
        if code == nil {
            registrationAnswer = nil
            let serial = try await transmit(.register(registration))
            _ = await pump(until: { $0.registrationAnswer?.serial == serial })
            guard let answer = registrationAnswer, answer.serial == serial else {
                throw UplinkLinkError("no registration answer (0x8100) from \(destination) within \(timeout)")
            }
            guard answer.result == 0 else {
                throw UplinkLinkError("the platform refused registration (0x8100 result \(answer.result): \(Self.registrationResult(answer.result)))")
            }
            let text = String(decoding: answer.authCode.bytes, as: UTF8.self)
            do {
                try FileAccess.replaceDurably(authCodeFile, with: text)
            } catch {
                throw UplinkLinkError("uplink \(name): cannot keep the authentication code in auth_code_file: \(error)")
            }
            logger.notice("uplink \(name): registered with \(destination); authentication code kept in \(authCodeFile)")
            code = text
        }
        let serial = try await transmit(.authenticate(JT808Authentication(code: JT808Text(code ?? ""), imei: revision == .v2019 ? "" : nil,
                                                                          softwareVersion: revision == .v2019 ? "patrol-agent" : nil)))
        _ = await pump(until: { $0.results[serial] != nil })
        guard let result = results.removeValue(forKey: serial) else {
            throw UplinkLinkError("no answer to authentication (0x0102) from \(destination) within \(timeout)")
        }
        guard result == JT808Response.success else {
            // The platform no longer knows this code (terminal deleted, platform reset): register again.
            try? FileAccess.replaceDurably(authCodeFile, with: "")
            throw UplinkLinkError("the platform refused authentication (0x8001 result \(result)); registering again on the next attempt")
        }
    }

    private static func registrationResult(_ result: UInt8) -> String {
        switch result {
        case 1: "vehicle already registered"
        case 2: "no such vehicle in the platform"
        case 3: "terminal already registered"
        case 4: "no such terminal in the platform"
        default: "unknown result"
        }
    }

    /// Sends `message` (sub-packaged when long) and returns the serial of its last frame.
    private func transmit(_ message: JT808Message) async throws(UplinkLinkError) -> UInt16 {
        guard let link else { throw UplinkLinkError("not connected to \(destination)") }
        let frames = message.frames(phone: phone, revision: revision, serial: serial)
        serial &+= UInt16(truncatingIfNeeded: frames.count)
        var bytes: [UInt8] = []
        for frame in frames {
            let wire = frame.wire
            logger.debug("uplink \(name): jt808 → \(Hex.encode(wire))")
            bytes += wire
        }
        try await link.send(bytes)
        return frames[frames.count - 1].header.serial
    }

    /// Reads and handles the platform's frames until `done` holds or `timeout` passes; false on timeout.
    private func pump(until done: (isolated JT808Output) -> Bool) async -> Bool {
        guard let link, var iterator = inbound else { return false }
        waits &+= 1
        let wait = waits
        link.timeout(after: timeout, id: wait)
        defer { inbound = iterator }
        while !done(self) {
            switch await iterator.next(isolation: self) {
            case .frame(let parsed, let hex):
                logger.debug("uplink \(name): jt808 ← \(hex)")
                await handle(parsed)
            case .bad(let error, let hex):
                logger.warning("uplink \(name): unreadable frame from the platform (\(error)): \(hex)")
            case .timeout(let id):
                if id == wait { return false }
            case .closed, nil:
                return false
            }
        }
        return true
    }

    private func handle(_ parsed: JT808Frame.Parsed) async {
        let header = parsed.frame.header
        guard parsed.checkCodeValid else {
            logger.warning("uplink \(name): frame 0x\(String(header.messageID, radix: 16)) from the platform has a wrong check code; ignored")
            return
        }
        let message: JT808Message
        do {
            message = try JT808Message.decode(parsed.frame)
        } catch {
            logger.warning("uplink \(name): cannot read message 0x\(String(header.messageID, radix: 16)) from the platform: \(error)")
            await reply(to: header, result: JT808Response.wrongMessage)
            return
        }
        switch message {
        case .platformResponse(let response):
            results[response.serial] = response.result
        case .registerResponse(let answer):
            registrationAnswer = answer
        case .confirmAlarm(let alarmSerial, let alarms):
            reporter.confirmed(alarms: alarms)
            if let event = alarmSerial == 0 ? lastAlarmEvent : alarmSerials[alarmSerial] {
                acknowledgements.append(UplinkAcknowledgement(eventSequence: event, acknowledgedBy: "platform",
                                                              text: "alarm \(event) confirmed by the JT/T 808 platform (0x8203)"))
            }
            await reply(to: header, result: JT808Response.success)
        case .positionQuery:
            let position = lastPosition.map { var p = $0; p.alarm = reporter.emergency ? JT808Position.emergencyAlarm : 0; return p }
                ?? JT808Position(time: nil)
            _ = try? await transmit(.positionQueryResponse(serial: header.serial, position: position))
        case .textMessage(let text):
            messages.append(UplinkMessage(text: text.text.display, receivedAt: SystemClocks.systemTime()))
            logger.notice("uplink \(name): text from the platform: \(text.text.display)")
            await reply(to: header, result: JT808Response.success)
        case .setParameters(let parameters):
            await reply(to: header, result: apply(parameters))
        case .queryParameters:
            _ = try? await transmit(.parameters(serial: header.serial, [
                JT808Parameter(id: JT808Parameter.reportingIntervalSeconds, dword: reportingIntervalSeconds),
            ]))
        default:
            await reply(to: header, result: JT808Response.unsupported)
        }
    }

    /// Takes the reporting interval (0x0029, DWORD seconds: track goes at most that often, in one
    /// round) from 0x8103; the result for the 0x0001 answer: 0 when it was among the parameters,
    /// 2 when its value is not a DWORD, 3 when the message set nothing this terminal honours
    /// (other ids are logged once and ignored).
    private func apply(_ parameters: [JT808Parameter]) -> UInt8 {
        var result = JT808Response.unsupported
        for parameter in parameters {
            guard parameter.id == JT808Parameter.reportingIntervalSeconds else {
                if unsupportedParameters.insert(parameter.id).inserted {
                    logger.notice("uplink \(name): the platform set terminal parameter 0x\(String(parameter.id, radix: 16)), which this terminal does not use; ignored")
                }
                continue
            }
            guard let seconds = parameter.dword else { return JT808Response.wrongMessage }
            reportingIntervalSeconds = seconds
            logger.notice("uplink \(name): the platform set the reporting interval to \(seconds) s")
            result = JT808Response.success
        }
        return result
    }

    private func reply(to header: JT808Header, result: UInt8) async {
        _ = try? await transmit(.terminalResponse(JT808Response(serial: header.serial, messageID: header.messageID, result: result)))
    }

    /// Closes the connection.
    public func close() {
        drop()
    }

    private func drop() {
        link?.close()
        link = nil
        inbound = nil
    }
}
