import Logging
import PatrolCore
import PatrolEdgeSupport
import PatrolUplink

/// `[[uplink]] kind = "dc09"`: an alarm receiving centre speaking SIA DC-09.
public enum DC09Uplink: UplinkOutputKind {
    public static let kind = "dc09"

    public static func read(_ table: ConfigReader, settings: inout UplinkSettings) -> (any UplinkOutputPlan)? {
        DC09Settings.read(table, settings: &settings)
    }
}

/// The keys of an `[[uplink]]` table with `kind = "dc09"`, checked; `Config/booth.toml` shows them.
/// `heartbeat_s` (shared by every kind) is the interval of NULL messages.
///
/// ```toml
/// [[uplink]]
/// name = "arc"
/// kind = "dc09"
/// host = "arc.example"          # the receiver
/// port = 3061
/// transport = "tcp"             # or "udp"
/// account = "12AB"              # 3–16 hex digits, as the ARC gave it
/// receiver = "1"                # R… (optional), line = "0": L…
/// token = "SIA-DCS"             # or "ADM-CID" (Contact ID)
/// key_file = "/etc/patrol-agent/arc.key"   # optional: AES key in hex (32, 48 or 64 digits)
/// partition = 1                 # SIA ri / Contact ID group
/// timeout_s = 10                # wait this long for each answer
/// supervision_s = 90            # unanswered this long: the uplink-down fault (default 3 × heartbeat_s)
/// [[uplink.zone]]               # zone numbers of buttons, readers, checkpoints (else their trailing digits)
/// id = "front-panic"
/// zone = 1
/// ```
public struct DC09Settings: UplinkOutputPlan, Equatable {
    public var host: String
    public var port: Int
    public var udp: Bool
    public var account: DC09Account
    /// Read when the output is made, so a missing or bad file stops the start naming the file and key.
    public var keyFile: String?
    public var timeout: Duration

    /// Reads the DC-09 keys of `table` (the caller reads the keys every output has: name, kind,
    /// heartbeat, backoff) and sets the supervision limit. Every problem is reported on its key;
    /// nil when the table is unusable.
    public static func read(_ table: ConfigReader, settings: inout UplinkSettings) -> DC09Settings? {
        let host = table.string("host")
        let port = table.integer("port", default: 0, in: 1...65_535)
        let transport = table.choice("transport", DC09Link.Transport.allCases.map(\.rawValue), default: DC09Link.Transport.tcp.rawValue)
        let account = table.string("account")
        let receiver = table.string("receiver")
        let line = table.string("line", default: "0")
        let token = DC09Account.Token(rawValue: table.choice("token", DC09Account.Token.allCases.map(\.rawValue),
                                                              default: DC09Account.Token.sia.rawValue)) ?? .sia
        let keyFile = table.string("key_file")
        let partition = table.integer("partition", default: 1, in: 0...99)
        let timeout = table.number("timeout_s", default: 10, in: 1...120)
        settings.requestTimeout = .milliseconds(Int64(timeout * 1000))
        // An ARC expects its account to report: a link that has not answered for three NULL
        // intervals is a fault on the board (and the ARC raises its own "fail to communicate").
        let heartbeat = Double(settings.heartbeatInterval.components.seconds)
        let supervision = table.number("supervision_s", default: 3 * heartbeat, in: 1...86_400)
        settings.supervisionLimit = .milliseconds(Int64(supervision * 1000))
        var zones: [String: Int] = [:]
        for zone in table.tables("zone") {
            let id = zone.string("id")
            let number = zone.integer("zone", default: 0, in: DC09Zones.range)
            guard let id else {
                zone.problem("id", "name the button, reader, tag or checkpoint this zone stands for, e.g. id = \"front-panic\"")
                continue
            }
            if !zone.has("zone") { zone.problem("zone", "give the zone number the receiver knows '\(id)' by (0–999)") }
            if zones.updateValue(number, forKey: id) != nil { zone.problem("id", "'\(id)' has a zone already") }
        }

        if host?.isEmpty != false { table.problem("host", "say where the receiver is, e.g. host = \"arc.example\"") }
        if !table.has("port") { table.problem("port", "give the receiver's port, e.g. port = 3061") }
        if let account, !isHex(account, 3...16) {
            table.problem("account", "'\(account)' is not an account number: 3 to 16 hex digits, as the alarm receiving centre gave it")
        } else if account == nil {
            table.problem("account", "give the account number the alarm receiving centre knows this site by, e.g. account = \"12AB\"")
        }
        if let receiver, !isHex(receiver, 1...6) { table.problem("receiver", "'\(receiver)' is not a receiver number: 1 to 6 hex digits") }
        if !isHex(line, 1...6) { table.problem("line", "'\(line)' is not a line number: 1 to 6 hex digits") }
        guard let host, !host.isEmpty, table.has("port"), let account, isHex(account, 3...16) else { return nil }
        return DC09Settings(
            host: host, port: port, udp: transport == DC09Link.Transport.udp.rawValue,
            account: DC09Account(number: account, receiver: receiver, line: line, token: token, partition: partition, zones: DC09Zones(zones)),
            keyFile: keyFile, timeout: .milliseconds(Int64(timeout * 1000)))
    }

    public var destination: String { "\(udp ? "udp" : "tcp")://\(host):\(port)" }

    /// The output, with the key read from `key_file`; the error names the uplink, the file and the key.
    public func makeOutput(name: String, deviceID: String) throws(UplinkSetupError) -> any UplinkOutput {
        var account = account
        if let keyFile {
            let text: String
            do {
                text = try FileAccess.readText(keyFile)
            } catch {
                throw UplinkSetupError("uplink '\(name)', key_file: \(error)")
            }
            account.key = try Self.key(from: text, file: keyFile, uplink: name, account: account.number)
        }
        return DC09Output(name: name, account: account, host: host, port: port, udp: udp, timeout: timeout,
                          logger: Logger(label: "patrol.uplink.dc09"),
                          systemMilliseconds: { SystemClocks.systemTime().millisecondsSinceEpoch })
    }

    /// The key in `text` (the content of `file`); the error says what the file must hold.
    static func key(from text: String, file: String, uplink name: String, account: String) throws(UplinkSetupError) -> DC09Key {
        guard let key = DC09Key(hex: text) else {
            throw UplinkSetupError("key file \(file) (uplink '\(name)', key_file) does not hold an AES key in hex: put the 32, 48 or 64 "
                + "hex digits (AES-128, -192 or -256) the alarm receiving centre set for account \(account) in it")
        }
        return key
    }

    private static func isHex(_ text: String, _ length: ClosedRange<Int>) -> Bool {
        length.contains(text.count) && text.allSatisfy(\.isHexDigit) && text.allSatisfy(\.isASCII)
    }
}
