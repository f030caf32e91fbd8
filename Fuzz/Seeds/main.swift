#if canImport(Glibc)
import Glibc
#endif
import PatrolCore

// Writes the seed inputs that are built rather than read from fixtures: button box sessions,
// tag reader lines, uplink batches and signed request headers, each made by the same code the agent
// uses to produce them, so the seeds are valid inputs the fuzzer then mutates.
// Usage: fuzz-seeds DIRECTORY   (writes DIRECTORY/<target>/<name>)

let root = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "seeds"

func write(_ target: String, _ name: String, _ bytes: [UInt8]) {
    let folder = root + "/" + target
    mkdir(root, 0o755)
    mkdir(folder, 0o755)
    guard let file = fopen(folder + "/" + name, "wb") else { fatalError("cannot write \(folder)/\(name)") }
    _ = bytes.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count, file) }
    fclose(file)
}

func frames(_ messages: [(UInt16, ButtonBoxMessage)]) -> [UInt8] {
    messages.flatMap { Array(ButtonBoxFrame(sequence: $0.0, message: $0.1).line.utf8) }
}

// A box's boot, a press held long, a repeated frame, a heartbeat recovering a lost up, silence
// (0xFF then a clock step), a reboot.
write("plbx", "press", frames([(0, .hello(boxID: "BX-0042", firmware: "1.3.0", uptimeSeconds: 0)),
                              (1, .buttonDown(button: 1)), (1, .buttonDown(button: 1))])
    + [0xFF, 80] + frames([(2, .heartbeat(uptimeSeconds: 4, buttonsDown: [1])), (3, .buttonUp(button: 1))]))
write("plbx", "lost-up", frames([(7, .buttonDown(button: 2)), (9, .heartbeat(uptimeSeconds: 9, buttonsDown: []))])
    + [0xFF, 100, 0xFF, 1] + frames([(0, .hello(boxID: "BX-0042", firmware: "1.3.0", uptimeSeconds: 0))]))
// PLBX 2: the offer, a numbered press with the box's times, a press after a reset, a heartbeat
// announcing presses that never come.
write("plbx", "plbx2", frames([(0, .hello(boxID: "BX-0042", firmware: "2.0.0", uptimeSeconds: 0,
                                          offer: ButtonBoxOffer(highestProtocol: 2, incarnation: 0x1A2B_3C4D))),
                               (1, .pressDown(button: 1, press: 7, ageMilliseconds: 40)), (2, .heartbeat(uptimeSeconds: 1, buttonsDown: [1], lastPress: 7)),
                               (3, .pressUp(button: 1, press: 7, heldMilliseconds: 3400))])
    + [0xFF, 100] + frames([(4, .pressUp(button: 2, press: 8, heldMilliseconds: 10, afterReset: true)),
                            (5, .heartbeat(uptimeSeconds: 9, buttonsDown: [], lastPress: 20))]))
write("plbx", "commands", frames([(65_535, .ack(sequence: 65_535)), (3, .led(index: 2, pattern: .slowBlink)),
                                 (4, .buzzer(pattern: .doublePulse)), (5, .query)]) + Array("\u{0}noise$PLBX,1*00\r\n".utf8))

write("tagreader", "em4100", Array("62E3086CED\r\n62e3086ced08\n".utf8) + [0x02] + Array("62E3086CED08".utf8) + [0x03])
write("tagreader", "decimal", Array("0001780797\r\n 12345678 \n".utf8))

let base = UTCTime(millisecondsSinceEpoch: 1_700_000_000_000)
let points = (0..<40).map { (index: Int) -> TrackRecord in
    let step = Int64(index)
    return TrackRecord(sequence: UInt64(100 + index), timeMilliseconds: base.millisecondsSinceEpoch + step * 1000,
                          latitudeE7: 525_200_000 + step * step * 30, longitudeE7: 134_050_000 - step * 55,
                          mode: index % 7 == 0 ? .twoD : .threeD, altitudeDecimetres: index % 3 == 0 ? nil : 341 + step,
                          speedCentimetresPerSecond: step * 37 % 1500, trackCentidegrees: index % 5 == 0 ? nil : step * 911 % 36_000,
                          hdopHundredths: 90 + step % 4, satellitesUsed: 9)
}
let events = [
    UplinkEvent(sequence: 1, kind: EventKind.panic(silent: false).code, time: base, timeSource: "gnss",
                position: UplinkEventPosition(latitudeE7: 525_200_000, longitudeE7: 134_050_000, fixAgeMilliseconds: 800),
                buttonID: "booth-panic", payloadJSON: "{\"held_ms\":120}"),
    UplinkEvent(sequence: 2, kind: EventKind.faultRestore(.boxSilent).code, time: base, timeSource: "system", payloadJSON: "{}"),
]
let heartbeats = [UplinkHeartbeat(sequence: 3, time: base, timeSource: "gnss", pendingRecords: 12)]
let batch = UplinkBatch(deviceID: "car-12", downlinkAcknowledgedThrough: 5, trackPoints: points, events: events, heartbeats: heartbeats)
write("uplink", "deflated", batch.encoded(deflate: true))
write("uplink", "plain", batch.encoded(deflate: false))
write("uplink", "events-only", UplinkBatch(deviceID: "booth-3", events: events).encoded(deflate: false))
write("uplink", "empty", UplinkBatch(deviceID: "x").encoded(deflate: true))

let key = Array(0..<32).map(UInt8.init)
let body = batch.encoded()
let nonce = "00112233445566778899aabbccddeeff"
let signature = RequestSignature.signature(key: key, method: "POST", path: "/v1/ingest", timestampMilliseconds: base.millisecondsSinceEpoch,
                                           nonce: nonce, body: body)
write("signature", "valid", Array("POST\n/v1/ingest\n\(base.millisecondsSinceEpoch)\n\(nonce)\n\(signature)\n\(Hex.encode(key))\n".utf8) + body)
write("signature", "hostile", Array("post\n/v1/ingest?x=1\n-9223372036854775808\nZZ\n\(signature.uppercased())\nkey\n".utf8))

// JT/T 808: a terminal's session in both revisions (registration, authentication, a panic report,
// a blind-area batch) and the platform's answers, as the agent and centre build them.
let jt808Position = JT808Position(alarm: JT808Position.emergencyAlarm, status: JT808Position.positionedStatus, latitudeE6: 52_520_008,
                                  longitudeE6: 13_404_954, altitudeMetres: 34, speedTenthsKmh: 523, heading: 90, time: base,
                                  items: [.mileage(tenthsKm: 1234), .satellites(9)])
for revision in JT808Revision.allCases {
    let phone = String(repeating: "0", count: revision.phoneBytes * 2 - 11) + "13912345678"
    let messages: [JT808Message] = [
        .register(JT808Registration(layout: revision == .v2019 ? .v2019 : .v2013, province: 44, city: 300, maker: "PTRL",
                                    model: "patrol-agent", terminalID: "CAR0007", plateColour: 1, plate: "B-PL 7")),
        .registerResponse(JT808RegistrationResponse(serial: 0, result: 0, authCode: "c0ffee")),
        .authenticate(JT808Authentication(code: "c0ffee", imei: revision == .v2019 ? "356938035643809" : nil,
                                          softwareVersion: revision == .v2019 ? "1.0" : nil)),
        .platformResponse(JT808Response(serial: 2, messageID: 0x0102, result: 0)),
        .heartbeat, .position(jt808Position),
        .positionBatch(JT808PositionBatch(type: JT808PositionBatch.blindArea, positions: Array(repeating: jt808Position, count: 3))),
        .confirmAlarm(serial: 0, alarms: 1), .positionQuery, .positionQueryResponse(serial: 7, position: jt808Position),
        .textMessage(JT808TextMessage(flags: 4, textType: revision == .v2019 ? 1 : nil, text: "return")),
        .setParameters([JT808Parameter(id: 0x29, value: [0, 0, 0, 10])]), .queryParameters,
        .parameters(serial: 3, [JT808Parameter(id: 0x29, dword: 10), JT808Parameter(id: 0x28, dword: 5)]), .passThrough(type: 0xF0, content: Array("{}".utf8)),
    ]
    let stream = messages.enumerated().flatMap { $0.element.frames(phone: phone, revision: revision, serial: UInt16($0.offset))
        .flatMap(\.wire) }
    write("jt808", "session-\(revision.rawValue)", stream)
}
