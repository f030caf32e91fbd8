import Foundation
import PatrolCore
import PatrolTestSupport
import PatrolUplink
import Testing
@testable import PatrolUplinkDC09

/// The `[[uplink]] kind = "dc09"` table: every key read, every problem named by line and key.
struct DC09SettingsTests {
    static func read(_ text: String, uplink: inout UplinkSettings) -> (settings: DC09Settings?, problems: [String]) {
        do {
            let root = ConfigReader(try TOMLParser.parse(text))
            let table = root.tables("uplink")[0]
            _ = table.string("kind")
            let settings = DC09Settings.read(table, settings: &uplink)
            do {
                try root.finish(file: "agent.toml")
                return (settings, [])
            } catch {
                return (settings, error.problems.map { "\($0.line): \($0.key): \($0.message)" })
            }
        } catch {
            return (nil, ["TOML: \(error)"])
        }
    }

    static func read(_ text: String) -> (settings: DC09Settings?, problems: [String]) {
        var uplink = UplinkSettings()
        return read(text, uplink: &uplink)
    }

    @Test func readsEveryKey() throws {
        var uplink = UplinkSettings()
        let (settings, problems) = Self.read("""
            [[uplink]]
            kind = "dc09"
            host = "arc.example"
            port = 3061
            transport = "udp"
            account = "12ab"
            receiver = "3F"
            line = "2"
            token = "ADM-CID"
            key_file = "/etc/patrol-agent/arc.key"
            partition = 4
            timeout_s = 2.5
            supervision_s = 600
            [[uplink.zone]]
            id = "front-panic"
            zone = 1
            [[uplink.zone]]
            id = "jetty"
            zone = 17
            """, uplink: &uplink)
        #expect(problems == [])
        #expect(uplink.supervisionLimit == .seconds(600))
        let read = try #require(settings)
        #expect(read == DC09Settings(host: "arc.example", port: 3061, udp: true,
                                     account: DC09Account(number: "12AB", receiver: "3F", line: "2", token: .contactID, partition: 4,
                                                          zones: DC09Zones(["front-panic": 1, "jetty": 17])),
                                     keyFile: "/etc/patrol-agent/arc.key", timeout: .milliseconds(2500)))
    }

    @Test func defaultsAreTCPSIADCSLineZeroPartitionOneTenSecondsAndSupervisionThreeHeartbeats() throws {
        var uplink = UplinkSettings()
        uplink.heartbeatInterval = .seconds(20)
        let settings = try #require(Self.read("[[uplink]]\nkind = \"dc09\"\nhost = \"10.0.0.9\"\nport = 3061\naccount = \"1234\"\n", uplink: &uplink).settings)
        #expect(uplink.supervisionLimit == .seconds(60))
        #expect(settings.destination == "tcp://10.0.0.9:3061")
        #expect(!settings.udp && settings.account.token == .sia && settings.account.line == "0" && settings.account.receiver == nil)
        #expect(settings.account.partition == 1 && settings.timeout == .seconds(10) && settings.keyFile == nil)
    }

    @Test func everyProblemIsNamedByLineAndKey() {
        let (settings, problems) = Self.read("""
            [[uplink]]
            kind = "dc09"
            port = 70000
            transport = "sctp"
            account = "12-AB"
            receiver = "RX1"
            line = ""
            token = "CID"
            partition = 100
            timeout_s = 0
            [[uplink.zone]]
            zone = 1
            [[uplink.zone]]
            id = "a"
            zone = 1000
            [[uplink.zone]]
            id = "a"
            """)
        #expect(settings == nil)
        #expect(problems == [
            "1: uplink[0].host: say where the receiver is, e.g. host = \"arc.example\"",
            "3: uplink[0].port: 70000 is out of range; use 1 to 65535",
            "4: uplink[0].transport: 'sctp' is not one of: tcp, udp",
            "5: uplink[0].account: '12-AB' is not an account number: 3 to 16 hex digits, as the alarm receiving centre gave it",
            "6: uplink[0].receiver: 'RX1' is not a receiver number: 1 to 6 hex digits",
            "7: uplink[0].line: '' is not a line number: 1 to 6 hex digits",
            "8: uplink[0].token: 'CID' is not one of: SIA-DCS, ADM-CID",
            "9: uplink[0].partition: 100 is out of range; use 0 to 99",
            "10: uplink[0].timeout_s: 0 is out of range; use 1 to 120",
            "11: uplink[0].zone[0].id: name the button, reader, tag or checkpoint this zone stands for, e.g. id = \"front-panic\"",
            "15: uplink[0].zone[1].zone: 1000 is out of range; use 0 to 999",
            "16: uplink[0].zone[2].zone: give the zone number the receiver knows 'a' by (0–999)",
            "17: uplink[0].zone[2].id: 'a' has a zone already",
        ])
    }

    /// The key file is read when the output is made (the agent's start and `config check`).
    @Test func aKeyFileMustHoldAnAESKeyInHex() throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let keyFile = folder.file("arc.key")
        let settings = try #require(Self.read("[[uplink]]\nkind = \"dc09\"\nhost = \"h\"\nport = 1\naccount = \"1234\"\nkey_file = \"\(keyFile)\"\n").settings)
        #expect {
            try settings.makeOutput(name: "arc", deviceID: "booth-7")
        } throws: { error in
            "\(error)".hasPrefix("uplink 'arc', key_file: cannot read \(keyFile)")
        }
        try "secret\n".write(toFile: keyFile, atomically: true, encoding: .utf8)
        #expect {
            try settings.makeOutput(name: "arc", deviceID: "booth-7")
        } throws: { error in
            "\(error)" == "key file \(keyFile) (uplink 'arc', key_file) does not hold an AES key in hex: put the 32, 48 or 64 hex digits "
                + "(AES-128, -192 or -256) the alarm receiving centre set for account 1234 in it"
        }
        try (String(repeating: "0f", count: 24) + "\n").write(toFile: keyFile, atomically: true, encoding: .utf8)
        let output = try #require(try settings.makeOutput(name: "arc", deviceID: "booth-7") as? DC09Output)
        #expect(output.account.key?.bits == 192)
        #expect(output.streams == [.event], "track never goes to an alarm receiver")
    }
}
