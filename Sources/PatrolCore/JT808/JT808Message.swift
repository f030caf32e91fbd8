/// The JT/T 808 messages PatrolLink sends, answers or honours, as typed bodies; any other message
/// id is kept as `.other` with its body, so a decoder never loses a frame it does not know.
public enum JT808Message: Sendable, Equatable {
    /// 0x0001 terminal general response, 0x8001 platform general response.
    case terminalResponse(JT808Response)
    case platformResponse(JT808Response)
    /// 0x0002 terminal heartbeat (empty body).
    case heartbeat
    /// 0x0100 terminal registration and 0x8100 its answer.
    case register(JT808Registration)
    case registerResponse(JT808RegistrationResponse)
    /// 0x0102 terminal authentication.
    case authenticate(JT808Authentication)
    /// 0x0200 location report.
    case position(JT808Position)
    /// 0x8201 position query and 0x0201 its answer (serial of the query, then a report).
    case positionQuery
    case positionQueryResponse(serial: UInt16, position: JT808Position)
    /// 0x8203 manual alarm confirmation: the serial of the alarm report (0: all) and the alarm bits
    /// confirmed.
    case confirmAlarm(serial: UInt16, alarms: UInt32)
    /// 0x8300 text message from the platform.
    case textMessage(JT808TextMessage)
    /// 0x0704 batch upload of location reports (type 0 normal, 1 blind-area supplement).
    case positionBatch(JT808PositionBatch)
    /// 0x0900 data uplink pass-through: a type byte and its content (PatrolLink's extension for
    /// events without an alarm bit, `Docs/jt808.md`).
    case passThrough(type: UInt8, content: [UInt8])
    /// 0x8103 set terminal parameters, 0x8104 query them, and 0x0104 the answer (the serial of the query, the parameters).
    case setParameters([JT808Parameter])
    case queryParameters
    case parameters(serial: UInt16, [JT808Parameter])
    /// Any other message, body kept as received.
    case other(id: UInt16, body: [UInt8])

    public var messageID: UInt16 {
        switch self {
        case .terminalResponse: 0x0001
        case .platformResponse: 0x8001
        case .heartbeat: 0x0002
        case .register: 0x0100
        case .registerResponse: 0x8100
        case .authenticate: 0x0102
        case .position: 0x0200
        case .positionQuery: 0x8201
        case .positionQueryResponse: 0x0201
        case .confirmAlarm: 0x8203
        case .textMessage: 0x8300
        case .positionBatch: 0x0704
        case .passThrough: 0x0900
        case .setParameters: 0x8103
        case .queryParameters: 0x8104
        case .parameters: 0x0104
        case .other(let id, _): id
        }
    }

    /// The body bytes in `revision`'s layout.
    public func body(revision: JT808Revision) -> [UInt8] {
        var out = WireWriter()
        switch self {
        case .terminalResponse(let response), .platformResponse(let response):
            out.uint16(response.serial)
            out.uint16(response.messageID)
            out.byte(response.result)
        case .heartbeat, .positionQuery, .queryParameters:
            break
        case .register(let registration):
            registration.encode(into: &out)
        case .registerResponse(let answer):
            out.uint16(answer.serial)
            out.byte(answer.result)
            if answer.result == 0 { out.raw(answer.authCode.bytes) }
        case .authenticate(let authentication):
            if revision == .v2019 {
                out.byte(UInt8(truncatingIfNeeded: min(authentication.code.bytes.count, 255)))
                out.raw(authentication.code.bytes.prefix(255))
                out.raw(JT808Text.padded(authentication.imei?.bytes ?? [], 15))
                out.raw(JT808Text.padded(authentication.softwareVersion?.bytes ?? [], 20))
            } else {
                out.raw(authentication.code.bytes)
            }
        case .position(let position):
            position.encode(into: &out)
        case .positionQueryResponse(let serial, let position):
            out.uint16(serial)
            position.encode(into: &out)
        case .confirmAlarm(let serial, let alarms):
            out.uint16(serial)
            out.uint32(alarms)
        case .textMessage(let message):
            out.byte(message.flags)
            if revision == .v2019 { out.byte(message.textType ?? 1) }
            out.raw(message.text.bytes)
        case .positionBatch(let batch):
            out.uint16(UInt16(truncatingIfNeeded: batch.positions.count))
            out.byte(batch.type)
            for position in batch.positions {
                let report = position.encoded
                out.uint16(UInt16(truncatingIfNeeded: report.count))
                out.raw(report)
            }
        case .passThrough(let type, let content):
            out.byte(type)
            out.raw(content)
        case .setParameters(let parameters):
            JT808Parameter.encode(parameters, into: &out)
        case .parameters(let serial, let parameters):
            out.uint16(serial)
            JT808Parameter.encode(parameters, into: &out)
        case .other(_, let body):
            out.raw(body)
        }
        return out.bytes
    }

    /// The message as frames from `serial` on: one frame, or sub-packages of at most
    /// `maxBodyBytes` each with consecutive serials (the caller's next serial is `serial` plus the
    /// number of frames).
    public func frames(phone: String, revision: JT808Revision, serial: UInt16) -> [JT808Frame] {
        let body = body(revision: revision)
        let header = JT808Header(messageID: messageID, revision: revision, phone: phone, serial: serial)
        guard body.count > JT808Header.maxBodyBytes else { return [JT808Frame(header: header, body: body)] }
        let parts = stride(from: 0, to: body.count, by: JT808Header.maxBodyBytes).map {
            Array(body[$0..<min($0 + JT808Header.maxBodyBytes, body.count)])
        }
        return parts.enumerated().map { index, part in
            var packaged = header
            packaged.serial = serial &+ UInt16(truncatingIfNeeded: index)
            packaged.package = JT808Package(total: UInt16(truncatingIfNeeded: parts.count), index: UInt16(truncatingIfNeeded: index + 1))
            return JT808Frame(header: packaged, body: part)
        }
    }

    /// Decodes the body of message `id`. Errors name the field and its offset in the body.
    public static func decode(id: UInt16, body: [UInt8], revision: JT808Revision) throws(WireError) -> JT808Message {
        var reader = WireReader(body)
        let message: JT808Message
        switch id {
        case 0x0001, 0x8001:
            let response = JT808Response(serial: try reader.uint16("body.serial"), messageID: try reader.uint16("body.message_id"),
                                         result: try reader.byte("body.result"))
            message = id == 0x0001 ? .terminalResponse(response) : .platformResponse(response)
        case 0x0002: message = .heartbeat
        case 0x8201: message = .positionQuery
        case 0x8104: message = .queryParameters
        case 0x0100: message = .register(try JT808Registration.decode(&reader, revision: revision))
        case 0x8100:
            let serial = try reader.uint16("body.serial")
            let result = try reader.byte("body.result")
            message = .registerResponse(JT808RegistrationResponse(serial: serial, result: result,
                                                                  authCode: JT808Text(bytes: result == 0 ? try reader.rest("body.auth_code") : [])))
        case 0x0102:
            if revision == .v2019 {
                let length = Int(try reader.byte("body.auth_code_length"))
                let code = JT808Text(bytes: Array(try reader.raw(length, "body.auth_code")))
                let imei = JT808Text(trimming: try reader.raw(15, "body.imei"))
                let version = JT808Text(trimming: try reader.raw(20, "body.software_version"))
                message = .authenticate(JT808Authentication(code: code, imei: imei, softwareVersion: version))
            } else {
                message = .authenticate(JT808Authentication(code: JT808Text(bytes: try reader.rest("body.auth_code"))))
            }
        case 0x0200: message = .position(try JT808Position.decode(&reader, end: body.count, field: "body"))
        case 0x0201:
            let serial = try reader.uint16("body.serial")
            message = .positionQueryResponse(serial: serial, position: try JT808Position.decode(&reader, end: body.count, field: "body"))
        case 0x8203: message = .confirmAlarm(serial: try reader.uint16("body.serial"), alarms: try reader.uint32("body.alarm_type"))
        case 0x8300:
            let flags = try reader.byte("body.flags")
            let type = revision == .v2019 ? try reader.byte("body.text_type") : nil
            message = .textMessage(JT808TextMessage(flags: flags, textType: type, text: JT808Text(bytes: try reader.rest("body.text"))))
        case 0x0704: message = .positionBatch(try JT808PositionBatch.decode(&reader))
        case 0x0900: message = .passThrough(type: try reader.byte("body.type"), content: try reader.rest("body.content"))
        case 0x8103: message = .setParameters(try JT808Parameter.decode(&reader))
        case 0x0104:
            let serial = try reader.uint16("body.serial")
            message = .parameters(serial: serial, try JT808Parameter.decode(&reader))
        default:
            return .other(id: id, body: body)
        }
        guard reader.isAtEnd else {
            throw reader.failure("body", "\(reader.remainingCount) bytes after the end of message \(Hex.encode([UInt8(id >> 8), UInt8(id & 0xFF)]))")
        }
        return message
    }

    /// Decodes a whole (not sub-packaged) frame's message.
    public static func decode(_ frame: JT808Frame) throws(WireError) -> JT808Message {
        try decode(id: frame.header.messageID, body: frame.body, revision: frame.header.revision)
    }
}

/// General response (0x0001 from the terminal, 0x8001 from the platform): the serial and id of
/// the message answered, and the result.
public struct JT808Response: Sendable, Equatable {
    public var serial: UInt16
    public var messageID: UInt16
    /// 0 success/confirmed, 1 failed (send again), 2 message wrong (drop it), 3 not supported,
    /// 4 alarm processing confirmed (platform only).
    public var result: UInt8

    public static let success: UInt8 = 0
    public static let failure: UInt8 = 1
    public static let wrongMessage: UInt8 = 2
    public static let unsupported: UInt8 = 3
    public static let alarmConfirmed: UInt8 = 4

    public init(serial: UInt16, messageID: UInt16, result: UInt8) {
        self.serial = serial
        self.messageID = messageID
        self.result = result
    }
}

/// Terminal registration (0x0100). Field widths differ by revision: 2011 and 2013 (maker 5,
/// model 8 or 20, terminal id 7 bytes) and 2019 (11, 30, 30); text fields are padded with zeros.
public struct JT808Registration: Sendable, Equatable {
    public enum Layout: String, Sendable, Equatable {
        case v2011 = "2011", v2013 = "2013", v2019 = "2019"

        /// Bytes of the maker, model and terminal id fields.
        public var widths: (maker: Int, model: Int, terminalID: Int) {
            switch self {
            case .v2011: (5, 8, 7)
            case .v2013: (5, 20, 7)
            case .v2019: (11, 30, 30)
            }
        }
    }

    public var layout: Layout
    public var province: UInt16
    public var city: UInt16
    public var maker: JT808Text
    public var model: JT808Text
    public var terminalID: JT808Text
    /// Plate colour per JT/T 415 (1 blue, 2 yellow, …; 0: no plate, then `plate` is the VIN).
    public var plateColour: UInt8
    /// The plate in GBK bytes (ASCII for Latin plates).
    public var plate: JT808Text

    public init(layout: Layout, province: UInt16, city: UInt16, maker: JT808Text, model: JT808Text, terminalID: JT808Text,
                plateColour: UInt8, plate: JT808Text) {
        self.layout = layout
        self.province = province
        self.city = city
        self.maker = maker
        self.model = model
        self.terminalID = terminalID
        self.plateColour = plateColour
        self.plate = plate
    }

    func encode(into out: inout WireWriter) {
        let widths = layout.widths
        out.uint16(province)
        out.uint16(city)
        out.raw(JT808Text.padded(maker.bytes, widths.maker))
        out.raw(JT808Text.padded(model.bytes, widths.model))
        out.raw(JT808Text.padded(terminalID.bytes, widths.terminalID))
        out.byte(plateColour)
        out.raw(plate.bytes)
    }

    /// A 2013 frame shorter than the 2013 layout's fixed part is read in the 2011 layout, which
    /// terminals still send (Traccar's vectors include both).
    static func decode(_ reader: inout WireReader, revision: JT808Revision) throws(WireError) -> JT808Registration {
        let layout: Layout = revision == .v2019 ? .v2019 : (reader.remainingCount < 37 ? .v2011 : .v2013)
        let widths = layout.widths
        let province = try reader.uint16("body.province")
        let city = try reader.uint16("body.city")
        let maker = JT808Text(trimming: try reader.raw(widths.maker, "body.maker"))
        let model = JT808Text(trimming: try reader.raw(widths.model, "body.model"))
        let terminalID = JT808Text(trimming: try reader.raw(widths.terminalID, "body.terminal_id"))
        let colour = try reader.byte("body.plate_colour")
        return JT808Registration(layout: layout, province: province, city: city, maker: maker, model: model, terminalID: terminalID,
                                 plateColour: colour, plate: JT808Text(bytes: try reader.rest("body.plate")))
    }
}

/// The platform's answer to a registration: 0 success (with the authentication code), 1 vehicle
/// already registered, 2 no such vehicle, 3 terminal already registered, 4 no such terminal.
public struct JT808RegistrationResponse: Sendable, Equatable {
    public var serial: UInt16
    public var result: UInt8
    public var authCode: JT808Text

    public init(serial: UInt16, result: UInt8, authCode: JT808Text) {
        self.serial = serial
        self.result = result
        self.authCode = result == 0 ? authCode : JT808Text(bytes: [])
    }
}

/// Terminal authentication (0x0102): the code the platform gave at registration; 2019 adds the
/// IMEI and the software version.
public struct JT808Authentication: Sendable, Equatable {
    public var code: JT808Text
    public var imei: JT808Text?
    public var softwareVersion: JT808Text?

    public init(code: JT808Text, imei: JT808Text? = nil, softwareVersion: JT808Text? = nil) {
        self.code = code
        self.imei = imei
        self.softwareVersion = softwareVersion
    }
}

/// A text message from the platform (0x8300): flag bits (bit 0 emergency, bit 2 display, bit 3
/// read aloud, …), the 2019 text type, and the text in GBK bytes.
public struct JT808TextMessage: Sendable, Equatable {
    public var flags: UInt8
    public var textType: UInt8?
    public var text: JT808Text

    public init(flags: UInt8, textType: UInt8? = nil, text: JT808Text) {
        self.flags = flags
        self.textType = textType
        self.text = text
    }
}

/// Batch upload of location reports (0x0704): type 0 normal, 1 blind-area supplement (reports
/// kept while the link was down, which platforms file as history).
public struct JT808PositionBatch: Sendable, Equatable {
    public var type: UInt8
    public var positions: [JT808Position]

    public static let normal: UInt8 = 0
    public static let blindArea: UInt8 = 1

    public init(type: UInt8, positions: [JT808Position]) {
        self.type = type
        self.positions = positions
    }

    static func decode(_ reader: inout WireReader) throws(WireError) -> JT808PositionBatch {
        let countAt = reader.offset
        let count = Int(try reader.uint16("body.count"))
        let type = try reader.byte("body.type")
        // Each item takes at least its length word and a report's fixed part: a count that cannot
        // fit is refused before anything is allocated.
        guard count <= reader.remainingCount / (2 + JT808Position.fixedBytes) else {
            throw reader.failure("body.count", "\(count) reports cannot fit the \(reader.remainingCount) bytes that follow", at: countAt)
        }
        var positions: [JT808Position] = []
        positions.reserveCapacity(count)
        for index in 0..<count {
            let lengthAt = reader.offset
            let length = Int(try reader.uint16("body.items[\(index)].length"))
            guard length <= reader.remainingCount else {
                throw reader.failure("body.items[\(index)].length", "says \(length) bytes, \(reader.remainingCount) left", at: lengthAt)
            }
            let end = reader.offset + length
            positions.append(try JT808Position.decode(&reader, end: end, field: "body.items[\(index)]"))
            guard reader.offset == end else {
                throw reader.failure("body.items[\(index)]", "report is longer than its length \(length)", at: lengthAt)
            }
        }
        return JT808PositionBatch(type: type, positions: positions)
    }
}

/// One terminal parameter of 0x8103 and 0x0104: id and value bytes (the reporting intervals the
/// agent honours are DWORD seconds).
public struct JT808Parameter: Sendable, Equatable {
    public var id: UInt32
    public var value: [UInt8]

    /// 0x0029: default time reporting interval, s.
    public static let reportingIntervalSeconds: UInt32 = 0x0029
    /// 0x0028: time reporting interval during an emergency alarm, s.
    public static let emergencyReportingIntervalSeconds: UInt32 = 0x0028

    public init(id: UInt32, value: [UInt8]) {
        self.id = id
        self.value = value
    }

    /// A DWORD parameter (the intervals).
    public init(id: UInt32, dword: UInt32) {
        self.init(id: id, value: [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: dword >> $0) })
    }

    /// The value as a DWORD, nil when it is not 4 bytes.
    public var dword: UInt32? {
        value.count == 4 ? value.reduce(0) { $0 << 8 | UInt32($1) } : nil
    }

    /// Count byte, then id, length and value of each.
    static func encode(_ parameters: [JT808Parameter], into out: inout WireWriter) {
        out.byte(UInt8(truncatingIfNeeded: parameters.count))
        for parameter in parameters {
            out.uint32(parameter.id)
            out.byte(UInt8(truncatingIfNeeded: parameter.value.count))
            out.raw(parameter.value.prefix(255))
        }
    }

    static func decode(_ reader: inout WireReader) throws(WireError) -> [JT808Parameter] {
        let count = Int(try reader.byte("body.count"))
        var parameters: [JT808Parameter] = []
        for index in 0..<count {
            let parameterID = try reader.uint32("body.parameters[\(index)].id")
            let length = Int(try reader.byte("body.parameters[\(index)].length"))
            parameters.append(JT808Parameter(id: parameterID, value: Array(try reader.raw(length, "body.parameters[\(index)].value"))))
        }
        return parameters
    }
}

/// Text as the standard carries it: bytes (GBK for Chinese, ASCII otherwise). Kept as bytes so a
/// frame encodes back exactly; `display` shows it.
public struct JT808Text: Sendable, Equatable, ExpressibleByStringLiteral {
    public var bytes: [UInt8]

    public init(bytes: [UInt8]) { self.bytes = bytes }
    public init(_ text: String) { self.bytes = Array(text.utf8) }
    public init(stringLiteral text: String) { self.init(text) }

    /// A fixed-width field with its zero padding removed.
    init(trimming field: ArraySlice<UInt8>) {
        var bytes = Array(field)
        while bytes.last == 0 { bytes.removeLast() }
        self.bytes = bytes
    }

    /// `bytes` cut or zero-padded to `width`.
    static func padded(_ bytes: [UInt8], _ width: Int) -> [UInt8] {
        Array(bytes.prefix(width)) + [UInt8](repeating: 0, count: max(0, width - bytes.count))
    }

    /// Printable ASCII as it is; anything else (GBK text, binary) as `hex:` and its bytes, since
    /// the core has no GBK table and a technician needs to see exactly what was sent.
    public var display: String {
        bytes.allSatisfy({ (0x20...0x7E).contains($0) }) ? String(decoding: bytes, as: UTF8.self) : "hex:" + Hex.encode(bytes)
    }
}
