#if canImport(Glibc)
import Glibc
#endif
import PatrolCore
import PatrolEdgeSupport
import PatrolSerial

/// One configured serial device as doctor examines it: the node exists, the service user may read
/// and write it, and what is actually on the line.
struct DeviceUnderTest {
    enum Expected {
        /// A GNSS receiver: NMEA sentences.
        case nmea
        /// A PLBX button box: heartbeats every second, `HELLO` with its id on `QUERY`.
        case buttonBox
        /// A checkpoint tag reader: lines only when a tag is presented.
        case tagReader
        /// Contact buttons on the modem status lines; the data lines carry nothing.
        case modemButtons([ModemButtonsConfig.Button])
    }

    let label: String
    let path: String
    let baud: Int
    let driver: SerialDriver
    let expected: Expected

    static func configured(_ config: AgentConfig) -> [DeviceUnderTest] {
        var devices: [DeviceUnderTest] = []
        if case .serial(let path, let baud, let driver) = config.gps {
            devices.append(DeviceUnderTest(label: "gps receiver", path: path, baud: baud, driver: SerialDriver(rawValue: driver) ?? .auto, expected: .nmea))
        }
        devices += config.inputs.modemButtons.map {
            DeviceUnderTest(label: "modem buttons \($0.id)", path: $0.port, baud: $0.baud, driver: $0.driver, expected: .modemButtons($0.buttons))
        }
        devices += config.inputs.buttonBoxes.map {
            DeviceUnderTest(label: "button box \($0.id)", path: $0.port, baud: $0.baud, driver: $0.driver, expected: .buttonBox)
        }
        devices += config.inputs.tagReaders.map {
            DeviceUnderTest(label: "tag reader \($0.id)", path: $0.port, baud: $0.baud, driver: $0.driver, expected: .tagReader)
        }
        return devices
    }

    func examine(user: ServiceUser?, running: AgentStatus?, listenSeconds: Double) -> DoctorCheck {
        let isNetworkPort = path.hasPrefix("rfc2217://")
        if !isNetworkPort {
            var status = stat()
            guard stat(path, &status) == 0 else {
                return DoctorCheck(label, .fail, "\(path) does not exist",
                                   remedy: "plug the device in; `ls -l /dev/serial/by-id/` lists what is there; fix `port` in the config")
            }
            guard status.st_mode & S_IFMT == S_IFCHR else {
                return DoctorCheck(label, .fail, "\(path) is not a device (\(Doctor.describe(status)))", remedy: "point `port` at the serial device")
            }
            if let user, !user.may(ServiceUser.read | ServiceUser.write, status) {
                let udev = "give the device group dialout and mode 0660 in a udev rule (Board/udev)"
                return DoctorCheck(label, .fail, "\(path) (\(Doctor.describe(status))) is not readable and writable by \(user.name)",
                                   remedy: status.st_gid == 0 ? udev : "adduser \(user.name) \(groupName(status.st_gid)), or \(udev)")
            }
        }
        if let running {
            let state = running.inputs.first { $0.name.contains(path) }.map { "agent reports it \($0.state)" + ($0.downReason.map { ": \($0)" } ?? "") }
            return DoctorCheck(label, .skipped, "\(path): in use by the running agent (pid \(running.pid))" + (state.map { "; \($0)" } ?? ""),
                               remedy: "to see what is on the line: systemctl stop patrol-agent, run doctor, systemctl start patrol-agent")
        }
        let port: any SerialPort
        do {
            port = try SerialPortOpener(driver: driver).open(path: path, baud: baud)
        } catch {
            return DoctorCheck(label, .fail, "cannot open: \(error)", remedy: "is another program using it (lsof \(path))?")
        }
        defer { port.close() }
        switch expected {
        case .modemButtons(let buttons):
            return modemLineCheck(port, buttons: buttons)
        case .buttonBox:
            try? port.write(Array(ButtonBoxFrame(sequence: 0, message: .query).line.utf8))
        case .nmea, .tagReader:
            break
        }
        return lineCheck(LineSurvey(listening(to: port, seconds: listenSeconds)), seconds: listenSeconds)
    }

    private func listening(to port: any SerialPort, seconds: Double) -> [UInt8] {
        let deadline = SystemClocks.monotonicMilliseconds() + Int64(seconds * 1000)
        var bytes: [UInt8] = []
        while bytes.count < 1 << 20 {
            let left = deadline - SystemClocks.monotonicMilliseconds()
            guard left > 0, let chunk = try? port.read(maxCount: 4096, timeout: .milliseconds(left)) else { break }
            bytes += chunk
        }
        return bytes
    }

    private func lineCheck(_ survey: LineSurvey, seconds: Double) -> DoctorCheck {
        let heard = "in \(Doctor.format(seconds)) s at \(baud) baud"
        switch expected {
        case .nmea:
            if !survey.talkers.isEmpty {
                return DoctorCheck(label, .ok, "\(path): \(survey.nmeaSentences) NMEA sentences \(heard) from talkers \(survey.talkers.joined(separator: ", "))")
            }
        case .buttonBox:
            if let hello = survey.hello {
                return DoctorCheck(label, .ok, "\(path): box \(hello.boxID), firmware \(hello.firmware), \(survey.boxFrames) frames \(heard)")
            }
            if survey.boxFrames > 0 {
                return DoctorCheck(label, .warn, "\(path): \(survey.boxFrames) PLBX frames \(heard) but no HELLO to QUERY",
                                   remedy: "the box's firmware may be too old to answer QUERY (Board/button-box-protocol.md)")
            }
        case .tagReader:
            if survey.otherLines > 0 {
                return DoctorCheck(label, .ok, "\(path): \(survey.otherLines) reads \(heard), last \(survey.lastOtherLine ?? "")")
            }
            if survey.bytes == 0 {
                return DoctorCheck(label, .warn, "\(path): nothing \(heard); a reader sends only when a tag is presented",
                                   remedy: "present a tag while doctor listens (--listen 10)")
            }
        case .modemButtons:
            break
        }
        if survey.bytes == 0 {
            return DoctorCheck(label, .fail, "\(path): nothing received \(heard)",
                               remedy: expected.isBox ? "check the box's power and cable, and the baud rate; a box sends a heartbeat every second"
                                   : "check the receiver's power and cable, and the baud rate ([gps] serial_baud)")
        }
        return DoctorCheck(label, .fail, "\(path): \(survey.summary) \(heard), not what a \(expected.name) sends",
                           remedy: "is it plugged into the right port? Wrong baud rates show as garbled lines")
    }

    private func modemLineCheck(_ port: any SerialPort, buttons: [ModemButtonsConfig.Button]) -> DoctorCheck {
        let lines: ModemLines
        do {
            lines = try port.modemLines()
        } catch {
            return DoctorCheck(label, .fail, "\(path): cannot read the modem lines: \(error)",
                               remedy: "buttons need a port with CTS/DSR/DCD/RI (a USB adapter with modem lines, not a bare UART)")
        }
        var pressed: [String] = []
        var states: [String] = []
        for button in buttons {
            let asserted = lines.contains(button.line.modemLines)
            let line = button.line.rawValue.uppercased()
            if asserted == button.activeHigh {
                pressed.append(button.activeHigh ? "\(line) closed: \(button.config.id) pressed or wiring shorted"
                                                 : "\(line) open: \(button.config.id) pressed or its loop cut")
            } else {
                states.append("\(line) \(asserted ? "closed" : "open") (\(button.config.id) released)")
            }
        }
        guard pressed.isEmpty else {
            return DoctorCheck(label, .warn, "\(path): " + (pressed + states).joined(separator: ", "),
                               remedy: "release the button; if it stays so, check the wiring (Board/wiring.md)")
        }
        return DoctorCheck(label, .ok, "\(path): " + states.joined(separator: ", "))
    }

    private func groupName(_ gid: gid_t) -> String {
        getgrgid(gid).map { String(cString: $0.pointee.gr_name) } ?? String(gid)
    }
}

extension DeviceUnderTest.Expected {
    var isBox: Bool { if case .buttonBox = self { true } else { false } }

    var name: String {
        switch self {
        case .nmea: "GNSS receiver"
        case .buttonBox: "button box"
        case .tagReader: "tag reader"
        case .modemButtons: "button port"
        }
    }
}

/// What doctor heard on a line, sorted into what PatrolLink's devices send.
struct LineSurvey {
    var bytes = 0
    var nmeaSentences = 0
    /// NMEA talker ids in the order first heard: GP, GN, GL…
    var talkers: [String] = []
    var boxFrames = 0
    var hello: (boxID: String, firmware: String)?
    var otherLines = 0
    var lastOtherLine: String?

    init(_ received: [UInt8]) {
        bytes = received.count
        var splitter = LineSplitter(maximumLength: 1024)
        for line in splitter.append(received) where !line.isEmpty {
            if let frame = ButtonBoxFrame(line: line) {
                boxFrames += 1
                if case .hello(let id, let firmware, _, _) = frame.message { hello = (id, firmware) }
            } else if line.count > 6, line.first == UInt8(ascii: "$"), line[1] != UInt8(ascii: "P") {
                nmeaSentences += 1
                let talker = String(decoding: line[1...2], as: UTF8.self)
                if !talkers.contains(talker) { talkers.append(talker) }
            } else {
                otherLines += 1
                lastOtherLine = String(decoding: line.prefix(40), as: UTF8.self)
            }
        }
    }

    var summary: String {
        var parts: [String] = []
        if nmeaSentences > 0 { parts.append("\(nmeaSentences) NMEA sentences (\(talkers.joined(separator: ", ")))") }
        if boxFrames > 0 { parts.append("\(boxFrames) PLBX frames") }
        if otherLines > 0 { parts.append("\(otherLines) other lines, last '\(lastOtherLine ?? "")'") }
        return parts.isEmpty ? "\(bytes) bytes without a line end" : parts.joined(separator: ", ")
    }
}
