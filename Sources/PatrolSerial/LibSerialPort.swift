import CSerialPort
import Glibc

/// A serial port opened through libserialport, for real UARTs and USB adapters.
///
/// libserialport 0.1.1 finds a port under /sys/class/tty and configures it with modem-line
/// ioctls, so it cannot open pseudo-terminals; those fail early with a message that says to use
/// the termios driver. Waiting for input and for modem-line changes uses the descriptor
/// libserialport opened (its own blocking read spins on a hung-up device).
public final class LibSerialPort: SerialPort {
    public let path: String
    private var port: OpaquePointer?
    private let fd: Int32

    /// Opens `path` (a device or a symlink to one, like /dev/serial/by-id/…) at `baud`, 8N1, no flow control.
    public init(path: String, baud: Int) throws(SerialPortError) {
        self.path = path
        guard let resolved = realpath(path, nil) else { throw .systemCall("open", path) }
        let devicePath = String(cString: resolved)
        free(resolved)
        if devicePath.hasPrefix("/dev/pts/") || devicePath == "/dev/ptmx" {
            throw .notSupported(path, "\(path) is a pseudo-terminal (\(devicePath)), which libserialport 0.1.1 cannot open: set driver = \"termios\" for it")
        }
        var found: OpaquePointer?
        guard sp_get_port_by_name(devicePath, &found) == SP_OK, let found else {
            throw .notSupported(path, "\(path) (\(devicePath)) is not a serial port libserialport knows (nothing under /sys/class/tty): check the path, or set driver = \"termios\"")
        }
        port = found
        var handle: Int32 = -1
        do throws(SerialPortError) {
            try Self.check(sp_open(found, SP_MODE_READ_WRITE), "open", path)
            try Self.check(sp_set_baudrate(found, Int32(baud)), "setting \(baud) baud", path)
            try Self.check(sp_set_bits(found, 8), "setting 8 data bits", path)
            try Self.check(sp_set_parity(found, SP_PARITY_NONE), "setting no parity", path)
            try Self.check(sp_set_stopbits(found, 1), "setting 1 stop bit", path)
            try Self.check(sp_set_flowcontrol(found, SP_FLOWCONTROL_NONE), "turning off flow control", path)
            try Self.check(sp_get_port_handle(found, &handle), "getting the descriptor", path)
        } catch {
            sp_close(found)
            sp_free_port(found)
            throw error
        }
        fd = handle
    }

    deinit {
        close()
    }

    public func read(maxCount: Int = 4096, timeout: Duration) throws(SerialPortError) -> [UInt8] {
        let port = try openPort()
        guard try FileDescriptorSerialLine.waitReadable(fd, timeout: timeout, path: path) else { return [] }
        var buffer = [UInt8](repeating: 0, count: maxCount)
        let count = buffer.withUnsafeMutableBytes { sp_nonblocking_read(port, $0.baseAddress, maxCount) }
        try Self.check(count, "read", path)
        // Readable but nothing to read: the device hung up.
        guard count.rawValue > 0 else { throw .disconnected(path, "end of file") }
        return Array(buffer[..<Int(count.rawValue)])
    }

    public func write(_ bytes: [UInt8]) throws(SerialPortError) {
        let port = try openPort()
        let result = bytes.withUnsafeBytes { sp_blocking_write(port, $0.baseAddress, bytes.count, 0) }
        try Self.check(result, "write", path)
    }

    public func modemLines() throws(SerialPortError) -> ModemLines {
        var signals = sp_signal(rawValue: 0)
        try Self.check(sp_get_signals(try openPort(), &signals), "reading modem lines", path)
        let mapping: [(sp_signal, ModemLines)] = [(SP_SIG_CTS, .cts), (SP_SIG_DSR, .dsr), (SP_SIG_DCD, .dcd), (SP_SIG_RI, .ri)]
        return ModemLines(mapping.filter { signals.rawValue & $0.0.rawValue != 0 }.map(\.1))
    }

    public func setDTR(_ on: Bool) throws(SerialPortError) {
        try Self.check(sp_set_dtr(try openPort(), on ? SP_DTR_ON : SP_DTR_OFF), "setting DTR", path)
    }

    public func setRTS(_ on: Bool) throws(SerialPortError) {
        try Self.check(sp_set_rts(try openPort(), on ? SP_RTS_ON : SP_RTS_OFF), "setting RTS", path)
    }

    public func waitForModemLineChange(_ lines: ModemLines) throws(SerialPortError) {
        _ = try openPort()
        try FileDescriptorSerialLine.waitForModemLineChange(fd, lines, path: path)
    }

    public func close() {
        guard let port else { return }
        sp_close(port)
        sp_free_port(port)
        self.port = nil
    }

    private func openPort() throws(SerialPortError) -> OpaquePointer {
        guard let port else { throw SerialPortError(kind: .failed, path: path, message: "\(path) is already closed") }
        return port
    }

    /// Turns a libserialport result into an error; `SP_ERR_FAIL` carries the system's errno.
    private static func check(_ result: sp_return, _ what: String, _ path: String) throws(SerialPortError) {
        switch result.rawValue {
        case 0...: return
        case SP_ERR_FAIL.rawValue: throw .systemCall(what, path, errno: sp_last_error_code())
        case SP_ERR_SUPP.rawValue: throw .notSupported(path, "\(what) is not supported by libserialport for \(path)")
        default: throw SerialPortError(kind: .failed, path: path, message: "\(what) failed on \(path) (libserialport error \(result.rawValue))")
        }
    }
}
