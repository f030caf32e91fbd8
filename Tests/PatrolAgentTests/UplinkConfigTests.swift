import Foundation
import PatrolAgent
import PatrolCore
import PatrolTestSupport
import PatrolUplink
import PatrolUplinkCentre
import Testing

struct UplinkConfigTests {
    let base = """
        [device]
        id = "car-12"

        """

    @Test func readsAnHTTPSUplinkWithItsTLSFiles() throws {
        let config = try AgentConfig.parse(base + """
            [[uplink]]
            name = "centre"
            kind = "centre-http"
            url = "https://centre.example:8443/patrol/"
            key_file = "/etc/patrol-agent/device.key"
            ca_file = "/etc/patrol-agent/ca.pem"
            client_cert = "/etc/patrol-agent/device.pem"
            client_key = "/etc/patrol-agent/device-key.pem"
            heartbeat_s = 45
            """, file: "agent.toml")
        let uplink = try #require(config.uplinks.first)
        let plan = try #require(uplink.plan as? CentreHTTPUplink.Plan)
        #expect(plan.endpoint.usesTLS && plan.endpoint.host == "centre.example" && plan.endpoint.port == 8443)
        #expect(plan.endpoint.basePath == "/patrol")
        #expect(plan.tls.caFile == "/etc/patrol-agent/ca.pem" && plan.tls.clientKey == "/etc/patrol-agent/device-key.pem")
        #expect(uplink.settings.heartbeatInterval == .seconds(45))
        #expect(uplink.settings.backoffCap == .seconds(60), "defaults apply to keys left out")
    }

    @Test func noUplinkTableMeansTheAgentOnlyStores() throws {
        #expect(try AgentConfig.parse(base, file: "agent.toml").uplinks.isEmpty)
    }

    @Test func badUplinksNameLineAndKey() {
        #expect {
            try AgentConfig.parse(base + """
                [[uplink]]
                url = "http://centre.example"
                key_file = "/k"
                [[uplink]]
                name = "second"
                kind = "sia-dc09"
                url = "https://centre.example"
                client_cert = "/c.pem"
                """, file: "agent.toml")
        } throws: { error in
            let text = "\(error)"
            return text.contains("agent.toml:4: uplink[0].url: 'http://centre.example': plain http is only allowed to this machine")
                && text.contains("agent.toml:8: uplink[1].kind: 'sia-dc09' is not one of: centre-http")
                && text.contains("agent.toml:6: uplink[1].key_file: name the file with this device's key")
                && text.contains("agent.toml:6: uplink[1].client_key: client_cert and client_key go together")
        }
    }

    @Test func anUnreadableKeyFileIsNamed() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let keyPath = directory.file("device.key")
        let config = try AgentConfig.parse(base + """
            [[uplink]]
            url = "http://127.0.0.1:8080"
            key_file = "\(keyPath)"
            """, file: "agent.toml")
        let uplink = try #require(config.uplinks.first)
        #expect { try uplink.makeOutput(deviceID: "car-12") } throws: { "\($0)".contains("cannot read \(keyPath)") }
        try "not hex\n".write(toFile: keyPath, atomically: true, encoding: .utf8)
        #expect { try uplink.makeOutput(deviceID: "car-12") } throws: {
            "\($0)".contains("device key file \(keyPath) (uplink 'centre', key_file) does not hold a key")
        }
        try (String(repeating: "ab", count: 32) + "\n").write(toFile: keyPath, atomically: true, encoding: .utf8)
        let plan = try #require(uplink.plan as? CentreHTTPUplink.Plan)
        #expect(try plan.loadKey(uplink: uplink.name) == [UInt8](repeating: 0xab, count: 32))
    }

    /// The guard's box shows "delivered" for one output: the one marked primary, else the first.
    @Test func onlyOneUplinkIsPrimaryAndTheFirstIsWhenNoneSaysSo() throws {
        let two = """
            [[uplink]]
            name = "centre"
            url = "http://127.0.0.1:8080"
            key_file = "/k"
            [[uplink]]
            name = "backup"
            url = "http://127.0.0.1:8081"
            key_file = "/k"

            """
        #expect(try AgentConfig.parse(base + two, file: "agent.toml").primaryUplink == "centre")
        let marked = two.replacingOccurrences(of: "name = \"backup\"", with: "name = \"backup\"\nprimary = true")
        #expect(try AgentConfig.parse(base + marked, file: "agent.toml").primaryUplink == "backup")
        let both = marked.replacingOccurrences(of: "name = \"centre\"", with: "name = \"centre\"\nprimary = true")
        #expect { try AgentConfig.parse(base + both, file: "agent.toml") } throws: {
            "\($0)".contains("uplink[1].primary: only one uplink can be primary: 'centre' already is")
        }
    }
}
