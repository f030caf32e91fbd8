import PatrolCore

/// `[jt808]` in the centre's configuration: where `serve` listens for JT/T 808 terminals, and the
/// limits that keep one terminal from hurting the others. The table's presence turns the listener on.
///
/// JT/T 808 has no TLS: terminals speak plain TCP on any address, authenticated by the code the
/// centre hands out at registration (as every platform does; put it behind the district's VPN).
public struct JT808ListenerSettings: Sendable, Equatable {
    public var address: String
    /// 0 lets the system pick a free port (tests; the port is logged).
    public var port: Int
    /// A connection with nothing received for this long is closed (a terminal sends a heartbeat at
    /// least every minute by default; half-open connections never send again).
    public var idleTimeoutSeconds = 180
    /// Terminal connections held at once; more are closed as they arrive (and logged).
    public var maxConnections = 4096

    public init(address: String, port: Int) {
        self.address = address
        self.port = port
    }

    /// Reads the `[jt808]` table, nil when the configuration has none; `defaultAddress` is the HTTP server's.
    static func read(_ reader: ConfigReader, defaultAddress: String) -> JT808ListenerSettings? {
        guard reader.has("jt808") else { return nil }
        let table = reader.table("jt808")
        if !table.has("port") { table.problem("port", "set the TCP port terminals connect to (e.g. 7611), or remove [jt808]") }
        var settings = JT808ListenerSettings(address: table.string("address", default: defaultAddress),
                                             port: table.integer("port", default: 0, in: 0...65_535))
        settings.idleTimeoutSeconds = table.integer("idle_timeout_seconds", default: settings.idleTimeoutSeconds, in: 5...3600)
        settings.maxConnections = table.integer("max_connections", default: settings.maxConnections, in: 1...1_000_000)
        return settings
    }
}
