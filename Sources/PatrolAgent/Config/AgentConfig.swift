import Logging
import PatrolCore
import PatrolEdgeSupport
import PatrolStore

/// Where the agent gets its fixes.
public enum GPSInputConfig: Sendable, Equatable {
    /// gpsd through libgps.
    case gpsd(host: String, port: Int)
    /// An NMEA receiver on a serial port, for boards without gpsd.
    case serial(path: String, baud: Int, driver: String)
}

/// The local store and how much it may keep.
public struct StoreConfig: Sendable, Equatable {
    public var path: String
    /// Seconds between commits of recorded points: a power cut loses at most this much track.
    public var commitWindow: Double
    /// Retention limits; the oldest delivered data goes first (see README "Retention").
    public var retention: RetentionPolicy
}

/// The agent's whole configuration, read from one TOML file (see Config/*.toml).
public struct AgentConfig: Sendable {
    public var deviceID: String
    public var gps: GPSInputConfig
    public var rollover: WeekRollover
    public var filter: FixFilterSettings
    public var recording: RecordingProfile
    public var store: StoreConfig
    /// Folder for the live status file; a tmpfs (/run) so status updates never wear the SD card.
    public var runtimeDirectory: String
    public var statusInterval: Double
    public var logLevel: Logger.Level
    /// Buttons, button boxes, tag readers, checkpoints: where alarms and check-ins come from.
    public var inputs: InputsConfig
    /// Where stored records are forwarded (`[[uplink]]`); empty: the agent only stores.
    public var uplinks: [UplinkConfig]

    /// The GPS input in a few words, for logs and status.
    public var gpsDescription: String {
        switch gps {
        case .gpsd(let host, let port): "gpsd \(host):\(port)"
        case .serial(let path, let baud, _): "serial \(path) @ \(baud) Bd"
        }
    }

    /// Reads and checks `path`; every problem is reported with its line and key.
    public static func load(path: String) throws -> AgentConfig {
        let text = try FileAccess.readText(path)
        return try parse(text, file: path)
    }

    public static func parse(_ text: String, file: String) throws(ConfigError) -> AgentConfig {
        let table: TOMLTable
        do {
            table = try TOMLParser.parse(text)
        } catch {
            throw ConfigError(file: file, problems: [ConfigProblem(line: error.line, key: "(syntax)", message: error.message)])
        }
        let root = ConfigReader(table)
        let config = read(root)
        try root.finish(file: file)
        return config
    }

    private static func read(_ root: ConfigReader) -> AgentConfig {
        let device = root.table("device")
        let deviceID = device.string("id", default: "")
        if deviceID.isEmpty || !deviceID.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) {
            device.problem("id", "set a device id of letters, digits, '-', '_' or '.', e.g. id = \"car-12\"")
        } else if deviceID.utf8.count > UplinkLimits.maxDeviceIDBytes {
            device.problem("id", "'\(deviceID)' is \(deviceID.utf8.count) bytes; the centre accepts at most "
                + "\(UplinkLimits.maxDeviceIDBytes), so this unit could never deliver: shorten it")
        }

        let gpsTable = root.table("gps")
        let source = gpsTable.choice("source", ["gpsd", "serial"], default: "gpsd")
        let gpsdHost = gpsTable.string("gpsd_host", default: "localhost")
        let gpsdPort = gpsTable.integer("gpsd_port", default: 2947, in: 1...65535)
        let serialPath = gpsTable.string("serial_port")
        let serialBaud = gpsTable.integer("serial_baud", default: 9600, in: 1200...921_600)
        let serialDriver = gpsTable.choice("serial_driver", ["auto", "libserialport", "termios"], default: "auto")
        let gps: GPSInputConfig
        if source == "serial" {
            if serialPath == nil { gpsTable.problem("serial_port", "source = \"serial\" needs serial_port, e.g. \"/dev/ttyACM0\"") }
            gps = .serial(path: serialPath ?? "", baud: serialBaud, driver: serialDriver)
        } else {
            gps = .gpsd(host: gpsdHost, port: gpsdPort)
        }
        let rollover = WeekRollover(pivot: gpsTable.time("rollover_pivot") ?? WeekRollover.defaultPivot)

        let filterTable = root.table("filter")
        let filter = FixFilterSettings(
            minimumMode: filterTable.choice("min_mode", ["2d", "3d"], default: "2d") == "3d" ? .threeD : .twoD,
            maximumHDOP: filterTable.number("max_hdop", default: 5.0, in: 0.5...99),
            maximumSpeed: filterTable.number("max_speed", default: 70, in: 1...400),
            jumpRejectionsBeforeReanchor: filterTable.integer("jump_reanchor_after", default: 5, in: 1...3600))

        let track = root.table("track")
        let preset = track.choice("profile", ["car", "foot"], default: "car")
        var recording: RecordingProfile = preset == "foot" ? .foot : .car
        recording.recordEveryFix = track.bool("record_every_fix", default: false)
        recording.movingSpeed = track.number("moving_speed", default: recording.movingSpeed, in: 0.1...20)
        recording.headingMinimumSpeed = track.number("heading_min_speed", default: recording.headingMinimumSpeed, in: 0...50)
        recording.moving = rules(track.table("moving"), base: recording.moving)
        recording.stopped = rules(track.table("stopped"), base: recording.stopped)

        let storeTable = root.table("store")
        let retentionMB = storeTable.integer("max_size_mb", default: 512, in: 1...1_000_000)
        let store = StoreConfig(
            path: storeTable.string("path", default: "/var/lib/patrol-agent/agent.db"),
            commitWindow: storeTable.number("commit_window", default: 10, in: 0.1...10),
            retention: RetentionPolicy(
                maxDatabaseBytes: Int64(retentionMB) * 1_048_576,
                maxAge: .seconds(86_400 * storeTable.integer("max_age_days", default: 90, in: 1...3650))))

        let status = root.table("status")
        let runtimeDirectory = status.string("runtime_dir", default: "/run/patrol-agent")
        let statusInterval = status.number("interval", default: 5, in: 0.5...3600)

        let log = root.table("log")
        let level = log.choice("level", Logger.Level.allCases.map(\.rawValue), default: "info")

        return AgentConfig(deviceID: deviceID, gps: gps, rollover: rollover, filter: filter, recording: recording,
                           store: store, runtimeDirectory: runtimeDirectory, statusInterval: statusInterval,
                           logLevel: Logger.Level(rawValue: level) ?? .info, inputs: readInputs(root),
                           uplinks: readUplinks(root))
    }

    /// Overrides a preset's rules with the keys present; `0` switches a rule off.
    private static func rules(_ table: ConfigReader, base: RecordingRules) -> RecordingRules {
        func optional(_ key: String, _ value: Double?, _ range: ClosedRange<Double>) -> Double? {
            let number = table.number(key, default: value ?? 0, in: range)
            return number == 0 ? nil : number
        }
        return RecordingRules(
            period: optional("period", base.period, 0...86_400),
            minimumInterval: table.number("min_interval", default: base.minimumInterval, in: 0...3600),
            distance: optional("distance", base.distance, 0...100_000),
            headingChange: optional("heading_change", base.headingChange, 0...180),
            speedChange: optional("speed_change", base.speedChange, 0...100))
    }
}
