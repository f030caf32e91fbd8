import CGPS
import Glibc
import PatrolCore

/// One libgps session with gpsd: open, watch JSON, read reports, close.
///
/// libgps keeps its state in one `gps_data_t` and is not thread-safe, so an instance must only
/// be used from one thread at a time; `GPSDSource` confines it to a serial queue.
final class GPSDConnection: @unchecked Sendable {
    /// Why the session failed, in words for the one log line about it.
    struct Failure: Error {
        let reason: String
    }

    private let data: UnsafeMutablePointer<gps_data_t>
    private var isOpen = false

    init() {
        data = .allocate(capacity: 1)
        UnsafeMutableRawPointer(data).initializeMemory(as: UInt8.self, repeating: 0,
                                                       count: MemoryLayout<gps_data_t>.size)
    }

    deinit {
        close()
        data.deallocate()
    }

    /// Connects and asks gpsd to stream JSON reports (the watch that `gpspipe -w` sends).
    func open(host: String, port: Int) throws(Failure) {
        guard gps_open(host, String(port), data) == 0 else { throw Self.failure("cannot connect") }
        isOpen = true
        guard gps_stream(data, UInt32(WATCH_ENABLE | WATCH_JSON), nil) == 0 else {
            throw Self.failure("cannot start watching")
        }
    }

    /// What one wait for gpsd brought.
    enum Report: Sendable {
        /// Nothing within the wait.
        case quiet
        /// gpsd speaking for itself (VERSION, DEVICES, WATCH, DEVICE): it says nothing of whether a
        /// receiver is there, since gpsd sends these with no receiver at all.
        case fromGpsd
        /// What a receiver sent that is not a fix with a time (SKY, a TPV without time).
        case fromReceiver
        case fix(Fix)
    }

    /// Waits at most `timeoutMicroseconds` for a report and reads it.
    ///
    /// The bounded wait lets the caller notice cancellation without polling. Throws when gpsd
    /// closed the connection or the socket failed.
    func nextReport(waitingAtMost timeoutMicroseconds: Int32, rollover: WeekRollover) throws(Failure) -> Report {
        // gps_waiting also answers true on socket errors, so that gps_read reports them.
        guard gps_waiting(data, timeoutMicroseconds) else { return .quiet }
        errno = 0
        guard gps_read(data, nil, 0) >= 0 else {
            throw Self.failure(errno == 0 ? "gpsd closed the connection" : "reading failed")
        }
        // libgps sets MODE_SET only when it unpacked a TPV report, SATELLITE_SET for a SKY report.
        let set = data.pointee.set
        guard set & UInt64(MODE_SET) != 0 else { return set & UInt64(SATELLITE_SET) != 0 ? .fromReceiver : .fromGpsd }
        let fix = Fix(gpsData: data.pointee, rollover: rollover)
        return fix.time == nil ? .fromReceiver : .fix(fix)
    }

    func close() {
        guard isOpen else { return }
        gps_close(data)
        isOpen = false
    }

    private static func failure(_ what: String) -> Failure {
        let code = errno
        // libgps reports its own errors as negative errno values; gps_errstr knows both kinds.
        return Failure(reason: code == 0 ? what : "\(what): \(String(cString: gps_errstr(code)))")
    }
}

extension Fix {
    /// The fix libgps assembled from gpsd's last TPV, with the DOP and satellite count of the last SKY.
    ///
    /// libgps marks unknown values as NaN; they become nil. Position only counts from a 2D fix and
    /// altitude from a 3D fix, as in gpsd's own TPV output.
    init(gpsData: gps_data_t, rollover: WeekRollover) {
        let fix = gpsData.fix
        let mode = FixMode(rawValue: Int(fix.mode)) ?? .noFix
        self.init(time: Self.utcTime(fix.time).map(rollover.corrected),
                  mode: mode,
                  latitude: mode >= .twoD ? fix.latitude.finiteOrNil : nil,
                  longitude: mode >= .twoD ? fix.longitude.finiteOrNil : nil,
                  altitudeMSL: mode == .threeD ? fix.altMSL.finiteOrNil : nil,
                  speed: fix.speed.finiteOrNil,
                  track: fix.track.finiteOrNil,
                  hdop: gpsData.dop.hdop.finiteOrNil,
                  satellitesUsed: gpsData.satellites_used > 0 ? Int(gpsData.satellites_used) : nil)
    }

    /// gpsd's timespec to UTC milliseconds; libgps leaves it zero when the report had no time.
    private static func utcTime(_ time: timespec) -> UTCTime? {
        guard time.tv_sec != 0 || time.tv_nsec != 0 else { return nil }
        let milliseconds = Int64(time.tv_sec) * 1000 + (Int64(time.tv_nsec) + 500_000) / 1_000_000
        return UTCTime(millisecondsSinceEpoch: milliseconds)
    }
}

private extension Double {
    var finiteOrNil: Double? { isFinite ? self : nil }
}
