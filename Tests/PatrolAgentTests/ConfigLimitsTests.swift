import PatrolAgent
import PatrolCore
import Testing

/// Values `config check` must refuse because the centre would refuse what they produce later: a
/// unit that passes the check must be able to deliver.
struct ConfigLimitsTests {
    private func problems(_ text: String) throws -> [ConfigProblem] {
        try #require(throws: ConfigError.self) { try AgentConfig.parse(text, file: "agent.toml") }.problems
    }

    @Test func aDeviceIDLongerThanTheCentreAcceptsIsRefusedWithTheLimit() throws {
        let id = String(repeating: "c", count: UplinkLimits.maxDeviceIDBytes + 1)
        let found = try problems("[device]\nid = \"\(id)\"\n")
        #expect(found.count == 1)
        #expect(found.first?.key == "device.id")
        #expect(found.first?.line == 2)
        #expect(found.first?.message.contains("at most \(UplinkLimits.maxDeviceIDBytes)") == true, "\(found)")
        _ = try AgentConfig.parse("[device]\nid = \"\(id.dropLast())\"\n", file: "agent.toml")
    }

    @Test func anInputIDLongerThanAnEventMayCarryIsRefusedWithTheLimit() throws {
        let id = String(repeating: "p", count: UplinkLimits.maxShortStringBytes + 1)
        let found = try problems("""
            [device]
            id = "car-1"
            [[checkpoint]]
            id = "\(id)"
            lat = 52.5
            lon = 13.4
            """)
        #expect(found.map(\.key) == ["checkpoint[0].id"])
        #expect(found.first?.message.contains("at most \(UplinkLimits.maxShortStringBytes)") == true, "\(found)")
    }

    @Test func syntaxProblemsNameTheFileAndLine() throws {
        let found = try problems("[device]\nid = \"car-1\"\n[filter]\nmax_speed = -inf\n")
        #expect(found.first?.line == 4)
        #expect(found.first?.message.contains("infinity") == true, "\(found)")
    }
}
