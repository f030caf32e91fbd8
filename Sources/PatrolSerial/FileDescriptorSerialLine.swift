import Glibc

/// The poll(2) and ioctl(2) work that both serial drivers do on the port's file descriptor.
///
/// libserialport 0.1.1 has no modem-line wait and its blocking read spins on a hung-up device,
/// so `LibSerialPort` uses these too, on the descriptor libserialport opened.
enum FileDescriptorSerialLine {
    /// Waits up to `timeout` for input; false on timeout. Throws `.disconnected` on hang-up.
    static func waitReadable(_ fd: Int32, timeout: Duration, path: String) throws(SerialPortError) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let (seconds, attoseconds) = timeout.components
        let milliseconds = Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000)
        let ready = poll(&entry, 1, milliseconds)
        if ready < 0 {
            if errno == EINTR { return false }
            throw .systemCall("poll", path)
        }
        guard ready > 0 else { return false }
        if entry.revents & Int16(POLLIN) != 0 { return true }
        throw .disconnected(path, "hang-up")
    }

    /// Reads what is available after `waitReadable` said so; end of file means the device is gone.
    static func readAvailable(_ fd: Int32, maxCount: Int, path: String) throws(SerialPortError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: maxCount)
        let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, maxCount) }
        if count > 0 { return Array(buffer[..<count]) }
        if count == 0 { throw .disconnected(path, "end of file") }
        if errno == EAGAIN || errno == EINTR { return [] }
        throw .systemCall("read", path)
    }

    static func modemLines(_ fd: Int32, path: String) throws(SerialPortError) -> ModemLines {
        var bits: Int32 = 0
        guard ioctl(fd, UInt(TIOCMGET), &bits) == 0 else { throw modemLineError("reading modem lines", path) }
        return ModemLines(rawValue: bits)
    }

    static func setModemLines(_ fd: Int32, _ lines: ModemLines, on: Bool, path: String) throws(SerialPortError) {
        var bits = lines.rawValue
        guard ioctl(fd, UInt(on ? TIOCMBIS : TIOCMBIC), &bits) == 0 else {
            throw modemLineError("setting modem lines", path)
        }
    }

    static func waitForModemLineChange(_ fd: Int32, _ lines: ModemLines, path: String) throws(SerialPortError) {
        while ioctl(fd, UInt(TIOCMIWAIT), Int32(lines.rawValue)) != 0 {
            guard errno == EINTR else { throw modemLineError("waiting for a modem line change", path) }
        }
    }

    private static func modemLineError(_ what: String, _ path: String) -> SerialPortError {
        let code = errno
        guard code == ENOTTY || code == EINVAL || code == EOPNOTSUPP else { return .systemCall(what, path, errno: code) }
        return .notSupported(path, "\(what) is not supported by \(path): a pseudo-terminal or this adapter has no modem lines; use a serial port with CTS/DSR/DCD/RI wired")
    }
}
