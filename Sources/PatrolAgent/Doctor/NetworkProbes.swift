#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import PatrolCore
import PatrolEdgeSupport

/// A TCP connection for doctor's questions: opened with a timeout, read line by line with a
/// deadline. Blocking and small on purpose: doctor asks one thing at a time.
struct TCPConnection {
    let descriptor: Int32

    static func open(host: String, port: Int, timeoutSeconds: Double) -> Result<TCPConnection, TCPProbeError> {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let resolved = getaddrinfo(host, String(port), &hints, &list)
        guard resolved == 0, let first = list else {
            return .failure(TCPProbeError("cannot resolve \(host): \(String(cString: gai_strerror(resolved)))"))
        }
        defer { freeaddrinfo(list) }
        var lastError = "no address"
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let address = entry {
            entry = address.pointee.ai_next
            let fd = socket(address.pointee.ai_family, address.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue),
                            address.pointee.ai_protocol)
            guard fd >= 0 else { lastError = String(cString: strerror(errno)); continue }
            if connect(fd, address.pointee.ai_addr, address.pointee.ai_addrlen) != 0 && errno != EINPROGRESS {
                lastError = String(cString: strerror(errno))
                Glibc.close(fd)
                continue
            }
            var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            var failure: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            guard poll(&poller, 1, Int32(timeoutSeconds * 1000)) == 1,
                  getsockopt(fd, SOL_SOCKET, SO_ERROR, &failure, &length) == 0, failure == 0 else {
                lastError = failure == 0 ? "no answer within \(Doctor.format(timeoutSeconds)) s" : String(cString: strerror(failure))
                Glibc.close(fd)
                continue
            }
            return .success(TCPConnection(descriptor: fd))
        }
        return .failure(TCPProbeError(lastError))
    }

    func send(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
    }

    /// Lines received until `deadline` (monotonic ms) or until `enough` says so; at most 1 MiB.
    func lines(until deadline: Int64, enough: ([UInt8]) -> Bool) -> [[UInt8]] {
        var splitter = LineSplitter(maximumLength: 65_536)
        var lines: [[UInt8]] = []
        var received = 0
        var buffer = [UInt8](repeating: 0, count: 4096)
        while received < 1 << 20 {
            let left = deadline - SystemClocks.monotonicMilliseconds()
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard left > 0, poll(&poller, 1, Int32(clamping: left)) == 1 else { break }
            let count = recv(descriptor, &buffer, buffer.count, 0)
            guard count > 0 else { break }
            received += count
            for line in splitter.append(buffer[..<count]) {
                lines.append(line)
                if enough(line) { return lines }
            }
        }
        return lines
    }

    func close() { Glibc.close(descriptor) }
}

struct TCPProbeError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Asks gpsd what it sees: its receivers, the fix mode, satellites used and HDOP.
enum GPSDProbe {
    struct Answer {
        var check: DoctorCheck
        /// The fix's time, for the clock check.
        var time: UTCTime?
    }

    private struct Report: Decodable {
        var `class`: String
        var mode: Int?
        var time: String?
        var hdop: Double?
        var satellites: [Satellite]?
        var devices: [Device]?
        struct Satellite: Decodable { var used: Bool? }
        struct Device: Decodable { var path: String? }
    }

    static func ask(host: String, port: Int, seconds: Double) -> Answer {
        let name = "gpsd"
        let connection: TCPConnection
        switch TCPConnection.open(host: host, port: port, timeoutSeconds: 3) {
        case .success(let opened): connection = opened
        case .failure(let reason):
            return Answer(check: DoctorCheck(name, .fail, "cannot connect to \(host):\(port): \(reason)",
                                             remedy: "start gpsd (systemctl start gpsd.socket) or fix [gps] gpsd_host/gpsd_port"))
        }
        defer { connection.close() }
        guard connection.send("?WATCH={\"enable\":true,\"json\":true};\n") else {
            return Answer(check: DoctorCheck(name, .fail, "\(host):\(port) closed the connection", remedy: "is it gpsd on that port?"))
        }
        var tpv: Report?
        var sky: Report?
        var devices: [String]?
        let decoder = JSONDecoder()
        let deadline = SystemClocks.monotonicMilliseconds() + Int64(seconds * 1000)
        _ = connection.lines(until: deadline) { line in
            guard let report = try? decoder.decode(Report.self, from: Data(line)) else { return false }
            switch report.class {
            case "DEVICES": devices = report.devices?.compactMap(\.path)
            // The best fix, and one with a time over one without (the first reports may lack it).
            case "TPV": if (report.mode ?? 0) >= (tpv?.mode ?? 0), report.time != nil || tpv?.time == nil { tpv = report }
            case "SKY": if report.satellites != nil { sky = report }
            default: break
            }
            return (tpv?.mode ?? 0) >= 2 && tpv?.time != nil && sky != nil
        }
        let address = "\(host):\(port)"
        if devices?.isEmpty == true && tpv == nil {
            return Answer(check: DoctorCheck(name, .fail, "\(address) answers but has no receiver",
                                             remedy: "set DEVICES=\"/dev/patrol-gnss\" in /etc/default/gpsd (Board/README.md) and plug the receiver in"))
        }
        let used = sky?.satellites?.filter { $0.used == true }.count
        let satellites = used.map { ", \($0) satellites used" } ?? ""
        let hdop = sky?.hdop.map { ", HDOP \($0)" } ?? ""
        guard let mode = tpv?.mode, mode >= 2 else {
            return Answer(check: DoctorCheck(name, .warn, "\(address) answers, no fix in \(Doctor.format(seconds)) s\(satellites)",
                                             remedy: "give the antenna a view of the sky; a cold receiver needs minutes for its first fix"))
        }
        let time = tpv?.time.flatMap { UTCTime(iso8601: $0) }
        return Answer(check: DoctorCheck(name, .ok, "\(address): \(mode)D fix\(satellites)\(hdop)"), time: time)
    }
}
