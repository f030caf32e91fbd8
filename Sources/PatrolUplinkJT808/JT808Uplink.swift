import PatrolCore
import PatrolUplink

/// `[[uplink]] kind = "jt808"`: a JT/T 808 monitoring platform (`Docs/jt808.md`).
///
///     address = "platform.example:7611"
///     phone = "013912345678"            # the terminal phone number the platform knows the car by
///     revision = "2013"                 # or "2019"
///     auth_code_file = "/var/lib/patrol-agent/jt808.auth"   # kept across reboots, fsynced
///     province = 44, city = 300, maker = "PTRL", model = "patrol-agent", terminal_id = "CAR0007"
///     plate = "B-PL 7", plate_colour = 1
///     timeout_s = 30
public enum JT808Uplink: UplinkOutputKind {
    public static let kind = "jt808"

    public static func read(_ table: ConfigReader, settings: inout UplinkSettings) -> (any UplinkOutputPlan)? {
        let address = table.string("address")
        let phoneText = table.string("phone")
        let revision = JT808Revision(rawValue: table.choice("revision", JT808Revision.allCases.map(\.rawValue), default: "2013")) ?? .v2013
        let authCodeFile = table.string("auth_code_file")
        let layout: JT808Registration.Layout = revision == .v2019 ? .v2019 : .v2013
        let widths = layout.widths
        func text(_ key: String, _ fallback: String, width: Int) -> JT808Text {
            let value = table.string(key, default: fallback)
            if value.utf8.count > width { table.problem(key, "at most \(width) bytes in the \(revision.rawValue) revision") }
            return JT808Text(value)
        }
        let registration = JT808Registration(
            layout: layout, province: UInt16(table.integer("province", default: 0, in: 0...65_535)),
            city: UInt16(table.integer("city", default: 0, in: 0...65_535)),
            maker: text("maker", "PTRL", width: widths.maker), model: text("model", "patrol-agent", width: widths.model),
            terminalID: text("terminal_id", "", width: widths.terminalID),
            plateColour: UInt8(table.integer("plate_colour", default: 0, in: 0...255)), plate: JT808Text(table.string("plate", default: "")))
        let timeout = Duration.milliseconds(Int64(table.number("timeout_s", default: 30, in: 1...600) * 1000))
        settings.requestTimeout = timeout
        // A round waits for every message's 0x8001: 600 points are 20 batch messages, so an alarm
        // raised while a day's backlog drains waits for one short round, not a long one.
        settings.trackPointsPerBatch = table.integer("batch_points", default: 600, in: 30...20_000)

        if authCodeFile == nil {
            table.problem("auth_code_file", "name a file beside the store for the platform's authentication code, "
                          + "e.g. auth_code_file = \"/var/lib/patrol-agent/jt808.auth\" (so a reboot does not register again)")
        }
        var phone: String?
        if let phoneText {
            phone = JT808Header.normalisedPhone(phoneText, revision: revision)
            if phone == nil {
                table.problem("phone", "'\(phoneText)' is not a terminal phone number: at most \(revision.phoneBytes * 2) digits")
            }
        } else {
            table.problem("phone", "give the terminal phone number the platform knows this car by, e.g. phone = \"013912345678\"")
        }
        guard let address else {
            table.problem("address", "say where the platform is, e.g. address = \"platform.example:7611\"")
            return nil
        }
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]), (1...65_535).contains(port),
              colon != address.startIndex else {
            table.problem("address", "'\(address)' is not host:port, e.g. \"platform.example:7611\"")
            return nil
        }
        guard let phone, let authCodeFile else { return nil }
        return Plan(host: String(address[..<colon]), port: port, phone: phone, revision: revision, registration: registration,
                    authCodeFile: authCodeFile, timeout: timeout)
    }

    /// A checked JT/T 808 table.
    public struct Plan: UplinkOutputPlan, Equatable {
        public var host: String
        public var port: Int
        public var phone: String
        public var revision: JT808Revision
        public var registration: JT808Registration
        public var authCodeFile: String
        public var timeout: Duration

        public var destination: String { "tcp://\(host):\(port)" }

        public func makeOutput(name: String, deviceID: String) throws(UplinkSetupError) -> any UplinkOutput {
            JT808Output(name: name, host: host, port: port, phone: phone, revision: revision, registration: registration,
                        authCodeFile: authCodeFile, timeout: timeout)
        }
    }
}
