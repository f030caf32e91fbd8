import PatrolAgent
import PatrolCore
import PatrolUplinkJT808
import Testing

/// `[[uplink]] kind = "jt808"` keys: read, checked, and each problem named with its line and key.
struct JT808UplinkConfigTests {
    let base = """
        [device]
        id = "car-7"

        """

    @Test func readsAJT808Uplink() throws {
        let config = try AgentConfig.parse(base + """
            [[uplink]]
            name = "district"
            kind = "jt808"
            address = "platform.example:7611"
            phone = "13912345678"
            revision = "2019"
            auth_code_file = "/var/lib/patrol-agent/jt808.auth"
            province = 44
            city = 300
            terminal_id = "CAR0007"
            plate = "B-PL 7"
            plate_colour = 1
            heartbeat_s = 20
            """, file: "agent.toml")
        let uplink = try #require(config.uplinks.first)
        let plan = try #require(uplink.plan as? JT808Uplink.Plan)
        #expect(plan.destination == "tcp://platform.example:7611")
        #expect(plan.phone == "00000000013912345678", "2019: 10 BCD bytes, zeros in front")
        #expect(plan.revision == .v2019 && plan.registration.layout == .v2019)
        #expect(plan.registration.terminalID == "CAR0007" && plan.registration.province == 44)
        #expect(uplink.settings.heartbeatInterval == .seconds(20))
        #expect(uplink.settings.trackPointsPerBatch == 600)
    }

    @Test func badKeysAreNamedWithTheirLine() {
        #expect {
            try AgentConfig.parse(base + """
                [[uplink]]
                kind = "jt808"
                address = "platform.example"
                phone = "+86 139"
                terminal_id = "MUCH-TOO-LONG"
                """, file: "agent.toml")
        } throws: { error in
            let text = "\(error)"
            return text.contains("agent.toml:5: uplink[0].address: 'platform.example' is not host:port")
                && text.contains("agent.toml:6: uplink[0].phone: '+86 139' is not a terminal phone number: at most 12 digits")
                && text.contains("agent.toml:7: uplink[0].terminal_id: at most 7 bytes in the 2013 revision")
                && text.contains("uplink[0].auth_code_file: name a file beside the store")
        }
    }
}
