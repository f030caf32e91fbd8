import Foundation
import PatrolCore

/// A network serial server (RFC 2217) on 127.0.0.1 whose "serial port" the test plays: it sets
/// the status lines a button would pull, sends data, reads what the client wrote and set, and
/// unplugs the port. Real TCP, so the client under test is exercised as against ser2net.
///
/// It is the deliberate stand-in for a serial port with modem lines: pseudo-terminals have none,
/// and libserialport 0.1.1 cannot open them. One client at a time, as a serial port has one user.
/// Call ``unplug()`` when done: the serving thread holds the server until then.
public final class RFC2217TestServer: @unchecked Sendable {
    public let port: Int
    /// What the code under test opens.
    public var path: String { "rfc2217://127.0.0.1:\(port)" }

    private let lock = NSLock()
    private var listener: Int32 = -1
    private var client: Int32 = -1
    private var statusLines: Set<ModemStatusLine> = []
    private var lastNotified: UInt8 = 0
    private var controlLines: Set<ModemControlLine> = []
    private var controlChanges: [(line: ModemControlLine, on: Bool)] = []
    private var receivedData: [UInt8] = []
    private var baudRates: [Int] = []
    private var subscribedClientCount = 0

    private static let iac: UInt8 = 255, will: UInt8 = 251, wont: UInt8 = 252, doOption: UInt8 = 253
    private static let dont: UInt8 = 254, sb: UInt8 = 250, se: UInt8 = 240, comPort: UInt8 = 44
    private static let stateBits: [(ModemStatusLine, UInt8)] = [(.cts, 0x10), (.dsr, 0x20), (.ri, 0x40), (.dcd, 0x80)]

    /// Listens on a free port.
    public init() throws {
        let fd = try Self.listen(port: 0)
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        start(listener: fd)
    }

    // MARK: What the test does

    /// Asserts or releases a status line, as a button's contact would; the client is notified.
    public func setLine(_ line: ModemStatusLine, asserted: Bool) {
        lock.withLock {
            if asserted { statusLines.insert(line) } else { statusLines.remove(line) }
            notifyModemStateLocked()
        }
    }

    /// Sends `text` as serial data to the client.
    public func send(_ text: String) {
        lock.withLock { sendLocked(Array(text.utf8).flatMap { $0 == Self.iac ? [$0, $0] : [$0] }) }
    }

    /// How many connections so far asked for modem-state notifications: a client that did is ready for presses.
    public var subscribedClients: Int { lock.withLock { subscribedClientCount } }

    /// Whether a client is connected now.
    public var hasClient: Bool { lock.withLock { client >= 0 } }

    /// Serial data the client wrote, as text.
    public var receivedText: String { lock.withLock { String(decoding: receivedData, as: UTF8.self) } }

    /// Whether the client holds DTR or RTS asserted now.
    public func isAsserted(_ line: ModemControlLine) -> Bool { lock.withLock { controlLines.contains(line) } }

    /// Every DTR/RTS change the client asked for, in order.
    public var controlHistory: [(line: ModemControlLine, on: Bool)] { lock.withLock { controlChanges } }

    public var requestedBaudRates: [Int] { lock.withLock { baudRates } }

    /// Drops the client and refuses new connections, as when a device server loses power or its
    /// cable is pulled. The status lines keep their levels for ``plugIn()``.
    public func unplug() {
        lock.withLock {
            if listener >= 0 { shutdown(listener, Int32(SHUT_RDWR)) }
            if client >= 0 { shutdown(client, Int32(SHUT_RDWR)) }
        }
        _ = waitUntil(timeout: 5) { lock.withLock { listener < 0 && client < 0 } ? true : nil }
    }

    /// Accepts connections again on the same port.
    public func plugIn() throws {
        start(listener: try Self.listen(port: port))
    }

    // MARK: Serving

    private func start(listener fd: Int32) {
        lock.withLock { listener = fd }
        Thread { [self] in serve(listener: fd) }.start()
    }

    private func serve(listener fd: Int32) {
        while true {
            let accepted = accept(fd, nil, nil)
            guard accepted >= 0 else { break }
            // A line change is a few bytes; Nagle plus the client's delayed ack would hold it ~40 ms.
            var noDelay: Int32 = 1
            setsockopt(accepted, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
            lock.withLock {
                client = accepted
                lastNotified = 0
            }
            var parser = ClientParser()
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = buffer.withUnsafeMutableBytes { recv(accepted, $0.baseAddress, $0.count, 0) }
                guard count > 0 else { break }
                for item in parser.parse(buffer[..<count]) { handle(item) }
            }
            lock.withLock { client = -1 }
            close(accepted)
            if lock.withLock({ listener < 0 }) { break }
        }
        lock.withLock { listener = -1 }
        close(fd)
    }

    private func handle(_ item: ClientParser.Item) {
        lock.withLock {
            switch item {
            case .data(let byte):
                receivedData.append(byte)
            case .negotiation(let verb, let option):
                // Agree to what the client asks for; it does not answer agreements, so no loop.
                let answer = verb == Self.will ? Self.doOption : verb == Self.doOption ? Self.will : nil
                if let answer { sendLocked([Self.iac, answer, option]) }
            case .comPort(let command, let value):
                switch command {
                case 1 where value.count == 4:
                    baudRates.append(value.reduce(0) { $0 << 8 | Int($1) })
                case 5:
                    let changes: [UInt8: (ModemControlLine, Bool)] = [8: (.dtr, true), 9: (.dtr, false),
                                                                      11: (.rts, true), 12: (.rts, false)]
                    if let first = value.first, let (line, on) = changes[first] {
                        if on { controlLines.insert(line) } else { controlLines.remove(line) }
                        controlChanges.append((line, on))
                    }
                default:
                    break
                }
                let escapedValue = value.flatMap { $0 == Self.iac ? [$0, $0] : [$0] }
                sendLocked([Self.iac, Self.sb, Self.comPort, command + 100] + escapedValue + [Self.iac, Self.se])
                if command == 11 {
                    subscribedClientCount += 1
                    lastNotified = 0xFF // force a first report of the current levels
                    notifyModemStateLocked()
                }
            }
        }
    }

    /// Sends NOTIFY-MODEMSTATE with the levels and which of them changed since the last report.
    private func notifyModemStateLocked() {
        let levels = Self.stateBits.filter { statusLines.contains($0.0) }.reduce(UInt8(0)) { $0 | $1.1 }
        let deltas = (levels ^ lastNotified) >> 4
        lastNotified = levels
        sendLocked([Self.iac, Self.sb, Self.comPort, 107, levels | deltas, Self.iac, Self.se])
    }

    private func sendLocked(_ bytes: [UInt8]) {
        guard client >= 0 else { return }
        _ = bytes.withUnsafeBytes { Foundation.send(client, $0.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) }
    }

    private static func listen(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SystemCallError("socket") }
        var reuse: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in.loopback(port: port)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard bound, Foundation.listen(fd, 4) == 0 else {
            let error = SystemCallError("listening on 127.0.0.1:\(port)")
            close(fd)
            throw error
        }
        return fd
    }
}

/// The client's Telnet stream, split into data bytes, option negotiations and COM-PORT commands.
private struct ClientParser {
    enum Item {
        case data(UInt8)
        case negotiation(verb: UInt8, option: UInt8)
        case comPort(command: UInt8, value: [UInt8])
    }

    private enum Phase { case data, command, option(UInt8), sub, subCommand }
    private var phase = Phase.data
    private var sub: [UInt8] = []

    mutating func parse(_ bytes: ArraySlice<UInt8>) -> [Item] {
        var items: [Item] = []
        for byte in bytes {
            switch phase {
            case .data:
                if byte == 255 { phase = .command } else { items.append(.data(byte)) }
            case .command:
                switch byte {
                case 255: items.append(.data(byte)); phase = .data
                case 251...254: phase = .option(byte)
                case 250: sub = []; phase = .sub
                default: phase = .data
                }
            case .option(let verb):
                items.append(.negotiation(verb: verb, option: byte))
                phase = .data
            case .sub:
                if byte == 255 { phase = .subCommand } else { sub.append(byte) }
            case .subCommand:
                if byte == 255 {
                    sub.append(byte)
                    phase = .sub
                } else {
                    if sub.count >= 2, sub[0] == 44 { items.append(.comPort(command: sub[1], value: Array(sub[2...]))) }
                    phase = .data
                }
            }
        }
        return items
    }
}
