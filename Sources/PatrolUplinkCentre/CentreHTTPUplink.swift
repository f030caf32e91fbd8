import PatrolCore
import PatrolEdgeSupport
import PatrolUplink

/// `[[uplink]] kind = "centre-http"`: the PatrolLink street centre.
///
///     url = "https://centre.example:8443"   # plain http only to this machine
///     key_file = "/etc/patrol-agent/device.key"
///     ca_file / client_cert / client_key     # optional TLS files
///     timeout_s = 30
///     batch_points = 20000
public enum CentreHTTPUplink: UplinkOutputKind {
    public static let kind = "centre-http"

    public static func read(_ table: ConfigReader, settings: inout UplinkSettings) -> (any UplinkOutputPlan)? {
        // Every key is read before any is judged, so none is reported as unknown.
        let url = table.string("url")
        let keyFile = table.string("key_file")
        let tls = TLSFiles(caFile: table.string("ca_file"), clientCertificate: table.string("client_cert"),
                           clientKey: table.string("client_key"))
        // A track batch also carries the newest position: one record of room under the protocol's limit.
        settings.trackPointsPerBatch = table.integer("batch_points", default: settings.trackPointsPerBatch,
                                                     in: 10...(UplinkLimits.maxRecordsPerBatch - 1))
        let timeout = Duration.milliseconds(Int64(table.number("timeout_s", default: 30, in: 1...600) * 1000))

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
        return Plan(endpoint: endpoint, keyFile: keyFile, tls: tls, timeout: timeout)
    }

    /// A checked centre table.
    public struct Plan: UplinkOutputPlan, Equatable {
        public var endpoint: HTTPEndpoint
        /// File holding the device key in hex, as `patrol-centre devices add` prints it.
        public var keyFile: String
        public var tls: TLSFiles
        /// How long a request may take before the link counts as down.
        public var timeout: Duration

        public var destination: String { endpoint.description }

        public func makeOutput(name: String, deviceID: String) throws(UplinkSetupError) -> any UplinkOutput {
            let key = try loadKey(uplink: name)
            do {
                return try CentreHTTPOutput(name: name, deviceID: deviceID, key: key, endpoint: endpoint, tls: tls, timeout: timeout,
                                            systemMilliseconds: { SystemClocks.systemTime().millisecondsSinceEpoch })
            } catch {
                throw UplinkSetupError("uplink '\(name)': \(error)")
            }
        }

        /// Reads the device key; the error names the file and the config entry.
        public func loadKey(uplink name: String) throws(UplinkSetupError) -> [UInt8] {
            let text: String
            do {
                text = try FileAccess.readText(keyFile)
            } catch {
                throw UplinkSetupError("uplink '\(name)', key_file: \(error)")
            }
            let trimmed = text.filter { !$0.isWhitespace }
            guard let key = Hex.decode(trimmed), key.count >= 16 else {
                throw UplinkSetupError("device key file \(keyFile) (uplink '\(name)', key_file) does not hold a key "
                    + "in hex: put the 64 hex digits `patrol-centre devices add` printed in it")
            }
            return key
        }
    }
}
