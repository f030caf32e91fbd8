import PatrolCore
import PatrolUplink

/// One `[[uplink]]` table: where the agent forwards what it stores.
public struct UplinkConfig: Sendable, Equatable {
    /// Names the output in status, logs and the store's delivery progress; renaming it starts
    /// delivery from the beginning.
    public var name: String
    public var kind: Kind
    public var endpoint: HTTPEndpoint
    /// File holding the device key in hex, as `patrol-centre devices add` prints it.
    public var keyFile: String
    public var tls: TLSFiles
    public var settings: UplinkSettings
    /// Seconds a request may take before the link counts as down.
    public var timeout: Duration

    /// The receivers this agent can talk to; a new protocol adds a case, its reader and its output.
    public enum Kind: String, Sendable, CaseIterable {
        case centreHTTP = "centre-http"
    }

    /// Reads the device key; the error names the file and the config entry.
    public func loadKey() throws(FileAccessError) -> [UInt8] {
        let text: String
        do {
            text = try FileAccess.readText(keyFile)
        } catch {
            throw FileAccessError(description: "uplink '\(name)', key_file: \(error.description)")
        }
        let trimmed = text.filter { !$0.isWhitespace }
        guard let key = Hex.decode(trimmed), key.count >= 16 else {
            throw FileAccessError(description: "device key file \(keyFile) (uplink '\(name)', key_file) does not hold a key "
                + "in hex: put the 64 hex digits `patrol-centre devices add` printed in it")
        }
        return key
    }
}

extension AgentConfig {
    /// Reads `[[uplink]]` tables. No table means no uplink: the agent only stores.
    static func readUplinks(_ root: ConfigReader) -> [UplinkConfig] {
        var names: Set<String> = []
        return root.tables("uplink").compactMap { table -> UplinkConfig? in
            // Every key is read before any is judged, so none is reported as unknown.
            let name = table.string("name", default: "centre")
            let kind = UplinkConfig.Kind(rawValue: table.choice("kind", UplinkConfig.Kind.allCases.map(\.rawValue),
                                                                 default: UplinkConfig.Kind.centreHTTP.rawValue)) ?? .centreHTTP
            let url = table.string("url")
            let keyFile = table.string("key_file")
            let tls = TLSFiles(caFile: table.string("ca_file"), clientCertificate: table.string("client_cert"),
                               clientKey: table.string("client_key"))
            var settings = UplinkSettings()
            settings.heartbeatInterval = .milliseconds(Int64(table.number("heartbeat_s", default: 30, in: 1...3600) * 1000))
            settings.backoffCap = .milliseconds(Int64(table.number("retry_max_s", default: 60, in: 1...3600) * 1000))
            // A track batch also carries the newest position: one record of room under the protocol's limit.
            settings.trackPointsPerBatch = table.integer("batch_points", default: settings.trackPointsPerBatch,
                                                         in: 10...(UplinkLimits.maxRecordsPerBatch - 1))
            let timeout = Duration.milliseconds(Int64(table.number("timeout_s", default: 30, in: 1...600) * 1000))

            if !names.insert(name).inserted { table.problem("name", "uplink '\(name)' is configured twice; give each a name") }
            if keyFile == nil {
                table.problem("key_file", "name the file with this device's key, e.g. key_file = \"/etc/patrol-agent/device.key\"")
            }
            if (tls.clientCertificate == nil) != (tls.clientKey == nil) {
                table.problem(tls.clientCertificate == nil ? "client_cert" : "client_key",
                              "client_cert and client_key go together: set both or neither")
            }
            guard let url else {
                table.problem("url", "say where the centre is, e.g. url = \"https://centre.example:8443\"")
                return nil
            }
            let endpoint: HTTPEndpoint
            do {
                endpoint = try HTTPEndpoint(url: url)
            } catch {
                table.problem("url", "\(error)")
                return nil
            }
            if !endpoint.usesTLS, tls != TLSFiles() {
                table.problem("url", "ca_file, client_cert and client_key need an https:// url")
            }
            guard let keyFile else { return nil }
            return UplinkConfig(name: name, kind: kind, endpoint: endpoint, keyFile: keyFile, tls: tls, settings: settings,
                                timeout: timeout)
        }
    }
}
