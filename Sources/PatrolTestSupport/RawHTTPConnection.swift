import Foundation
import PatrolEdgeSupport

/// A TCP connection to 127.0.0.1 that sends exactly the bytes it is given, when it is told to: what
/// a hostile client does (headers a byte at a time, a body that stops half way, a lying
/// Content-Length), which no HTTP client library lets a test do. Blocking sockets with timeouts;
/// the reads wait on the connection's own queue (`DispatchQueue.perform`), never on the concurrency
/// pool: that has as many threads as cores (two here), and two tests waiting in `recv` there would
/// hold every thread, so the centre running in the test's own process could not answer them.
public final class RawHTTPConnection: @unchecked Sendable {
    /// An HTTP answer as read off the wire.
    public struct Response: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: [UInt8]

        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    private let fd: Int32
    private var received: [UInt8] = []
    private let readQueue = DispatchQueue(label: "RawHTTPConnection.read")

    /// Connects, or throws (refused, or nothing accepted within `timeout` seconds).
    public init(port: Int, timeout: Double = 10) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SystemCallError("socket") }
        var time = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in.loopback(port: port)
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else {
            let error = SystemCallError("connect 127.0.0.1:\(port)")
            close(fd)
            throw error
        }
    }

    deinit { close(fd) }

    /// Sends all of `bytes`; false when the peer closed the connection or the send timed out.
    @discardableResult
    public func send(_ bytes: some Collection<UInt8>) -> Bool {
        let bytes = Array(bytes)
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { return false }
            sent += count
        }
        return true
    }

    @discardableResult
    public func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// Reads one answer (head and the body its Content-Length gives); nil when the connection
    /// closed or nothing complete came within the timeout.
    public func readResponse() async -> Response? {
        await readQueue.perform {
            while true {
                if let response = self.parse() { return response }
                guard self.receive() else { return nil }
            }
        }
    }

    /// Reads until what arrived contains `marker` (a streamed answer: Server-Sent Events) and returns
    /// all of it up to and including the marker; nil when the connection closed or it did not come within the timeout.
    public func readUntil(_ marker: String) async -> String? {
        let pattern = Array(marker.utf8)
        return await readQueue.perform {
            while true {
                if let start = self.received.indices.first(where: { self.received[$0...].starts(with: pattern) }) {
                    let text = String(decoding: self.received[..<(start + pattern.count)], as: UTF8.self)
                    self.received.removeFirst(start + pattern.count)
                    return text
                }
                guard self.receive() else { return nil }
            }
        }
    }

    /// Whether the peer closed the connection (read end of stream or a reset) within the timeout,
    /// discarding whatever it sent before.
    public func isClosedByPeer() async -> Bool {
        await readQueue.perform {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = recv(self.fd, &buffer, buffer.count, 0)
                if count == 0 { return true }
                if count < 0 { return errno == ECONNRESET }
            }
        }
    }

    /// The bytes that arrive next (any protocol: the JT/T 808 test terminal reads its frames
    /// through this); nil when the connection closed or nothing came within the timeout.
    public func readBytes() async -> [UInt8]? {
        await readQueue.perform {
            var buffer = [UInt8](repeating: 0, count: 65_536)
            let count = recv(self.fd, &buffer, buffer.count, 0)
            return count > 0 ? Array(buffer[0..<count]) : nil
        }
    }

    private func receive() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let count = recv(fd, &buffer, buffer.count, 0)
        guard count > 0 else { return false }
        received += buffer[0..<count]
        return true
    }

    private func parse() -> Response? {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = received.indices.dropLast(3).first(where: { received[$0..<($0 + 4)].elementsEqual(separator) }) else { return nil }
        let lines = String(decoding: received[..<end], as: UTF8.self).split(separator: "\r\n")
        guard let statusLine = lines.first, let status = statusLine.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else {
            return nil
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: " ")
        }
        let length = headers["content-length"].flatMap { Int($0) } ?? 0
        guard received.count >= end + 4 + length else { return nil }
        let body = Array(received[(end + 4)..<(end + 4 + length)])
        received.removeFirst(end + 4 + length)
        return Response(status: status, headers: headers, body: body)
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: Character) -> String {
        String(drop { $0 == set }.reversed().drop { $0 == set }.reversed())
    }
}

/// The resident memory of a process (`VmRSS` in /proc/PID/status), in bytes; nil when it is gone.
public func residentBytes(of pid: pid_t) -> Int? {
    processStatus(pid, "VmRSS")
}

/// The most resident memory a process has had (`VmHWM`), in bytes: catches a short peak.
public func peakResidentBytes(of pid: pid_t) -> Int? {
    processStatus(pid, "VmHWM")
}

/// Starts `peakResidentBytes` over from the current resident size (`5` to /proc/PID/clear_refs).
public func resetPeakResident(of pid: pid_t) {
    guard let file = fopen("/proc/\(pid)/clear_refs", "w") else { return }
    fputs("5", file)
    fclose(file)
}

/// A `kB` line of /proc/PID/status, in bytes.
private func processStatus(_ pid: pid_t, _ field: String) -> Int? {
    guard let file = fopen("/proc/\(pid)/status", "r") else { return nil }
    defer { fclose(file) }
    var line = [CChar](repeating: 0, count: 256)
    while fgets(&line, Int32(line.count), file) != nil {
        let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if text.hasPrefix(field + ":") {
            return text.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first.flatMap { Int($0) }.map { $0 * 1024 }
        }
    }
    return nil
}
