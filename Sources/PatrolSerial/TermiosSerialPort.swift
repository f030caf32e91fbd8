import Glibc

/// A serial port opened with open(2) and set to raw mode with termios.
///
/// Works on every tty the kernel offers, including pseudo-terminals (tests, `socat` bridges,
/// network receivers exposed as ptys), which libserialport 0.1.1 cannot open.
public final class TermiosSerialPort: SerialPort {
    public let path: String
    private var fd: Int32

    /// Opens `path` at `baud`, 8N1, raw, without making it the agent's controlling terminal.
    public init(path: String, baud: Int) throws(SerialPortError) {
        self.path = path
        let speed = try Self.speed(baud, path: path)
        fd = Glibc.open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw .systemCall("open", path) }
        do {
            try configureRaw(speed: speed)
        } catch {
            close()
            throw error
        }
    }

    deinit {
        close()
    }

    public func read(maxCount: Int = 4096, timeout: Duration) throws(SerialPortError) -> [UInt8] {
        guard try FileDescriptorSerialLine.waitReadable(openDescriptor(), timeout: timeout, path: path) else { return [] }
        return try FileDescriptorSerialLine.readAvailable(fd, maxCount: maxCount, path: path)
    }

    public func write(_ bytes: [UInt8]) throws(SerialPortError) {
        var written = 0
        while written < bytes.count {
            let fd = try openDescriptor()
            let count = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, bytes.count - written) }
            if count >= 0 {
                written += count
            } else if errno == EAGAIN {
                // The output buffer is full: wait until it drains instead of spinning.
                var entry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                _ = poll(&entry, 1, 1000)
            } else if errno != EINTR {
                throw .systemCall("write", path)
            }
        }
    }

    public func modemLines() throws(SerialPortError) -> ModemLines {
        try FileDescriptorSerialLine.modemLines(openDescriptor(), path: path)
    }

    public func setDTR(_ on: Bool) throws(SerialPortError) {
        try FileDescriptorSerialLine.setModemLines(openDescriptor(), .dtr, on: on, path: path)
    }

    public func setRTS(_ on: Bool) throws(SerialPortError) {
        try FileDescriptorSerialLine.setModemLines(openDescriptor(), .rts, on: on, path: path)
    }

    public func waitForModemLineChange(_ lines: ModemLines) throws(SerialPortError) {
        try FileDescriptorSerialLine.waitForModemLineChange(openDescriptor(), lines, path: path)
    }

    public func close() {
        guard fd >= 0 else { return }
        Glibc.close(fd)
        fd = -1
    }

    private func openDescriptor() throws(SerialPortError) -> Int32 {
        guard fd >= 0 else { throw SerialPortError(kind: .failed, path: path, message: "\(path) is already closed") }
        return fd
    }

    private func configureRaw(speed: speed_t) throws(SerialPortError) {
        var settings = termios()
        guard tcgetattr(fd, &settings) == 0 else { throw .systemCall("tcgetattr", path) }
        cfmakeraw(&settings)
        // Ignore modem control for reading (CLOCAL): a receiver does not raise DCD.
        settings.c_cflag |= tcflag_t(CLOCAL | CREAD)
        withUnsafeMutableBytes(of: &settings.c_cc) { controlCharacters in
            controlCharacters[Int(VMIN)] = 0 // reads return what is there; poll(2) does the waiting
            controlCharacters[Int(VTIME)] = 0
        }
        guard cfsetispeed(&settings, speed) == 0, cfsetospeed(&settings, speed) == 0,
              tcsetattr(fd, TCSANOW, &settings) == 0 else { throw .systemCall("tcsetattr", path) }
    }

    private static func speed(_ baud: Int, path: String) throws(SerialPortError) -> speed_t {
        let speeds: [Int: Int32] = [
            1200: B1200, 2400: B2400, 4800: B4800, 9600: B9600, 19_200: B19200, 38_400: B38400,
            57_600: B57600, 115_200: B115200, 230_400: B230400, 460_800: B460800, 921_600: B921600,
        ]
        guard let speed = speeds[baud] else {
            throw .notSupported(path, "baud rate \(baud) for \(path) is not one of \(speeds.keys.sorted())")
        }
        return speed_t(speed)
    }
}
