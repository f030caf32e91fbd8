import PatrolAgent
import PatrolCore
import PatrolSerial
import PatrolTestSupport
import Testing

struct InputsConfigTests {
    let base = """
        [device]
        id = "booth-1"

        """

    @Test func readsEveryInputKind() throws {
        let config = try AgentConfig.parse(base + """
            [events]
            gps_lost_after_s = 45
            [[modem_buttons]]
            id = "dash"
            port = "rfc2217://10.0.0.2:4001"
            supply_lines = ["dtr"]
            led_line = "rts"
            [[modem_buttons.button]]
            id = "dash-panic"
            line = "dsr"
            role = "silent-panic"
            active = "low"
            long_press_ms = 4000
            long_press_action = "cancel"
            [[button_box]]
            id = "box"
            port = "/dev/pts/4"
            driver = "termios"
            silence_ms = 5000
            [[button_box.button]]
            number = 3
            id = "box-sos"
            role = "sos"
            min_hold_ms = 0
            [[tag_reader]]
            id = "reader"
            port = "/dev/ttyUSB2"
            format = "decimal"
            repeat_window_s = 2.5
            [[tag_reader]]
            id = "duty-reader"
            port = "/dev/ttyUSB3"
            role = "duty"
            [[checkpoint]]
            id = "gate"
            lat = 52.5
            lon = 13.4
            min_dwell_s = 20
            """, file: "agent.toml")
        let inputs = config.inputs
        #expect(inputs.gpsLostAfterMilliseconds == 45_000)
        let dash = try #require(inputs.modemButtons.first)
        #expect(dash.ledLine == .rts && dash.supplyLines == [.dtr] && dash.buzzerLine == nil)
        #expect(dash.buttons.first?.line == .dsr && dash.buttons.first?.activeHigh == false)
        #expect(dash.buttons.first?.config.role == .silentPanic)
        #expect(dash.buttons.first?.config.longPress == LongPress(afterMilliseconds: 4000, action: .cancel))
        let box = try #require(inputs.buttonBoxes.first)
        #expect(box.driver == .termios && box.silenceMilliseconds == 5000)
        #expect(box.buttons[3]?.id == "box-sos" && box.buttons[3]?.minimumHoldMilliseconds == 0)
        #expect(inputs.tagReaders.first?.format == .decimal && inputs.tagReaders.first?.repeatWindowMilliseconds == 2500)
        #expect(inputs.tagReaders.map(\.role) == [.checkpoint, .duty], "a reader is a checkpoint reader unless it says duty")
        #expect(inputs.checkpoints.first?.minimumDwellMilliseconds == 20_000 && inputs.checkpoints.first?.radiusMeters == 30)
    }

    @Test func badInputsNameLineAndKey() {
        #expect {
            try AgentConfig.parse(base + """
                [[button_box]]
                id = "box"
                port = "/dev/pts/4"
                [[button_box.button]]
                number = 1
                id = "box"
                role = "panik"
                [[tag_reader]]
                id = "badges"
                port = "/dev/pts/5"
                role = "roll-call"
                """, file: "agent.toml")
        } throws: { error in
            let text = "\(error)"
            return text.contains("agent.toml:8: button_box[0].button[0].id: 'box' is already used")
                && text.contains("agent.toml:9: button_box[0].button[0].role: 'panik' is not one of: panic, silent-panic")
                && text.contains("agent.toml:13: tag_reader[0].role: 'roll-call' is not one of: checkpoint, duty")
        }
    }

    @Test func exampleConfigurationsDescribeTheirInputs() throws {
        let car = try AgentConfig.load(path: Fixtures.repositoryRoot + "/Config/patrol-car.toml")
        #expect(car.inputs.modemButtons.first?.buttons.count == 2 && car.inputs.checkpoints.count == 1)
        let booth = try AgentConfig.load(path: Fixtures.repositoryRoot + "/Config/booth.toml")
        #expect(booth.inputs.buttonBoxes.first?.buttons.count == 2 && booth.inputs.tagReaders.count == 1)
    }
}
