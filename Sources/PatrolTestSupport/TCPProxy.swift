import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A TCP proxy on 127.0.0.1 between an agent and a centre that a test can cut, stall and restore,
/// and that counts the bytes it carries each way (the uplink's cost on the wire).
///
/// - `cut()`: every connection is closed at once and new ones are closed as soon as accepted,
///   like a lost mobile link.
/// - `stall()`: connections stay open but nothing is carried (a link that hangs: the agent's
///   request timeout has to notice).
/// - `restore()`: carries traffic again.
///
/// Threads and `poll` with a 20 ms tick: test equipment, not product code.
public final class TCPProxy: @unchecked Sendable {
    public enum Mode: Sendable { case open, stalled, cut }

    public let port: Int
    public let targetPort: Int
    private let listener: Int32
    private let lock = NSLock()
    private var mode = Mode.open
    private var stopped = false
    private var upstream = 0
    private var downstream = 0
    private var accepted = 0

    /// Listens on `port` (a free one by default) and forwards to 127.0.0.1:`targetPort`.
    public init(port: Int? = nil, targetPort: Int) throws {
        self.port = try port ?? FreePort.allocate()
        self.targetPort = targetPort
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw SystemCallError("socket") }
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in.loopback(port: self.port)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard bound, listen(listener, 16) == 0 else {
            close(listener)
            throw SystemCallError("bind/listen 127.0.0.1:\(self.port)")
        }
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    deinit { stop() }

    public func cut() { lock.withLock { mode = .cut } }
    public func stall() { lock.withLock { mode = .stalled } }
    public func restore() { lock.withLock { mode = .open } }

    /// Bytes carried agent → centre and centre → agent so far.
    public var bytes: (upstream: Int, downstream: Int) { lock.withLock { (upstream, downstream) } }

    /// Connections accepted so far, cut ones included: how often a client tried.
    public var connections: Int { lock.withLock { accepted } }

    /// Closes the listener and every connection.
    public func stop() {
        let first = lock.withLock { () -> Bool in
            defer { stopped = true }
            return !stopped
        }
        if first { shutdown(listener, Int32(SHUT_RDWR)); close(listener) }
    }

    private var currentMode: Mode? { lock.withLock { stopped ? nil : mode } }

    private func acceptLoop() {
        while currentMode != nil {
            var pending = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&pending, 1, 20) > 0 else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            lock.withLock { accepted += 1 }
            guard currentMode != .cut else { close(client); continue }
            Thread.detachNewThread { [self] in carry(client) }
        }
    }

    /// Connects `client` to the target and carries bytes both ways until either side closes or the
    /// link is cut.
    private func carry(_ client: Int32) {
        let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in.loopback(port: targetPort)
        let connected = server >= 0 && withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        defer {
            close(client)
            if server >= 0 { close(server) }
        }
        guard connected else { return }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while let mode = currentMode, mode != .cut {
            var fds = [pollfd(fd: client, events: Int16(POLLIN), revents: 0), pollfd(fd: server, events: Int16(POLLIN), revents: 0)]
            guard poll(&fds, 2, 20) > 0, mode == .open, currentMode == .open else { continue }
            for (index, (from, to)) in [(client, server), (server, client)].enumerated() where fds[index].revents != 0 {
                let count = buffer.withUnsafeMutableBytes { read(from, $0.baseAddress, $0.count) }
                guard count > 0 else { return }
                guard writeAll(to, buffer[0..<count]) else { return }
                lock.withLock { if index == 0 { upstream += count } else { downstream += count } }
            }
        }
    }

    private func writeAll(_ fd: Int32, _ bytes: ArraySlice<UInt8>) -> Bool {
        var offset = bytes.startIndex
        while offset < bytes.endIndex {
            let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard written > 0 else { return false }
            offset += written
        }
        return true
    }
}
