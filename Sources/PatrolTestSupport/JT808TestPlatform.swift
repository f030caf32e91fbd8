import Foundation
#if canImport(Glibc)
import Glibc
#endif
import PatrolCore
import Synchronization

/// A JT/T 808 platform on a loopback TCP port, scripted: it registers and authenticates
/// terminals as the standard says, answers every report with 0x8001 (result chosen per message
/// id by the test), and can send 0x8203. It is the other end of the agent's real socket (`JT808Output`
/// in-process, or the `patrol-agent` process); the codec on both sides is PatrolCore's (an independent implementation is not installable
/// here: no Java runtime for Traccar, no JT/T 808 package in the registries we may use).
public final class JT808TestPlatform: @unchecked Sendable {
    public struct Received: Sendable {
        public var header: JT808Header
        public var message: JT808Message
    }

    public let port: Int
    public let authCode = "AUTH-7"
    public let received = Mutex<[Received]>([])
    /// 0x8001 result per message id (default 0); a value is used once, then 0.
    public let results = Mutex<[UInt16: [UInt8]]>([:])
    private let listener: Int32
    private let client = Mutex<Int32>(-1)
    private let serial = Mutex<UInt16>(0)

    public init() throws {
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

    public func messages(_ id: UInt16) -> [Received] {
        received.withLock { $0.filter { $0.header.messageID == id } }
    }

    /// Sends 0x8203 confirming the emergency alarm of report `serial` (0: every alarm).
    public func confirmAlarm(serial alarmSerial: UInt16) {
        command(.confirmAlarm(serial: alarmSerial, alarms: JT808Position.emergencyAlarm))
    }

    /// Sends a platform command (0x8300, 0x8103, 0x8104, …) to the terminal's current connection.
    public func command(_ message: JT808Message) {
        send(message, phone: received.withLock { $0.last?.header.phone } ?? "0")
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

    /// Every position the platform decoded from 0x0704 batches, in arrival order.
    public var batchPositions: [JT808Position] {
        received.withLock { $0 }.flatMap { received -> [JT808Position] in
            if case .positionBatch(let batch) = received.message { batch.positions } else { [] }
        }
    }

    /// Every 0x0200 report with its header.
    public var reports: [(header: JT808Header, position: JT808Position)] {
        received.withLock { $0 }.compactMap { received in
            if case .position(let position) = received.message { (received.header, position) } else { nil }
        }
    }
}
