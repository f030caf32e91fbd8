import Foundation
import PatrolCore

/// A pseudo-terminal standing in for a serial receiver: the test writes to the controller side,
/// the code under test opens `devicePath` (`/dev/pts/N`) as it would open /dev/ttyUSB0.
public final class PseudoTerminalPair {
    public let devicePath: String
    private var controller: Int32

    public init() throws {
        // What posix_openpt/unlockpt/ptsname do, which Glibc's module does not export to Swift:
        // open the multiplexer, unlock the new device (TIOCSPTLCK) and ask its number (TIOCGPTN).
        let unlock: UInt = 0x4004_5431, number: UInt = 0x8004_5430
        controller = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard controller >= 0 else { throw SystemCallError("open /dev/ptmx") }
        var locked: Int32 = 0
        var index: UInt32 = 0
        guard ioctl(controller, unlock, &locked) == 0, ioctl(controller, number, &index) == 0 else {
            let error = SystemCallError("unlocking a pseudo-terminal")
            close(controller)
            throw error
        }
        devicePath = "/dev/pts/\(index)"
    }

    deinit {
        hangUp()
    }

    /// The controller side, for a test that relays or polls it itself (``SerialInterposer``).
    public var controllerDescriptor: Int32 { controller }

    /// Puts a terminal descriptor in raw mode, as a serial port is opened: no echo, no line editing,
    /// no CR/LF translation. A pseudo-terminal starts cooked, and would echo a box's frames back to it.
    public static func makeRaw(_ descriptor: Int32) {
        var settings = termios()
        guard tcgetattr(descriptor, &settings) == 0 else { return }
        cfmakeraw(&settings)
        tcsetattr(descriptor, TCSANOW, &settings)
    }

    /// Makes the device side raw before anyone opens it (the setting stays with the pair).
    public func makeDeviceRaw() {
        let device = open(devicePath, O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard device >= 0 else { return }
        Self.makeRaw(device)
        close(device)
    }

    /// Sends bytes as if the receiver had sent them.
    public func write(_ text: String) throws {
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Foundation.write(controller, $0.baseAddress, bytes.count) }
        guard written == bytes.count else { throw SystemCallError("write to \(devicePath)") }
    }

    /// Reads what the code under test wrote to the device, waiting up to `timeout` seconds for the first byte.
    public func read(timeout: TimeInterval) -> [UInt8] {
        var entry = pollfd(fd: controller, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, Int32(timeout * 1000)) > 0 else { return [] }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { Foundation.read(controller, $0.baseAddress, 4096) }
        return count > 0 ? Array(buffer[..<count]) : []
    }

    /// Closes the controller side: the device side sees a hang-up, as when a USB receiver is pulled out.
    public func hangUp() {
        guard controller >= 0 else { return }
        close(controller)
        controller = -1
    }
}

extension PseudoTerminalPair {
    /// Reads the agent's PLBX frames to the box on this line until `match` finds what the test waits
    /// for in one of them (the frames read so far, in order); nil when it did not come within `timeout`.
    public func waitForBoxMessage<Found>(timeout: TimeInterval, _ match: (ButtonBoxMessage) -> Found?) -> Found? {
        var received: [UInt8] = []
        return waitUntil(timeout: timeout) { () -> Found? in
            received += read(timeout: 0.1)
            for line in received.split(whereSeparator: { $0 == 0x0D || $0 == 0x0A }) {
                if let frame = ButtonBoxFrame(line: line), let found = match(frame.message) { return found }
            }
            return nil
        }
    }

    /// Waits for the agent to turn the box's LED 1 steady (an alarm acknowledged); true when it did.
    public func waitForSteadyLED(timeout: TimeInterval) -> Bool {
        waitForBoxMessage(timeout: timeout) { $0 == .led(index: 1, pattern: .steady) ? true : nil } ?? false
    }
}
