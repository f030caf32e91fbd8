import PatrolCore
import PatrolEdgeSupport
import PatrolSerial

/// Buttons wired to one serial port's modem status lines (`[[modem_buttons]]`).
public struct ModemButtonsConfig: Sendable, Equatable {
    /// Names the port in port faults.
    public var id: String
    public var port: String
    public var baud: Int
    public var driver: SerialDriver
    public var supplyLines: [ModemControlLine]
    public var ledLine: ModemControlLine?
    public var buzzerLine: ModemControlLine?
    public var buttons: [Button]

    /// One button (`[[modem_buttons.button]]`): its press logic and the line it closes.
    public struct Button: Sendable, Equatable {
        public var config: ButtonConfig
        public var line: ModemStatusLine
        /// The asserted level means pressed (false: a normally closed loop that opens).
        public var activeHigh: Bool
    }
}

/// A button box on a serial port (`[[button_box]]`).
public struct ButtonBoxConfig: Sendable, Equatable {
    /// Names the box in events until it says hello with its own id.
    public var id: String
    public var port: String
    public var baud: Int
    public var driver: SerialDriver
    public var silenceMilliseconds: Int64
    /// The box LED that shows feedback (1-based).
    public var feedbackLED: Int
    /// By box button number, 1…16.
    public var buttons: [Int: ButtonConfig]
}

/// A tag reader on a serial port (`[[tag_reader]]`): checkpoint tags or, with the `duty` role,
/// the badges persons sign on and off the unit with.
public struct TagReaderConfig: Sendable, Equatable {
    public var id: String
    public var port: String
    public var baud: Int
    public var driver: SerialDriver
    public var format: TagReaderFormat
    public var repeatWindowMilliseconds: Int64
    public var role: TagReaderRole = .checkpoint
}

/// Everything that raises events: the inputs, the geofence checkpoints and the GPS-lost limit.
public struct InputsConfig: Sendable, Equatable {
    public var modemButtons: [ModemButtonsConfig] = []
    public var buttonBoxes: [ButtonBoxConfig] = []
    public var tagReaders: [TagReaderConfig] = []
    public var checkpoints: [Checkpoint] = []
    /// No position for this long raises the `fault.gps-lost` event (`[events] gps_lost_after_s`).
    public var gpsLostAfterMilliseconds: Int64 = 30_000

    public init() {}
}

/// One configured event input. A reload compares them: an input whose configuration is equal
/// keeps running with its port open; any difference (port, baud, a button) restarts it.
public enum InputConfig: Sendable, Equatable {
    case modemButtons(ModemButtonsConfig)
    case buttonBox(ButtonBoxConfig)
    case tagReader(TagReaderConfig)

    /// The input's `id`, for logs.
    public var id: String {
        switch self {
        case .modemButtons(let port): port.id
        case .buttonBox(let box): box.id
        case .tagReader(let reader): reader.id
        }
    }
}

extension InputsConfig {
    /// Every serial input, in the order status lists them.
    public var eventInputs: [InputConfig] {
        modemButtons.map(InputConfig.modemButtons) + buttonBoxes.map(InputConfig.buttonBox) + tagReaders.map(InputConfig.tagReader)
    }
}

extension AgentConfig {
    /// Reads `[[modem_buttons]]`, `[[button_box]]`, `[[tag_reader]]`, `[[checkpoint]]` and
    /// `[events]`. Ids must be unique across all of them, since events name their input by id alone.
    static func readInputs(_ root: ConfigReader) -> InputsConfig {
        var inputs = InputsConfig()
        var ids = UniqueIDs()
        for table in root.tables("modem_buttons") {
            inputs.modemButtons.append(modemButtons(table, ids: &ids))
        }
        for table in root.tables("button_box") {
            inputs.buttonBoxes.append(buttonBox(table, ids: &ids))
        }
        for table in root.tables("tag_reader") {
            let port = serialPort(table, ids: &ids)
            inputs.tagReaders.append(TagReaderConfig(
                id: port.id, port: port.path, baud: port.baud, driver: port.driver,
                format: TagReaderFormat(rawValue: table.choice("format", TagReaderFormat.allCases.map(\.rawValue),
                                                               default: TagReaderFormat.em4100Hex.rawValue)) ?? .em4100Hex,
                repeatWindowMilliseconds: milliseconds(table.number("repeat_window_s", default: 10, in: 0...3600)),
                role: TagReaderRole(rawValue: table.choice("role", TagReaderRole.allCases.map(\.rawValue),
                                                           default: TagReaderRole.checkpoint.rawValue)) ?? .checkpoint))
        }
        for table in root.tables("checkpoint") {
            let id = ids.take(table, "id")
            inputs.checkpoints.append(Checkpoint(
                id: id,
                center: Coordinate(latitude: table.number("lat", default: 0, in: -90...90),
                                   longitude: table.number("lon", default: 0, in: -180...180)),
                radiusMeters: table.number("radius_m", default: 30, in: 1...10_000),
                minimumDwellMilliseconds: milliseconds(table.number("min_dwell_s", default: 0, in: 0...86_400))))
            for key in ["lat", "lon"] where !table.has(key) { table.problem(key, "a checkpoint needs \(key)") }
        }
        let events = root.table("events")
        inputs.gpsLostAfterMilliseconds = milliseconds(events.number("gps_lost_after_s", default: 30, in: 1...86_400))
        return inputs
    }

    private static func modemButtons(_ table: ConfigReader, ids: inout UniqueIDs) -> ModemButtonsConfig {
        let port = serialPort(table, ids: &ids)
        let outputs = ModemControlLine.allCases.map(\.rawValue)
        let supply = (table.strings("supply_lines") ?? ["dtr"]).compactMap { name -> ModemControlLine? in
            guard let line = ModemControlLine(rawValue: name) else {
                table.problem("supply_lines", "'\(name)' is not one of: \(outputs.joined(separator: ", "))")
                return nil
            }
            return line
        }
        func output(_ key: String) -> ModemControlLine? {
            guard table.has(key) else { return nil }
            let line = ModemControlLine(rawValue: table.choice(key, outputs, default: ""))
            if let line, supply.contains(line) { table.problem(key, "\(line.rawValue) is a supply line; wire the indicator to another") }
            return line
        }
        let led = output("led_line"), buzzer = output("buzzer_line")
        if let led, led == buzzer { table.problem("buzzer_line", "the LED already uses \(led.rawValue)") }
        var used: Set<ModemStatusLine> = []
        let buttons = table.tables("button").map { button -> ModemButtonsConfig.Button in
            let line = ModemStatusLine(rawValue: button.choice("line", ModemStatusLine.allCases.map(\.rawValue), default: "cts")) ?? .cts
            if !button.has("line") { button.problem("line", "say which status line the button closes: cts, dsr, dcd or ri") }
            if !used.insert(line).inserted { button.problem("line", "another button of this port already uses \(line.rawValue)") }
            return ModemButtonsConfig.Button(config: buttonConfig(button, ids: &ids), line: line,
                                             activeHigh: button.choice("active", ["high", "low"], default: "high") == "high")
        }
        if buttons.isEmpty { table.problem("button", "add at least one [[modem_buttons.button]]") }
        return ModemButtonsConfig(id: port.id, port: port.path, baud: port.baud, driver: port.driver,
                                  supplyLines: supply, ledLine: led, buzzerLine: buzzer, buttons: buttons)
    }

    private static func buttonBox(_ table: ConfigReader, ids: inout UniqueIDs) -> ButtonBoxConfig {
        let port = serialPort(table, ids: &ids)
        var buttons: [Int: ButtonConfig] = [:]
        for button in table.tables("button") {
            let number = button.integer("number", default: 0, in: ButtonBoxFrame.buttonNumbers)
            if !button.has("number") { button.problem("number", "say which box button (1 to 16) this is") }
            if buttons[number] != nil { button.problem("number", "button \(number) is configured twice") }
            buttons[number] = buttonConfig(button, ids: &ids)
        }
        if buttons.isEmpty { table.problem("button", "add at least one [[button_box.button]]") }
        return ButtonBoxConfig(id: port.id, port: port.path, baud: port.baud, driver: port.driver,
                               silenceMilliseconds: Int64(table.integer("silence_ms", default: 3500, in: 1500...86_400_000)),
                               feedbackLED: table.integer("led", default: 1, in: 1...16), buttons: buttons)
    }

    /// The keys every serial input shares: `id`, `port`, `baud`, `driver`.
    private static func serialPort(_ table: ConfigReader, ids: inout UniqueIDs)
        -> (id: String, path: String, baud: Int, driver: SerialDriver) {
        let path = table.string("port") ?? ""
        if path.isEmpty { table.problem("port", "set the serial port, e.g. \"/dev/ttyUSB0\" or \"rfc2217://host:port\"") }
        let driver = table.choice("driver", SerialDriver.allCases.map(\.rawValue), default: SerialDriver.auto.rawValue)
        return (ids.take(table, "id"), path, table.integer("baud", default: 9600, in: 1200...921_600),
                SerialDriver(rawValue: driver) ?? .auto)
    }

    /// A button's meaning and timing, the same keys for modem-line and box buttons.
    private static func buttonConfig(_ table: ConfigReader, ids: inout UniqueIDs) -> ButtonConfig {
        let id = ids.take(table, "id")
        let role = ButtonRole(rawValue: table.choice("role", ButtonRole.allCases.map(\.rawValue), default: "panic")) ?? .panic
        if !table.has("role") { table.problem("role", "say what a press means: \(ButtonRole.allCases.map(\.rawValue).joined(separator: ", "))") }
        let maximumHold = Int64(table.integer("max_hold_ms", default: 60_000, in: 1000...3_600_000))
        var longPress: LongPress?
        if table.has("long_press_ms") || table.has("long_press_action") {
            let after = Int64(table.integer("long_press_ms", default: 3000, in: 500...600_000))
            let action = table.choice("long_press_action", LongPressAction.allCases.map(\.rawValue), default: "")
            if let action = LongPressAction(rawValue: action) {
                longPress = LongPress(afterMilliseconds: after, action: action)
            } else if !table.has("long_press_action") {
                table.problem("long_press_action", "long_press_ms needs long_press_action: restore or cancel")
            }
            if after >= maximumHold { table.problem("long_press_ms", "must be shorter than max_hold_ms (\(maximumHold))") }
        }
        return ButtonConfig(id: id, role: role,
                            debounceMilliseconds: Int64(table.integer("debounce_ms", default: 30, in: 0...1000)),
                            minimumHoldMilliseconds: Int64(table.integer("min_hold_ms", default: 100, in: 0...10_000)),
                            longPress: longPress, maximumHoldMilliseconds: maximumHold)
    }

    private static func milliseconds(_ seconds: Double) -> Int64 {
        Int64((seconds * 1000).rounded())
    }
}

/// Input, button and checkpoint ids seen so far: each must be set, well formed and used once, and
/// fit the centre's limit (an event carries its input's id; a longer one would be refused there).
private struct UniqueIDs {
    private var seen: Set<String> = []

    mutating func take(_ table: ConfigReader, _ key: String) -> String {
        let id = table.string(key) ?? ""
        if id.isEmpty || !id.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) {
            table.problem(key, "set an id of letters, digits, '-', '_' or '.', e.g. \(key) = \"panic-1\"")
        } else if id.utf8.count > UplinkLimits.maxShortStringBytes {
            table.problem(key, "'\(id)' is \(id.utf8.count) bytes; the centre accepts at most "
                + "\(UplinkLimits.maxShortStringBytes), so its events could never be delivered: shorten it")
        } else if !seen.insert(id).inserted {
            table.problem(key, "'\(id)' is already used by another input, button or checkpoint")
        }
        return id
    }
}
