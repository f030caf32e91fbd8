#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import PatrolCore
import PatrolTestSupport
import PatrolUplink
import PatrolUplinkJT808
import Synchronization
import Testing

/// A JT/T 808 platform on a loopback TCP port, scripted: it registers and authenticates
/// terminals as the standard says, answers every report with 0x8001 (result chosen per message
/// id by the test), and can send 0x8203. It is the other end of the real `JT808Output` socket;
/// the codec on both sides is PatrolCore's (an independent implementation is not installable
/// here: no Java runtime for Traccar, no JT/T 808 package in the registries we may use).
final class ScriptedPlatform: @unchecked Sendable {
    struct Received: Sendable {
        var header: JT808Header
        var message: JT808Message
    }

    let port: Int
    let authCode = "AUTH-7"
    let received = Mutex<[Received]>([])
    /// 0x8001 result per message id (default 0); a value is used once, then 0.
    let results = Mutex<[UInt16: [UInt8]]>([:])
    private let listener: Int32
    private let client = Mutex<Int32>(-1)
    private let serial = Mutex<UInt16>(0)

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        listen(fd, 8)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    func messages(_ id: UInt16) -> [Received] {
        received.withLock { $0.filter { $0.header.messageID == id } }
    }

    /// Sends 0x8203 confirming the emergency alarm of report `serial` (0: every alarm).
    func confirmAlarm(serial alarmSerial: UInt16) {
        send(.confirmAlarm(serial: alarmSerial, alarms: JT808Position.emergencyAlarm), phone: received.withLock { $0.last?.header.phone } ?? "0")
    }

    private func acceptLoop() {
        while true {
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { return }
            client.withLock { $0 = fd }
            Thread { [self] in
                serve(fd)
                close(fd)
            }.start()
        }
    }

    private func serve(_ fd: Int32) {
        var splitter = JT808FrameSplitter()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { return }
            for piece in splitter.push(buffer[0..<count]) {
                guard case .frame(let bytes) = piece, let frame = try? JT808Frame.decode(bytes),
                      let message = try? JT808Message.decode(frame) else { continue }
                received.withLock { $0.append(Received(header: frame.header, message: message)) }
                answer(frame.header, message, on: fd)
            }
        }
    }

    private func answer(_ header: JT808Header, _ message: JT808Message, on fd: Int32) {
        switch message {
        case .register:
            send(.registerResponse(JT808RegistrationResponse(serial: header.serial, result: 0, authCode: JT808Text(authCode))), phone: header.phone, on: fd)
        case .authenticate(let authentication):
            let result: UInt8 = authentication.code == JT808Text(authCode) ? 0 : 1
            send(.platformResponse(JT808Response(serial: header.serial, messageID: header.messageID, result: result)), phone: header.phone, on: fd)
        case .terminalResponse:
            break
        default:
            let result = results.withLock { $0[header.messageID]?.isEmpty == false ? $0[header.messageID]!.removeFirst() : 0 }
            send(.platformResponse(JT808Response(serial: header.serial, messageID: header.messageID, result: result)), phone: header.phone, on: fd)
        }
    }

    /// Sends on `fd`, by default the newest connection (the terminal's current one).
    private func send(_ message: JT808Message, phone: String, on fd: Int32? = nil) {
        let number = serial.withLock { value -> UInt16 in value &+= 1; return value }
        let bytes = message.frames(phone: phone, revision: .v2013, serial: number).flatMap(\.wire)
        let fd = fd ?? client.withLock { $0 }
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }
}

@Suite(.serialized)
struct JT808OutputTests {
    static let start = SeveralOutputsTests.start

    static func output(_ platform: ScriptedPlatform, authFile: String) -> JT808Output {
        JT808Output(name: "platform", host: "127.0.0.1", port: platform.port, phone: "013912345678", revision: .v2013,
                    registration: JT808Registration(layout: .v2013, province: 44, city: 300, maker: "PTRL", model: "patrol-agent",
                                                    terminalID: "CAR0007", plateColour: 1, plate: "B-PL 7"),
                    authCodeFile: authFile, timeout: .seconds(5))
    }

    static func reports(_ platform: ScriptedPlatform) -> [JT808Position] {
        platform.received.withLock { $0 }.compactMap {
            if case .position(let position) = $0.message { return position } else { return nil }
        }
    }

    @Test func registersOnceKeepsTheCodeAcrossARestartAndDrainsTheBacklogAsBlindAreaBatches() async throws {
        let folder = try TemporaryDirectory()
        let authFile = folder.path + "/jt808.auth"
        let platform = try ScriptedPlatform()
        let backlog = InMemoryBacklog()
        backlog.append(SeveralOutputsTests.points(100))
        let alarm = backlog.append(SeveralOutputsTests.alarm())
        let observer = RecordingObserver(store: backlog)
        try await SeveralOutputsTests.run([Self.output(platform, authFile: authFile)], on: backlog, observer: observer) {
            _ = try await observer.waitFor("the alarm delivered and the track drained") { state in
                state.delivered.flatMap(\.events).contains(alarm) && (try? backlog.progress(output: "platform", stream: .track)) == 100 ? true : nil
            }
        }
        #expect(try String(contentsOfFile: authFile, encoding: .utf8) == platform.authCode)
        #expect(platform.messages(0x0100).count == 1)
        #expect(platform.messages(0x0102).count == 1)
        let alarmReport = try #require(Self.reports(platform).first)
        #expect(alarmReport.alarm & JT808Position.emergencyAlarm != 0, "the panic sets alarm bit 0")
        let batches = platform.messages(0x0704).compactMap { if case .positionBatch(let batch) = $0.message { batch } else { nil } }
        #expect(batches.allSatisfy { $0.type == JT808PositionBatch.blindArea })
        #expect(batches.flatMap(\.positions).count == 100, "every backlog point once")
        #expect(batches.flatMap(\.positions).allSatisfy { $0.alarm & JT808Position.emergencyAlarm != 0 },
                "the alarm stays set until the platform confirms it")
        #expect(batches.first?.positions.first?.latitude == 47.3769)

        // The board reboots: a new output with the same file authenticates without registering.
        let next = backlog.append(SeveralOutputsTests.alarm(.sos))
        try await SeveralOutputsTests.run([Self.output(platform, authFile: authFile)], on: backlog, observer: observer) {
            _ = try await observer.waitFor("the second alarm delivered") { $0.delivered.flatMap(\.events).contains(next) ? true : nil }
        }
        #expect(platform.messages(0x0100).count == 1, "a reboot does not register again")
        #expect(platform.messages(0x0102).count == 2)
    }

    @Test func progressOnlyOnResultZeroAndAWrongMessageIsADeadLetter() async throws {
        let folder = try TemporaryDirectory()
        let platform = try ScriptedPlatform()
        // The first alarm report is answered "failed" (send again), the check-in "wrong message".
        platform.results.withLock { $0[0x0200] = [JT808Response.failure]; $0[0x0900] = [JT808Response.wrongMessage, JT808Response.wrongMessage] }
        let backlog = InMemoryBacklog()
        let alarm = backlog.append(SeveralOutputsTests.alarm())
        let checkIn = backlog.append(SeveralOutputsTests.alarm(.checkIn(.button)))
        let observer = RecordingObserver(store: backlog)
        try await SeveralOutputsTests.run([Self.output(platform, authFile: folder.path + "/auth")], on: backlog, observer: observer) {
            _ = try await observer.waitFor("the alarm delivered") { $0.delivered.flatMap(\.events).contains(alarm) ? true : nil }
            _ = try await observer.waitFor("the check-in settled") { _ in
                (try? backlog.progress(output: "platform", stream: .event)) == checkIn ? true : nil
            }
        }
        #expect(Self.reports(platform).count >= 2, "the alarm was sent again after result 1")
        #expect(observer.state.withLock { $0.delivered.flatMap(\.events) } == [alarm])
        #expect(backlog.deadLetters(of: "platform").map(\.sequence) == [checkIn])
        let passThrough = try #require(platform.messages(0x0900).first)
        guard case .passThrough(let type, let content) = passThrough.message else { Issue.record("not a pass-through"); return }
        #expect(type == 0xF0)
        #expect(String(decoding: content, as: UTF8.self).contains("\"kind\":\"check-in.button\""))
    }

    @Test func aPlatformConfirmationAcknowledgesTheAlarmAndClearsTheBit() async throws {
        let folder = try TemporaryDirectory()
        let platform = try ScriptedPlatform()
        let backlog = InMemoryBacklog()
        let alarm = backlog.append(SeveralOutputsTests.alarm())
        let observer = RecordingObserver(store: backlog)
        try await SeveralOutputsTests.run([Self.output(platform, authFile: folder.path + "/auth")], on: backlog, observer: observer) {
            _ = try await observer.waitFor("the alarm delivered") { $0.delivered.flatMap(\.events).contains(alarm) ? true : nil }
            let alarmSerial = try #require(platform.messages(0x0200).first?.header.serial)
            platform.confirmAlarm(serial: alarmSerial)
            _ = try await observer.waitFor("the acknowledgement") { $0.acknowledged.first }
            backlog.append(SeveralOutputsTests.points(3))
            _ = try await observer.waitFor("the points after it") { _ in
                (try? backlog.progress(output: "platform", stream: .track)) == 3 ? true : nil
            }
        }
        #expect(observer.state.withLock { $0.acknowledged.map(\.sequence) } == [alarm])
        let confirmation = try #require(platform.messages(0x0001).first)
        guard case .terminalResponse(let response) = confirmation.message else { Issue.record("not a response"); return }
        #expect(response.messageID == 0x8203 && response.result == 0, "the terminal answers 0x8203 with 0x0001")
        let batches = platform.messages(0x0704).compactMap { if case .positionBatch(let batch) = $0.message { batch } else { nil } }
        #expect(batches.flatMap(\.positions).allSatisfy { $0.alarm == 0 }, "after the confirmation the bit is clear")
    }
}
