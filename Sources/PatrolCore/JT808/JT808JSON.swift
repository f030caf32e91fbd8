/// JSON for technicians (`patrol-centre jt808 decode`): one object per frame with the header, the
/// check code's validity and the decoded body, so a frame from a terminal's log can be read
/// without the standard at hand. Numbers are numbers, flags stay whole numbers, times are UTC.
public enum JT808JSON {
    /// The frame decoded; a body that does not decode gives `body_error` beside the header fields.
    public static func object(_ parsed: JT808Frame.Parsed) -> String {
        let header = parsed.frame.header
        var w = JSONObjectWriter()
        w.add("message_id", "0x" + Hex.encode([UInt8(header.messageID >> 8), UInt8(header.messageID & 0xFF)]))
        w.add("message", name(header.messageID))
        w.add("revision", header.revision.rawValue)
        if header.revision == .v2019 { w.add("protocol_version", Int(header.protocolVersion)) }
        w.add("phone", header.phone)
        w.add("serial", Int(header.serial))
        if header.encryption != 0 { w.add("encryption", Int(header.encryption)) }
        w.add("check_code_valid", parsed.checkCodeValid)
        if let package = header.package {
            w.add("package_total", Int(package.total))
            w.add("package_index", Int(package.index))
            w.add("body_hex", Hex.encode(parsed.frame.body))
            return w.json
        }
        do {
            w.addRaw("body", body(try JT808Message.decode(parsed.frame)))
        } catch {
            w.addRaw("body_error", errorObject(error))
            w.add("body_hex", Hex.encode(parsed.frame.body))
        }
        return w.json
    }

    /// The error object for a frame that could not be read: what, where, and the input.
    public static func error(_ error: WireError, input: String) -> String {
        var w = JSONObjectWriter()
        w.add("error", error.description)
        w.add("field", error.field)
        w.add("offset", error.offset)
        w.add("input", input)
        return w.json
    }

    private static func errorObject(_ error: WireError) -> String {
        var w = JSONObjectWriter()
        w.add("error", error.description)
        w.add("field", error.field)
        w.add("offset", error.offset)
        return w.json
    }

    public static func name(_ id: UInt16) -> String {
        switch id {
        case 0x0001: "terminal general response"
        case 0x8001: "platform general response"
        case 0x0002: "heartbeat"
        case 0x0100: "terminal registration"
        case 0x8100: "registration response"
        case 0x0102: "terminal authentication"
        case 0x0200: "location report"
        case 0x8201: "position query"
        case 0x0201: "position query response"
        case 0x8203: "manual alarm confirmation"
        case 0x8300: "text message"
        case 0x0704: "location batch upload"
        case 0x0900: "data uplink pass-through"
        case 0x8103: "set terminal parameters"
        case 0x8104: "query terminal parameters"
        case 0x0104: "query terminal parameters response"
        default: "unknown"
        }
    }

    static func body(_ message: JT808Message) -> String {
        var w = JSONObjectWriter()
        switch message {
        case .terminalResponse(let response), .platformResponse(let response):
            w.add("answers_serial", Int(response.serial))
            w.add("answers_message_id", "0x" + Hex.encode([UInt8(response.messageID >> 8), UInt8(response.messageID & 0xFF)]))
            w.add("result", Int(response.result))
        case .heartbeat, .positionQuery, .queryParameters:
            break
        case .register(let registration):
            w.add("layout", registration.layout.rawValue)
            w.add("province", Int(registration.province))
            w.add("city", Int(registration.city))
            w.add("maker", registration.maker.display)
            w.add("model", registration.model.display)
            w.add("terminal_id", registration.terminalID.display)
            w.add("plate_colour", Int(registration.plateColour))
            w.add("plate", registration.plate.display)
        case .registerResponse(let answer):
            w.add("answers_serial", Int(answer.serial))
            w.add("result", Int(answer.result))
            if answer.result == 0 { w.add("auth_code", answer.authCode.display) }
        case .authenticate(let authentication):
            w.add("auth_code", authentication.code.display)
            if let imei = authentication.imei { w.add("imei", imei.display) }
            if let version = authentication.softwareVersion { w.add("software_version", version.display) }
        case .position(let position):
            return positionObject(position)
        case .positionQueryResponse(let serial, let position):
            w.add("answers_serial", Int(serial))
            w.addRaw("position", positionObject(position))
        case .confirmAlarm(let serial, let alarms):
            w.add("alarm_serial", Int(serial))
            w.add("alarm", Int(alarms))
        case .textMessage(let message):
            w.add("flags", Int(message.flags))
            if let type = message.textType { w.add("text_type", Int(type)) }
            w.add("text", message.text.display)
        case .positionBatch(let batch):
            w.add("type", Int(batch.type))
            w.add("count", batch.positions.count)
            w.addRaw("items", "[" + batch.positions.map(positionObject).joined(separator: ",") + "]")
        case .passThrough(let type, let content):
            w.add("type", Int(type))
            w.add("content", JT808Text(bytes: content).display)
        case .setParameters(let parameters), .parameters(_, let parameters):
            if case .parameters(let serial, _) = message { w.add("serial", Int(serial)) }
            w.addRaw("parameters", "[" + parameters.map { parameter in
                var p = JSONObjectWriter()
                p.add("id", "0x" + String(parameter.id, radix: 16))
                p.add("hex", Hex.encode(parameter.value))
                return p.json
            }.joined(separator: ",") + "]")
        case .other(_, let body):
            w.add("hex", Hex.encode(body))
        }
        return w.json
    }

    static func positionObject(_ position: JT808Position) -> String {
        var w = JSONObjectWriter()
        w.add("alarm", Int(position.alarm))
        w.add("status", Int(position.status))
        w.add("positioned", position.isPositioned)
        w.add("latitude", position.latitude, decimals: 6)
        w.add("longitude", position.longitude, decimals: 6)
        w.add("altitude_m", Int(position.altitudeMetres))
        w.add("speed_kmh", position.speedKmh, decimals: 1)
        w.add("direction", Int(position.heading))
        if let time = position.time { w.add("time", time.iso8601) }
        w.addRaw("extra", "[" + position.items.map { item in
            var i = JSONObjectWriter()
            i.add("id", "0x" + Hex.encode([item.id]))
            i.add("hex", Hex.encode(item.value))
            switch JT808AdditionalItem.ID(rawValue: item.id) {
            case .mileage where item.value.count == 4: i.add("mileage_km", Double(bigEndian(item.value)) / 10, decimals: 1)
            case .satellites where item.value.count == 1: i.add("satellites", Int(item.value[0]))
            case .fuel where item.value.count == 2: i.add("fuel_l", Double(bigEndian(item.value)) / 10, decimals: 1)
            case .recordedSpeed where item.value.count == 2: i.add("recorded_speed_kmh", Double(bigEndian(item.value)) / 10, decimals: 1)
            case .signalStrength where item.value.count == 1: i.add("signal", Int(item.value[0]))
            default: break
            }
            return i.json
        }.joined(separator: ",") + "]")
        return w.json
    }
}
