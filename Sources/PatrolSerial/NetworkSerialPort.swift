import Glibc
import Synchronization

/// A serial port on a network serial server (ser2net, Moxa NPort, Lantronix), reached over
/// RFC 2217 (Telnet COM Port Control): `rfc2217://host:port`.
///
/// Booths with many inputs use such servers, and they are also how the modem-line buttons are
/// tested: pseudo-terminals have no modem lines. Data, the baud rate, DTR/RTS and modem-line
/// changes (NOTIFY-MODEMSTATE, asked for with SET-MODEMSTATE-MASK) are supported; flow control,
/// break and line-state reports are not needed for buttons and readers, and left alone.
///
/// The server reports a line change as a message, so ``waitForModemLineChange(_:)`` returns for
/// changes since the last ``modemLines()`` too: a press between two reads is not lost. Reads and
/// waits take turns on the socket (call them from one thread); control calls and `close` may come
/// from any thread, and `close` ends a wait at once.
public final class NetworkSerialPort: SerialPort, @unchecked Sendable {
    static let scheme = "rfc2217://"
    /// How long ``modemLines()`` waits for the server's first modem state after connecting.
    static let firstModemStateTimeout: Duration = .seconds(3)
    static let connectTimeout: Duration = .seconds(5)

    public let path: String
    private let socket: Int32
    private let state = Mutex(State())

    private struct State {
        var decoder = RFC2217Decoder()
        var received: [UInt8] = []
        /// Input lines as last reported by the server; nil until its first report.
        var inputs: ModemLines?
        /// Input lines as last returned by `modemLines()`, what a wait compares against.
        var inputsSeen: ModemLines?
        var outputs: ModemLines = []
        var isClosed = false
    }

    /// Whether `path` names a port on a network serial server.
    public static func isNetworkPath(_ path: String) -> Bool {
        path.hasPrefix(scheme)
    }

    /// Connects to the server in `path` and sets `baud`, 8N1.
    public init(path: String, baud: Int) throws(SerialPortError) {
        self.path = path
        let (host, port) = try Self.hostAndPort(path)
        socket = try Self.connect(host: host, port: port, path: path)
        do {
            let setup = [RFC2217.interpretAsCommand, RFC2217.will, RFC2217.comPortOption,
                         RFC2217.interpretAsCommand, RFC2217.will, RFC2217.binaryOption,
                         RFC2217.interpretAsCommand, RFC2217.do, RFC2217.binaryOption]
                + RFC2217.subnegotiation(.setBaudRate, withUnsafeBytes(of: UInt32(baud).bigEndian, Array.init))
                + RFC2217.subnegotiation(.setDataSize, [8])
                + RFC2217.subnegotiation(.setParity, [1])
                + RFC2217.subnegotiation(.setStopSize, [1])
                + RFC2217.subnegotiation(.setModemStateMask, [0xFF])
            try send(setup)
        } catch {
            Glibc.close(socket)
            throw error
        }
    }

    deinit {
        Glibc.close(socket)
    }

    public func read(maxCount: Int = 4096, timeout: Duration) throws(SerialPortError) -> [UInt8] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let data = state.withLock { state in
                let taken = Array(state.received.prefix(maxCount))
                state.received.removeFirst(taken.count)
                return taken
            }
            if !data.isEmpty { return data }
            let remaining = deadline - .now
            guard remaining > .zero else { return [] }
            try receive(waitingAtMost: remaining)
        }
    }

    public func write(_ bytes: [UInt8]) throws(SerialPortError) {
        try send(RFC2217.escaped(bytes))
    }

    public func modemLines() throws(SerialPortError) -> ModemLines {
        let deadline = ContinuousClock.now + Self.firstModemStateTimeout
        while true {
            let lines = state.withLock { state -> ModemLines? in
                guard let inputs = state.inputs else { return nil }
                state.inputsSeen = inputs
                return inputs.union(state.outputs)
            }
            if let lines { return lines }
            let remaining = deadline - .now
            guard remaining > .zero else {
                throw .notSupported(path, "the serial server at \(path) reports no modem lines (no NOTIFY-MODEMSTATE within \(Self.firstModemStateTimeout)): enable RFC 2217 modem-state notification on it")
            }
            try receive(waitingAtMost: remaining)
        }
    }

    public func setDTR(_ on: Bool) throws(SerialPortError) {
        try setControl(.dtr, on: on)
    }

    public func setRTS(_ on: Bool) throws(SerialPortError) {
        try setControl(.rts, on: on)
    }

    public func waitForModemLineChange(_ lines: ModemLines) throws(SerialPortError) {
        while !state.withLock({ state in
            guard let inputs = state.inputs else { return false }
            return inputs.intersection(lines) != (state.inputsSeen ?? inputs).intersection(lines)
        }) {
            try receive(waitingAtMost: nil)
        }
    }

    /// Ends the connection; a read or wait in progress on another thread returns at once.
    public func close() {
        let wasOpen = state.withLock { state in
            defer { state.isClosed = true }
            return !state.isClosed
        }
        // Shut down rather than close: the descriptor stays valid for a thread still polling it.
        if wasOpen { shutdown(socket, Int32(SHUT_RDWR)) }
    }

    private func setControl(_ line: ModemLines, on: Bool) throws(SerialPortError) {
        try send(RFC2217.subnegotiation(.setControl, [RFC2217.controlValue(line, on: on)]))
        state.withLock { state in
            if on { state.outputs.insert(line) } else { state.outputs.remove(line) }
        }
    }

    /// Waits for what the server sends next (nil: without limit) and takes it in.
    private func receive(waitingAtMost timeout: Duration?) throws(SerialPortError) {
        try checkOpen()
        var entry = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        let milliseconds = timeout.map { Int32(clamping: $0.components.seconds * 1000 + $0.components.attoseconds / 1_000_000_000_000_000 + 1) } ?? -1
        let ready = poll(&entry, 1, milliseconds)
        if ready < 0, errno != EINTR { throw .systemCall("poll", path) }
        guard ready > 0 else { return }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
        try checkOpen()
        if count == 0 { throw .disconnected(path, "the serial server closed the connection") }
        if count < 0 {
            if errno == EINTR || errno == EAGAIN { return }
            throw Self.socketError("reading from", path)
        }
        let output = state.withLock { state in
            let output = state.decoder.decode(Array(buffer[..<count]))
            state.received += output.data
            if let latest = output.modemStates.last {
                state.inputs = ModemLines(RFC2217.modemStateBits.filter { latest & $0.bit != 0 }.map(\.line))
            }
            return output
        }
        // Refuse what the server offers beyond what we asked for, as Telnet requires an answer.
        let refusals = output.negotiations.compactMap { verb, option -> [UInt8]? in
            guard option != RFC2217.binaryOption, option != RFC2217.comPortOption else { return nil }
            switch verb {
            case RFC2217.do: return [RFC2217.interpretAsCommand, RFC2217.wont, option]
            case RFC2217.will: return [RFC2217.interpretAsCommand, RFC2217.dont, option]
            default: return nil
            }
        }
        if !refusals.isEmpty { try send(refusals.flatMap { $0 }) }
    }

    /// Sends all of `bytes` under the lock, so that two threads' commands never interleave.
    private func send(_ bytes: [UInt8]) throws(SerialPortError) {
        try state.withLock { state throws(SerialPortError) in
            guard !state.isClosed else { throw Self.closedError(path) }
            var sent = 0
            while sent < bytes.count {
                let count = bytes.withUnsafeBytes {
                    Glibc.send(socket, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL))
                }
                if count < 0 {
                    guard errno == EINTR else { throw Self.socketError("writing to", path) }
                } else {
                    sent += count
                }
            }
        }
    }

    private func checkOpen() throws(SerialPortError) {
        if state.withLock({ $0.isClosed }) { throw Self.closedError(path) }
    }

    private static func closedError(_ path: String) -> SerialPortError {
        SerialPortError(kind: .failed, path: path, message: "\(path) is already closed")
    }

    private static func socketError(_ what: String, _ path: String, errno code: Int32 = errno) -> SerialPortError {
        let reason = String(cString: strerror(code))
        switch code {
        case ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH, ENETUNREACH, EHOSTDOWN:
            return SerialPortError(kind: .deviceMissing, path: path, message:
                "no serial server answers at \(path) (\(reason)): check that the device server is powered, on the network, and serves RFC 2217 on that port")
        case ECONNRESET, EPIPE:
            return .disconnected(path, "the serial server dropped the connection: \(reason)")
        default:
            return SerialPortError(kind: .failed, path: path, message: "\(what) \(path) failed: \(reason)")
        }
    }

    private static func hostAndPort(_ path: String) throws(SerialPortError) -> (String, String) {
        let address = path.dropFirst(scheme.count)
        guard let colon = address.lastIndex(of: ":"), let port = UInt16(address[address.index(after: colon)...]),
              port > 0, colon > address.startIndex else {
            throw .notSupported(path, "\(path) is no network serial port: write rfc2217://host:port")
        }
        var host = String(address[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host, String(port))
    }

    /// Connects with a time limit: an unreachable server must not hold the input for minutes.
    private static func connect(host: String, port: String, path: String) throws(SerialPortError) -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        let lookup = getaddrinfo(host, port, &hints, &found)
        guard lookup == 0, let first = found else {
            throw SerialPortError(kind: .deviceMissing, path: path, message:
                "cannot find the serial server \(host) for \(path) (\(String(cString: gai_strerror(lookup)))): check the name and the network")
        }
        defer { freeaddrinfo(first) }
        var lastError = ECONNREFUSED
        for candidate in sequence(first: first, next: { $0.pointee.ai_next }) {
            let address = candidate.pointee
            let fd = Glibc.socket(address.ai_family, address.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), address.ai_protocol)
            guard fd >= 0 else {
                lastError = errno
                continue
            }
            var noDelay: Int32 = 1 // commands are a few bytes; Nagle would hold an LED change back
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
            let flags = fcntl(fd, F_GETFL)
            _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
            let started = Glibc.connect(fd, address.ai_addr, address.ai_addrlen) == 0 || errno == EINPROGRESS
            lastError = started ? connectionResult(fd) : errno
            if lastError == 0 {
                _ = fcntl(fd, F_SETFL, flags)
                return fd
            }
            Glibc.close(fd)
        }
        throw socketError("connecting to", path, errno: lastError)
    }

    /// Waits for a non-blocking connect to finish; 0 or the errno it failed with.
    private static func connectionResult(_ fd: Int32) -> Int32 {
        var entry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        let (seconds, attoseconds) = connectTimeout.components
        guard poll(&entry, 1, Int32(seconds * 1000 + attoseconds / 1_000_000_000_000_000)) > 0 else { return ETIMEDOUT }
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        return error
    }
}
