import PatrolTestSupport
import Testing
@testable import PatrolCore

/// Frames from Traccar's `HuabaoProtocolDecoderTest.java` (traccar/traccar, Apache-2.0), sent by
/// real terminals, each decoded to the values the standard gives its bytes.
private enum Traccar {
    static let position = "7E0200002A013833501744001900000000000000C201597FA806CC01580080000000081508180721210104000002F502020000030200009F7E"
    static let emergencyWest = "7e0200002e094027587492000a000000010000000a03083db7001329f3000000140000130412164952010400000012360a0002341502cb0c20085c107e"
    static let southWest = "7e020000220014012499170007000000000000400e012af16f02cbd2ba000000000000150101194257010400000077a97e"
    static let satellites = "7e0200002c00160128561400020000000000040001005de1f7065c6cef00000000000017011710044201040000a9002a02000030011b3101030c7e"
    /// Declares a 50-byte body but holds 40, and its check code does not match either.
    static let wrongLength = "7E02000032013511221122000700000000000C000301578CC006CA3A5C00470000000014072317201501040000000030011631010BD07E"
    static let authentication = "7E0102000E013511221122000661757468656E7469636174696F6E3F7E"
    static let heartbeat = "7e0002000004304832546500b7ca7e"
    static let registration2013 = "7E0100002D013511221122000500000000373031303748422D52303347424400000000000000000000003233363631303402CBD5424136383630387E"
    static let registration2011 = "7E01000021013345678906000F002C012F373031313142534A2D4D3742203030303030303001D4C1423838383838B47E"
    static let batch = "7E0704014301356777777707F5000801002600000000000000030159741206CBFD5001720000000116052709062401040000001D03020000002600000000000000030159746606CBFD50016B0000000116052709065301040000001D0302000000260000000000000003015975E406CBFE58013F0000000116052709072701040000001D0302000000260000000000000003015976DE06CBFF10012E0000000116052709075601040000001D0302000000260000000000000003015976BC06CBFED0012D0000000116052709083001040000001D0302000000260000000000000003015976FE06CBFEC001080000000116052709090001040000001D0302000000260000000000000003015976FE06CBFE7800FC0000000116052709093301040000001D0302000000260000000000000003015977A606CBFF3001080000000116052709100201040000001D030200001F7E"

    static func frame(_ hex: String) throws -> JT808Frame {
        try JT808Frame.decode(try #require(Hex.decode(hex)))
    }

    static func message(_ hex: String) throws -> JT808Message {
        try JT808Message.decode(try frame(hex))
    }
}

@Suite struct JT808CodecTests {
    @Test func decodesALocationReportWithItsAdditionalItems() throws {
        let frame = try Traccar.frame(Traccar.position)
        #expect(frame.header.messageID == 0x0200)
        #expect(frame.header.revision == .v2013)
        #expect(frame.header.phone == "013833501744")
        #expect(frame.header.serial == 0x19)
        guard case .position(let position) = try JT808Message.decode(frame) else { Issue.record("not a position"); return }
        #expect(position.alarm == 0)
        #expect(position.status == 0xC2)
        #expect(position.isPositioned)
        #expect(position.latitude == 22.6426)
        #expect(position.longitude == 114.032984)
        #expect(position.altitudeMetres == 128)
        #expect(position.speedKmh == 0)
        #expect(position.heading == 8)
        // 2015-08-18 07:21:21 Beijing time.
        #expect(position.time == UTCTime(year: 2015, month: 8, day: 17, hour: 23, minute: 21, second: 21))
        #expect(position.mileageKm == 75.7)
        #expect(position.items.map(\.id) == [0x01, 0x02, 0x03])
    }

    @Test func emergencyAlarmAndWestLongitude() throws {
        guard case .position(let position) = try Traccar.message(Traccar.emergencyWest) else { Issue.record("not a position"); return }
        #expect(position.alarm & JT808Position.emergencyAlarm != 0)
        #expect(position.latitude == 50.871735)
        #expect(position.longitude == -1.255923)
        #expect(position.speedKmh == 2)
        #expect(position.time == UTCTime(year: 2013, month: 4, day: 12, hour: 8, minute: 49, second: 52))
        #expect(position.mileageKm == 1.8)
        #expect(position.items.map(\.id) == [0x01, 0x36])
        #expect(position.items.last?.value.count == 10)
    }

    @Test func southAndWestHemispheres() throws {
        guard case .position(let position) = try Traccar.message(Traccar.southWest) else { Issue.record("not a position"); return }
        #expect(position.latitude == -19.591535)
        #expect(position.longitude == -46.912186)
        #expect(position.time == UTCTime(year: 2015, month: 1, day: 1, hour: 11, minute: 42, second: 57))
    }

    @Test func satellitesItem() throws {
        guard case .position(let position) = try Traccar.message(Traccar.satellites) else { Issue.record("not a position"); return }
        #expect(position.satellites == 3)
        #expect(position.latitude == 6.152695)
    }

    @Test func aFrameWhoseLengthIsWrongIsRefusedNamingTheField() throws {
        let bytes = try #require(Hex.decode(Traccar.wrongLength))
        #expect(throws: WireError(field: "header.properties.body_length", offset: 2, message: "says 50 body bytes, the frame holds 40")) {
            try JT808Frame.parse(bytes)
        }
    }

    @Test func aWrongCheckCodeIsReportedByParseAndRefusedByDecode() throws {
        var bytes = try #require(Hex.decode(Traccar.heartbeat))
        bytes[bytes.count - 2] ^= 0x01
        let parsed = try JT808Frame.parse(bytes)
        #expect(!parsed.checkCodeValid)
        #expect(parsed.frame.header.messageID == 0x0002)
        let error = try #require(throws: WireError.self) { try JT808Frame.decode(bytes) }
        #expect(error.field == "check_code")
    }

    @Test func authenticationHeartbeatAndRegistration() throws {
        #expect(try Traccar.message(Traccar.authentication) == .authenticate(JT808Authentication(code: "authentication")))
        #expect(try Traccar.message(Traccar.heartbeat) == .heartbeat)
        #expect(try Traccar.frame(Traccar.heartbeat).header.phone == "043048325465")
        guard case .register(let registration) = try Traccar.message(Traccar.registration2013) else { Issue.record("not a registration"); return }
        #expect(registration.layout == .v2013)
        #expect(registration.maker.display == "70107")
        #expect(registration.model.display == "HB-R03GBD")
        #expect(registration.terminalID.display == "2366104")
        #expect(registration.plateColour == 2)
        // 苏BA6860 in GBK.
        #expect(registration.plate.bytes == [0xCB, 0xD5] + Array("BA6860".utf8))
        guard case .register(let old) = try Traccar.message(Traccar.registration2011) else { Issue.record("not a registration"); return }
        #expect(old.layout == .v2011)
        #expect(old.province == 0x2C)
        #expect(old.model.display == "BSJ-M7B ")
    }

    @Test func blindAreaBatch() throws {
        guard case .positionBatch(let batch) = try Traccar.message(Traccar.batch) else { Issue.record("not a batch"); return }
        #expect(batch.type == JT808PositionBatch.blindArea)
        #expect(batch.positions.count == 8)
        #expect(batch.positions.first?.latitude == 22.639634)
        #expect(batch.positions.first?.time == UTCTime(year: 2016, month: 5, day: 27, hour: 1, minute: 6, second: 24))
        #expect(batch.positions.last?.time == UTCTime(year: 2016, month: 5, day: 27, hour: 1, minute: 10, second: 2))
    }

    @Test func everyTraccarFrameEncodesBackToTheSameBytes() throws {
        for hex in [Traccar.position, Traccar.emergencyWest, Traccar.southWest, Traccar.satellites, Traccar.authentication,
                    Traccar.heartbeat, Traccar.registration2013, Traccar.registration2011, Traccar.batch] {
            let frame = try Traccar.frame(hex)
            let message = try JT808Message.decode(frame)
            #expect(message.body(revision: frame.header.revision) == frame.body, "\(hex)")
            #expect(Hex.encode(frame.wire) == hex.lowercased())
        }
    }

    /// Every message the agent and centre build, in both revisions, through the decoder.
    @Test(arguments: JT808Revision.allCases)
    func everyMessageRoundTrips(revision: JT808Revision) throws {
        let time = UTCTime(year: 2026, month: 11, day: 29, hour: 19, minute: 40, second: 5)
        let position = JT808Position(alarm: JT808Position.emergencyAlarm, status: JT808Position.positionedStatus | JT808Position.westStatus,
                                     latitudeE6: 52_520_008, longitudeE6: 13_404_954, altitudeMetres: 34, speedTenthsKmh: 523, heading: 359,
                                     time: time, items: [.mileage(tenthsKm: 123_456), .satellites(9)])
        let messages: [JT808Message] = [
            .terminalResponse(JT808Response(serial: 7, messageID: 0x8300, result: JT808Response.success)),
            .platformResponse(JT808Response(serial: 65_535, messageID: 0x0200, result: JT808Response.unsupported)),
            .heartbeat,
            .register(JT808Registration(layout: revision == .v2019 ? .v2019 : .v2013, province: 44, city: 300, maker: "PTRL",
                                        model: "patrol-agent", terminalID: "CAR0007", plateColour: 1, plate: "B-PL 7")),
            .registerResponse(JT808RegistrationResponse(serial: 1, result: 0, authCode: "c0ffee-42")),
            .registerResponse(JT808RegistrationResponse(serial: 1, result: 3, authCode: "")),
            .authenticate(revision == .v2019 ? JT808Authentication(code: "c0ffee-42", imei: "356938035643809", softwareVersion: "1.4.0")
                                             : JT808Authentication(code: "c0ffee-42")),
            .position(position),
            .position(JT808Position(time: nil)),
            .positionQuery,
            .positionQueryResponse(serial: 9, position: position),
            .confirmAlarm(serial: 0, alarms: JT808Position.emergencyAlarm),
            .textMessage(JT808TextMessage(flags: 0x04, textType: revision == .v2019 ? 1 : nil, text: "Return to base")),
            .positionBatch(JT808PositionBatch(type: JT808PositionBatch.blindArea, positions: [position, position])),
            .passThrough(type: 0xF0, content: Array("{\"kind\":\"check-in\"}".utf8)),
            .setParameters([JT808Parameter(id: JT808Parameter.reportingIntervalSeconds, value: [0, 0, 0, 10])]),
            .queryParameters,
            .parameters(serial: 12, [JT808Parameter(id: JT808Parameter.reportingIntervalSeconds, dword: 30)]),
            .other(id: 0x8F00, body: [1, 2, 0x7E, 0x7D]),
        ]
        for (index, message) in messages.enumerated() {
            let frames = message.frames(phone: "01391234567" + String(repeating: "8", count: revision.phoneBytes * 2 - 11),
                                        revision: revision, serial: UInt16(index))
            #expect(frames.count == 1)
            let frame = try JT808Frame.decode(frames[0].wire)
            #expect(frame == frames[0])
            #expect(try JT808Message.decode(frame) == message, "\(message)")
        }
    }

    @Test func longBodiesAreSubPackagedWithConsecutiveSerials() throws {
        let positions = (0..<40).map { JT808Position(latitudeE6: UInt32($0), time: nil, items: [.satellites(UInt8($0))]) }
        let message = JT808Message.positionBatch(JT808PositionBatch(type: 1, positions: positions))
        let frames = message.frames(phone: "013912345678", revision: .v2013, serial: 65_535)
        #expect(frames.count == 2)
        #expect(frames.map(\.header.serial) == [65_535, 0])
        #expect(frames.map(\.header.package) == [JT808Package(total: 2, index: 1), JT808Package(total: 2, index: 2)])
        let decoded = try frames.map { try JT808Frame.decode($0.wire) }
        #expect(decoded == frames)
        #expect(try JT808Message.decode(id: 0x0704, body: decoded.flatMap(\.body), revision: .v2013) == message)
    }

    @Test func escapingCoversBothReservedBytes() throws {
        let frame = JT808Frame(header: JT808Header(messageID: 0x0900, phone: "013912345678", serial: 0x7E7D), body: [0x7E, 0x7D, 0x02, 0x01])
        let wire = frame.wire
        #expect(wire.first == 0x7E && wire.last == 0x7E)
        #expect(!wire.dropFirst().dropLast().contains(0x7E))
        #expect(try JT808Frame.decode(wire) == frame)
    }

    @Test(arguments: [
        ("7e0002007d03", "frame", 4, "bad escape 7D 03"),
        ("7e00027e00", "frame", 3, "0x7E inside a frame"),
        ("7e0002", "header", 0, "shorter than a header"),
    ])
    func badFramesNameTheFieldAndOffset(hex: String, field: String, offset: Int, message: String) throws {
        let error = try #require(throws: WireError.self) { try JT808Frame.parse(try #require(Hex.decode(hex))) }
        #expect(error.field == field)
        #expect(error.offset == offset)
        #expect(error.message.contains(message))
    }

    @Test func hostileBodiesAreRefusedNamingTheField() throws {
        // A batch declaring 65535 reports in a few bytes, an item longer than the report, a time
        // that is not BCD, and a date that does not exist.
        let cases: [(UInt16, [UInt8], String)] = [
            (0x0704, [0xFF, 0xFF, 1, 0, 0], "body.count"),
            (0x0200, [UInt8](repeating: 0, count: 22) + [0x26, 0x11, 0x29, 0x19, 0x40, 0x05, 0x01, 0x04, 0, 0], "body.extra[0]"),
            (0x0200, [UInt8](repeating: 0, count: 22) + [0x26, 0x1A, 0x29, 0x19, 0x40, 0x05], "body.time"),
            (0x0200, [UInt8](repeating: 0, count: 22) + [0x26, 0x02, 0x30, 0x19, 0x40, 0x05], "body.time"),
            (0x0001, [0, 1, 2, 3], "body.result"),
            (0x8203, [0, 1, 2, 3, 4, 5, 6], "body"),
        ]
        for (id, body, field) in cases {
            let error = try #require(throws: WireError.self) { try JT808Message.decode(id: id, body: body, revision: .v2013) }
            #expect(error.field == field, "\(error)")
        }
    }

    @Test func splitterCutsAStreamAtFlagsAndBoundsAFrameThatNeverEnds() throws {
        var splitter = JT808FrameSplitter(maxFrameBytes: 16)
        let heartbeat = try #require(Hex.decode(Traccar.heartbeat))
        var pieces = splitter.push([0x00, 0x41] + heartbeat.prefix(5))
        pieces += splitter.push(heartbeat.dropFirst(5) + heartbeat)
        #expect(pieces == [.frame(Array(heartbeat.dropFirst().dropLast())), .frame(Array(heartbeat.dropFirst().dropLast()))])
        #expect(splitter.noiseBytes == 2)
        #expect(splitter.push([0x7E] + [UInt8](repeating: 0x30, count: 100) + [0x7E]) == [.oversized(droppedBytes: 100)])
        #expect(splitter.push(heartbeat) == [.frame(Array(heartbeat.dropFirst().dropLast()))])
    }

    @Test func technicianJSONShowsTheDecodedFields() throws {
        let parsed = try JT808Frame.parse(try #require(Hex.decode(Traccar.emergencyWest)))
        let json = JT808JSON.object(parsed)
        #expect(json.hasPrefix("{\"message_id\":\"0x0200\",\"message\":\"location report\",\"revision\":\"2013\",\"phone\":\"094027587492\",\"serial\":10,\"check_code_valid\":true,"))
        #expect(json.contains("\"alarm\":1,\"status\":10,\"positioned\":true,\"latitude\":50.871735,\"longitude\":-1.255923,\"altitude_m\":0,\"speed_kmh\":2,\"direction\":0,\"time\":\"2013-04-12T08:49:52.000Z\""))
        #expect(json.contains("{\"id\":\"0x01\",\"hex\":\"00000012\",\"mileage_km\":1.8}"))
    }
}
