#if canImport(Glibc)
import Glibc
#endif

/// The service manager's notification protocol (`sd_notify(3)`), written here rather than linked
/// from libsystemd, which the static release binary would otherwise need on every board: each
/// message is one datagram of `KEY=value` lines sent to the Unix socket named in `$NOTIFY_SOCKET`,
/// a file path or, starting with `@`, a name in the abstract namespace.
public struct SystemdNotifier: Sendable {
    /// `$NOTIFY_SOCKET` as systemd set it.
    public let socketName: String
    /// Within how long systemd wants `WATCHDOG=1` (`WatchdogSec=`), nil when it does not watch.
    public let watchdogInterval: Duration?

    /// The notifier for this process, or nil when no service manager asked for notifications.
    /// A `$WATCHDOG_USEC` that is not a positive number of microseconds is refused naming the
    /// variable; one meant for another process (`$WATCHDOG_PID`) is ignored, as sd_notify does.
    public static func fromEnvironment(_ variable: (String) -> String? = environmentVariable,
                                       pid: Int32 = getpid()) throws(SystemdNotifyError) -> SystemdNotifier? {
        guard let socketName = variable("NOTIFY_SOCKET"), !socketName.isEmpty else { return nil }
        guard socketName.hasPrefix("/") || socketName.hasPrefix("@") else {
            throw SystemdNotifyError("NOTIFY_SOCKET='\(socketName)': not a socket path (/…) or abstract name (@…)")
        }
        var watchdogInterval: Duration?
        if let text = variable("WATCHDOG_USEC"), variable("WATCHDOG_PID").map({ Int32($0) == pid }) ?? true {
            guard let microseconds = Int64(text), microseconds > 0 else {
                throw SystemdNotifyError("WATCHDOG_USEC='\(text)': not a positive number of microseconds")
            }
            watchdogInterval = .microseconds(microseconds)
        }
        return SystemdNotifier(socketName: socketName, watchdogInterval: watchdogInterval)
    }

    public init(socketName: String, watchdogInterval: Duration?) {
        self.socketName = socketName
        self.watchdogInterval = watchdogInterval
    }

    /// Sends `message`, e.g. "READY=1\nSTATUS=…". A socket per message, as sd_notify does: systemd
    /// may be re-executed between two messages, and a datagram needs no connection to keep.
    public func send(_ message: String) throws(SystemdNotifyError) {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var name = Array(socketName.utf8)
        if name.first == UInt8(ascii: "@") { name[0] = 0 } // abstract: a leading NUL, no terminating one
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard name.count < capacity else {
            throw SystemdNotifyError("NOTIFY_SOCKET='\(socketName)': longer than the \(capacity - 1) bytes a Unix socket name may have")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: name) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + name.count)

        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw SystemdNotifyError("cannot open a socket for \(socketName)", errno: errno) }
        defer { close(descriptor) }
        let bytes = Array(message.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                bytes.withUnsafeBytes { sendto(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), address, length) }
            }
        }
        guard sent == bytes.count else { throw SystemdNotifyError("cannot send to \(socketName)", errno: sent < 0 ? errno : 0) }
    }

    /// What the agent says when a reload begins: `RELOADING=1` with the time it began on
    /// CLOCK_MONOTONIC (`MONOTONIC_USEC=`), which systemd requires to match the reload to the
    /// request; `READY=1` follows when the reload is done, applied or refused.
    public static func reloadingMessage(status: String) -> String {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let microseconds = Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000
        return "RELOADING=1\nMONOTONIC_USEC=\(microseconds)\nSTATUS=" + status
    }

    public static func environmentVariable(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}

public struct SystemdNotifyError: Error, CustomStringConvertible {
    public let description: String

    init(_ description: String, errno: Int32 = 0) {
        self.description = errno == 0 ? description : description + ": " + String(cString: strerror(errno))
    }
}
