#if canImport(Glibc)
import Glibc
#endif
import PatrolCore
import PatrolEdgeSupport
import PatrolSerial
import PatrolStore
import PatrolUplink

/// `patrol-agent doctor`: what a technician runs on the board to see whether it is installed and
/// wired right, one verdict a check, each wrong one with what to do.
///
/// It works beside a running agent without stealing its ports: when the agent runs (its status
/// file says so), the devices it holds are not opened, and their state is taken from its status;
/// gpsd is shared, so it is always asked. With the agent stopped each device is opened and listened
/// to for `listenSeconds`, to say what is actually on the line.
public enum Doctor {
    public struct Options: Sendable {
        public var configPath: String
        /// The user the service runs as (the unit's `User=`), whose access to devices is checked.
        public var serviceUser: String
        public var listenSeconds: Double

        public init(configPath: String, serviceUser: String = "patrol", listenSeconds: Double = 3) {
            self.configPath = configPath
            self.serviceUser = serviceUser
            self.listenSeconds = listenSeconds
        }
    }

    public static func examine(_ options: Options) async -> DoctorReport {
        var checks: [DoctorCheck] = []
        let config: AgentConfig
        do {
            config = try AgentConfig.load(path: options.configPath)
            checks.append(DoctorCheck("config", .ok, "\(options.configPath): device \(config.deviceID), \(config.gpsDescription), store \(config.store.path)"))
        } catch {
            checks.append(DoctorCheck("config", .fail, "\(error)".split(separator: "\n").joined(separator: "; "),
                                      remedy: "fix each line named, then run `patrol-agent config check \(options.configPath)`"))
            return DoctorReport(checks: checks)
        }

        let running = StatusReport.runningAgent(config: config)
        checks.append(running.map {
            DoctorCheck("agent", .ok, "running (pid \($0.pid)): devices it holds are not opened; their state is the agent's")
        } ?? DoctorCheck("agent", .ok, "not running: each device is opened and listened to for \(format(options.listenSeconds)) s"))

        let user = ServiceUser(name: options.serviceUser)
        checks.append(user.map { DoctorCheck("service user", .ok, "\($0.name) (uid \($0.uid), groups \($0.groupNames.joined(separator: ", ")))") }
            ?? DoctorCheck("service user", .fail, "no user \(options.serviceUser)",
                           remedy: "install the patrol-agent package, which creates it, or: adduser --system --group \(options.serviceUser) && adduser \(options.serviceUser) dialout"))

        checks += storeChecks(config, user: user, running: running)
        var gnssTime: UTCTime?
        if case .gpsd(let host, let port) = config.gps {
            let probe = GPSDProbe.ask(host: host, port: port, seconds: options.listenSeconds)
            gnssTime = probe.time
            checks.append(probe.check)
        }
        for device in DeviceUnderTest.configured(config) {
            checks.append(device.examine(user: user, running: running, listenSeconds: options.listenSeconds))
        }
        checks.append(clockCheck(running: running, gnssTime: gnssTime))
        for uplink in config.uplinks {
            checks.append(await uplinkCheck(uplink, deviceID: config.deviceID))
        }
        return DoctorReport(checks: checks)
    }

    static func storeChecks(_ config: AgentConfig, user: ServiceUser?, running: AgentStatus?) -> [DoctorCheck] {
        var checks: [DoctorCheck] = []
        let folder = AgentRunner.parentFolder(of: config.store.path)
        var folderStatus = stat()
        if stat(folder, &folderStatus) != 0 {
            checks.append(DoctorCheck("store folder", .warn, "\(folder) does not exist yet",
                                      remedy: "the agent creates it at start if it may; the package makes /var/lib/patrol-agent"))
        } else if let user, !user.may(ServiceUser.read | ServiceUser.write | ServiceUser.search, folderStatus) {
            checks.append(DoctorCheck("store folder", .fail, "\(folder) (\(describe(folderStatus))) is not writable by \(user.name)",
                                      remedy: "chown \(user.name):\(user.groupNames.first ?? user.name) \(folder)"))
        } else {
            checks.append(DoctorCheck("store folder", .ok, "\(folder) writable\(user.map { " by \($0.name)" } ?? "")"))
        }

        var space = statvfs()
        if statvfs(existingAncestor(of: folder), &space) == 0 {
            let (bytes, overflow) = UInt64(space.f_bavail).multipliedReportingOverflow(by: UInt64(space.f_frsize))
            let free = overflow ? Int64.max : Int64(clamping: bytes)
            let limit = config.store.retention.maxDatabaseBytes
            if let limit, free < limit {
                checks.append(DoctorCheck("free space", .warn, "\(megabytes(free)) MB free, the store may grow to \(megabytes(limit)) MB (max_size_mb)",
                                          remedy: "free space on this file system or lower [store] max_size_mb"))
            } else {
                checks.append(DoctorCheck("free space", .ok, "\(megabytes(free)) MB free" + (limit.map { ", store limit \(megabytes($0)) MB" } ?? "")))
            }
        }

        let report = StatusReport.gather(config: config)
        if let store = report.store {
            let whose = running == nil ? "opened and checked" : "held by the running agent"
            checks.append(DoctorCheck("store", .ok, "\(config.store.path) \(whose): \(store.pointsStored) track points, \(store.eventsStored) events, \(megabytes(store.databaseBytes)) MB"))
        } else if access(config.store.path, F_OK) != 0 {
            checks.append(DoctorCheck("store", .ok, "no database at \(config.store.path) yet: the agent makes it at start"))
        } else {
            checks.append(DoctorCheck("store", .fail, report.storeError ?? "cannot be read",
                                      remedy: "start the agent: it moves a damaged store aside and salvages what it can (journalctl -u patrol-agent)"))
        }
        return checks
    }

    static func clockCheck(running: AgentStatus?, gnssTime: UTCTime?) -> DoctorCheck {
        let trusted: Bool
        let summary: String
        if let running {
            (trusted, summary) = (running.clockTrusted, running.clock)
        } else {
            let trust = ClockTrust.evaluate(systemTime: SystemClocks.systemTime(), gnssTimeNow: gnssTime,
                                            ntpSynchronized: SystemClocks.kernelClockSynchronized())
            (trusted, summary) = (trust.isTrusted, trust.summary)
        }
        return trusted ? DoctorCheck("clock", .ok, "trusted: \(summary)")
            : DoctorCheck("clock", .warn, "not trusted: \(summary)",
                          remedy: "events are stamped with GNSS time once there is a fix; enable NTP (timedatectl set-ntp true) where there is a network")
    }

    /// Sends the output's receiver one heartbeat round, as the agent does when idle (a signed
    /// heartbeat to the centre, a NULL to an alarm receiver): an answer proves the network path,
    /// the TLS trust (ca_file, client certificate) and that the receiver takes this device's key
    /// or account, and the failure says which of them is wrong.
    static func uplinkCheck(_ uplink: UplinkConfig, deviceID: String) async -> DoctorCheck {
        let name = "uplink \(uplink.name)"
        let output: any UplinkOutput
        do {
            output = try uplink.makeOutput(deviceID: deviceID)
        } catch {
            return DoctorCheck(name, .fail, "\(error)", remedy: "fix the file named: the key `patrol-centre devices add` printed in key_file (mode 600), the TLS files as PEM")
        }
        let destination = uplink.destination
        let verdict: Result<UplinkVerdict, UplinkLinkError>
        do {
            verdict = .success(try await output.send(OutboundBatch()))
        } catch {
            verdict = .failure(error)
        }
        switch verdict {
        case .success(.answered):
            let trust = destination.hasPrefix("https://") ? "TLS trusted, " : ""
            return DoctorCheck(name, .ok, "\(destination): \(trust)the receiver answered a heartbeat from \(deviceID): key accepted")
        case .success(.refused(let reason)):
            return DoctorCheck(name, .fail, "\(destination) refused a heartbeat: \(reason)", remedy: "the receiver may be of another version than this agent")
        case .failure(let error):
            let reason = error.reason
            let remedy: String
            if reason.contains("HTTP 401") || reason.contains("HTTP 403") {
                remedy = "the centre does not take this key for \(deviceID): on the centre run `patrol-centre devices add \(deviceID)` and put the key it prints in key_file; check device.id"
            } else if reason.contains("certificate") {
                remedy = "set ca_file to the CA that signed the centre's certificate (client_cert/client_key when it asks for one)"
            } else {
                remedy = "check the board's network (mobile data, APN) and url; alarms wait in the store meanwhile"
            }
            return DoctorCheck(name, .fail, "\(destination): \(reason)", remedy: remedy)
        }
    }

    static func existingAncestor(of path: String) -> String {
        var path = path
        while access(path, F_OK) != 0, path != "/", !path.isEmpty { path = AgentRunner.parentFolder(of: path) }
        return path
    }

    static func megabytes(_ bytes: Int64) -> Int64 { bytes / 1_000_000 }

    static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }

    /// "root:dialout 0660".
    static func describe(_ status: stat) -> String {
        let owner = getpwuid(status.st_uid).map { String(cString: $0.pointee.pw_name) } ?? String(status.st_uid)
        let group = getgrgid(status.st_gid).map { String(cString: $0.pointee.gr_name) } ?? String(status.st_gid)
        return "\(owner):\(group) 0" + String(status.st_mode & 0o777, radix: 8)
    }
}

/// The service's user and its groups, to judge file modes as the kernel will judge them for it.
struct ServiceUser {
    let name: String
    let uid: uid_t
    let groups: [gid_t]

    init?(name: String) {
        guard let entry = getpwnam(name) else { return nil }
        self.name = name
        uid = entry.pointee.pw_uid
        let primary = entry.pointee.pw_gid
        var count: Int32 = 64
        var list = [gid_t](repeating: 0, count: 64)
        if getgrouplist(name, primary, &list, &count) < 0 {
            list = [gid_t](repeating: 0, count: Int(max(count, 1)))
            _ = getgrouplist(name, primary, &list, &count)
        }
        groups = Array(list.prefix(Int(max(0, count))))
    }

    var groupNames: [String] {
        groups.map { gid in getgrgid(gid).map { String(cString: $0.pointee.gr_name) } ?? String(gid) }
    }

    static let read: mode_t = 4, write: mode_t = 2, search: mode_t = 1

    /// Whether this user has each of the `wanted` permissions on a file with `status`, as the
    /// kernel decides: the owner's bits, else the group's when it is one of the user's, else the
    /// others'. Root may do all.
    func may(_ wanted: mode_t, _ status: stat) -> Bool {
        if uid == 0 { return true }
        let mode = status.st_mode
        let bits: mode_t = status.st_uid == uid ? (mode >> 6) & 7 : groups.contains(status.st_gid) ? (mode >> 3) & 7 : mode & 7
        return bits & wanted == wanted
    }
}
