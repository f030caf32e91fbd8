import Glibc

/// Why a serial port could not be opened or used, in a message that names the device and says
/// what to do: it ends up in the log of a car computer that a technician reads.
public struct SerialPortError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure, for code that reacts differently (a missing device is retried silently).
    public struct Kind: Hashable, Sendable {
        private enum Base: Hashable, Sendable {
            case deviceMissing, permissionDenied, notSupported, disconnected, failed
        }

        private let base: Base

        /// No device at the path: unplugged, or a wrong path.
        public static let deviceMissing = Kind(base: .deviceMissing)
        /// The agent's user may not open the device.
        public static let permissionDenied = Kind(base: .permissionDenied)
        /// The driver or device cannot do what was asked (a pty under libserialport, modem lines on a pty).
        public static let notSupported = Kind(base: .notSupported)
        /// The device went away while open (hang-up, end of file, I/O error): unplugged or powered off.
        public static let disconnected = Kind(base: .disconnected)
        /// Any other system error.
        public static let failed = Kind(base: .failed)
    }

    public let kind: Kind
    /// The device path as configured.
    public let path: String
    public let message: String

    public var description: String { message }

    public init(kind: Kind, path: String, message: String) {
        self.kind = kind
        self.path = path
        self.message = message
    }

    static func notSupported(_ path: String, _ message: String) -> SerialPortError {
        SerialPortError(kind: .notSupported, path: path, message: message)
    }

    static func disconnected(_ path: String, _ detail: String) -> SerialPortError {
        SerialPortError(kind: .disconnected, path: path,
                        message: "\(path) disconnected (\(detail)): the receiver was unplugged or lost power")
    }

    /// The error for a failed system call, classified by `errno`.
    static func systemCall(_ call: String, _ path: String, errno code: Int32 = errno) -> SerialPortError {
        let reason = String(cString: strerror(code))
        switch code {
        case ENOENT, ENODEV, ENXIO:
            return SerialPortError(kind: .deviceMissing, path: path, message:
                "no serial device at \(path) (\(reason)): check that the receiver is plugged in and the path is right (see ls -l /dev/serial/by-id)")
        case EACCES, EPERM:
            return SerialPortError(kind: .permissionDenied, path: path, message:
                "permission denied opening \(path): add the agent's user to the dialout group (usermod -aG dialout USER) and restart the agent")
        case EIO, EPIPE:
            return .disconnected(path, reason)
        case ENOTTY, EINVAL, EOPNOTSUPP:
            return .notSupported(path, "\(call) is not supported by \(path) (\(reason))")
        default:
            return SerialPortError(kind: .failed, path: path, message: "\(call) failed on \(path): \(reason)")
        }
    }
}
