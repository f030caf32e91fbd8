import PatrolCore
import PatrolUplink
import PatrolUplinkCentre
import PatrolUplinkDC09
import PatrolUplinkJT808

/// Every kind of output `[[uplink]] kind = "…"` can name. A new protocol is its own target with an
/// `UplinkOutputKind`, plus one line here.
let uplinkKinds: [any UplinkOutputKind.Type] = [
    CentreHTTPUplink.self,
    DC09Uplink.self,
    JT808Uplink.self,
]

/// One `[[uplink]]` table: where the agent forwards what it stores. Equal tables make the same
/// output, so a configuration reload keeps that output's runner (and its link) as it is.
public struct UplinkConfig: Sendable, Equatable {
    /// Names the output in status, logs and the store's delivery progress; renaming it starts
    /// delivery from the beginning.
    public var name: String
    public var kind: String
    /// Whether the guard's box shows "delivered" when this output has the event (one per board;
    /// the first uplink when none says so).
    public var primary: Bool
    public var settings: UplinkSettings
    /// The kind's own checked keys, and how to make its output.
    public var plan: any UplinkOutputPlan

    public var destination: String { plan.destination }

    public static func == (lhs: UplinkConfig, rhs: UplinkConfig) -> Bool {
        lhs.name == rhs.name && lhs.kind == rhs.kind && lhs.primary == rhs.primary && lhs.settings == rhs.settings
            && lhs.plan.isSame(as: rhs.plan)
    }

    /// Makes the output, reading its key and certificate files; the error names file and key.
    public func makeOutput(deviceID: String) throws(UplinkSetupError) -> any UplinkOutput {
        try plan.makeOutput(name: name, deviceID: deviceID)
    }
}

extension AgentConfig {
    /// Reads `[[uplink]]` tables: the keys every kind shares here, the rest by the kind. No table
    /// means no uplink: the agent only stores.
    static func readUplinks(_ root: ConfigReader) -> [UplinkConfig] {
        var names: Set<String> = []
        let kinds = uplinkKinds.map { $0.kind }
        var primaryTables: [(name: String, table: ConfigReader)] = []
        let uplinks = root.tables("uplink").compactMap { table -> UplinkConfig? in
            let name = table.string("name", default: "centre")
            let kindName = table.choice("kind", kinds, default: CentreHTTPUplink.kind)
            let primary = table.bool("primary", default: false)
            var settings = UplinkSettings()
            settings.heartbeatInterval = .milliseconds(Int64(table.number("heartbeat_s", default: 30, in: 1...3600) * 1000))
            settings.backoffCap = .milliseconds(Int64(table.number("retry_max_s", default: 60, in: 1...3600) * 1000))
            if !names.insert(name).inserted { table.problem("name", "uplink '\(name)' is configured twice; give each a name") }
            if primary { primaryTables.append((name, table)) }
            guard let kind = uplinkKinds.first(where: { $0.kind == kindName }),
                  let plan = kind.read(table, settings: &settings) else { return nil }
            return UplinkConfig(name: name, kind: kindName, primary: primary, settings: settings, plan: plan)
        }
        for extra in primaryTables.dropFirst() {
            extra.table.problem("primary", "only one uplink can be primary: '\(primaryTables[0].name)' already is; "
                                + "set primary = true on one of them")
        }
        return uplinks
    }

    /// The output whose delivery the guard's box shows: the one marked primary, else the first.
    public var primaryUplink: String? {
        (uplinks.first(where: \.primary) ?? uplinks.first)?.name
    }
}
