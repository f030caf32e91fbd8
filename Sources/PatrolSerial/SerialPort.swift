import PatrolCore

/// The RS-232 status and control lines (`TIOCM_*`), read for buttons wired to a port and set to
/// power or reset what hangs on it.
public struct ModemLines: OptionSet, Sendable, Hashable {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// Inputs.
    public static let cts = ModemLines(rawValue: 0x020)
    public static let dsr = ModemLines(rawValue: 0x100)
    public static let dcd = ModemLines(rawValue: 0x040)
    public static let ri = ModemLines(rawValue: 0x080)
    /// Outputs.
    public static let dtr = ModemLines(rawValue: 0x002)
    public static let rts = ModemLines(rawValue: 0x004)

    public static let inputs: ModemLines = [.cts, .dsr, .dcd, .ri]
}

/// One open serial line: bytes from an NMEA receiver now, buttons on modem status lines next.
///
/// Calls block (up to their timeout), so an owner uses a port from one thread of its own, never
/// from Swift's cooperative pool. Every error names the device and says what to do.
public protocol SerialPort: AnyObject {
    /// The path the port was opened with.
    var path: String { get }

    /// Waits up to `timeout` for input (poll(2), not a busy loop) and returns what arrived,
    /// at most `maxCount` bytes; empty when nothing came in time.
    /// Throws `.disconnected` when the device hung up or went away.
    func read(maxCount: Int, timeout: Duration) throws(SerialPortError) -> [UInt8]

    /// Writes all of `bytes`.
    func write(_ bytes: [UInt8]) throws(SerialPortError)

    /// The current state of all modem lines; `.notSupported` when the device has none (a pty).
    func modemLines() throws(SerialPortError) -> ModemLines

    /// Raises or lowers DTR.
    func setDTR(_ on: Bool) throws(SerialPortError)

    /// Raises or lowers RTS.
    func setRTS(_ on: Bool) throws(SerialPortError)

    /// Blocks until one of `lines` (inputs) changes, without polling (TIOCMIWAIT); then read
    /// `modemLines()`. `.notSupported` when the driver cannot wait (a pty, some USB adapters).
    /// Only a signal or a hang-up ends the wait early, so run it on a thread of its own.
    /// `close()` may be called from another thread meanwhile: a network port's wait ends at once,
    /// a kernel port's at the next change or hang-up, and then fails as closed.
    func waitForModemLineChange(_ lines: ModemLines) throws(SerialPortError)

    /// Closes the device; later calls fail. Closing twice is harmless.
    func close()
}

/// Turns bytes from a serial port into fixes, keeping partial sentences between calls.
///
/// PatrolCore's `NMEADecoder` is the real one; this protocol keeps the serial edge independent of it.
public protocol ByteStreamDecoder {
    mutating func consume(_ bytes: UnsafeRawBufferPointer, onFix: (Fix) -> Void)
    /// Sentences that arrived whole and intact so far, whatever they said: proof that a receiver
    /// talks on the line at its baud rate, with or without a fix (noise at a wrong rate is none).
    var intactSentences: Int { get }
}
