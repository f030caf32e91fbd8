/// Which implementation opens a serial port; the `driver` key of a serial input's configuration.
public enum SerialDriver: String, Sendable, CaseIterable {
    /// libserialport, for real UARTs and USB adapters.
    case libserialport
    /// open(2) and termios, for anything that is a tty, pseudo-terminals included.
    case termios
    /// libserialport for the kernel's names of real ports (/dev/ttyUSB*, ttyACM*, ttyS*, ttyAMA*), termios otherwise.
    case auto
}

/// Opens serial ports with the configured driver, so that sources need not know which one.
public struct SerialPortOpener: Sendable {
    public var driver: SerialDriver

    public init(driver: SerialDriver = .auto) {
        self.driver = driver
    }

    /// The driver `auto` picks for `path`, or the configured one.
    public func effectiveDriver(for path: String) -> SerialDriver {
        guard driver == .auto else { return driver }
        let realPortPrefixes = ["/dev/ttyUSB", "/dev/ttyACM", "/dev/ttyS", "/dev/ttyAMA"]
        return realPortPrefixes.contains { path.hasPrefix($0) } ? .libserialport : .termios
    }

    /// Opens `path` with the configured driver; an `rfc2217://host:port` path is always a
    /// ``NetworkSerialPort``, whatever the driver.
    public func open(path: String, baud: Int) throws(SerialPortError) -> any SerialPort {
        if NetworkSerialPort.isNetworkPath(path) { return try NetworkSerialPort(path: path, baud: baud) }
        return switch effectiveDriver(for: path) {
        case .libserialport: try LibSerialPort(path: path, baud: baud)
        case .termios, .auto: try TermiosSerialPort(path: path, baud: baud)
        }
    }
}
