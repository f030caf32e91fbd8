import Foundation
@testable import PatrolSerial
import PatrolTestSupport
import Testing

@Suite struct SerialPortTests {
    @Test func termiosPortReadsAndWritesThroughAPseudoTerminal() throws {
        let pty = try PseudoTerminalPair()
        let port = try TermiosSerialPort(path: pty.devicePath, baud: 9600)
        defer { port.close() }

        let started = ContinuousClock.now
        #expect(try port.read(maxCount: 64, timeout: .milliseconds(100)).isEmpty)
        #expect(ContinuousClock.now - started >= .milliseconds(90), "an empty read waits for its timeout")

        try pty.write("$GPGGA,raw\r\n")
        var received: [UInt8] = []
        while received.count < 12, let chunk = try? port.read(maxCount: 64, timeout: .seconds(2)), !chunk.isEmpty {
            received += chunk
        }
        #expect(String(decoding: received, as: UTF8.self) == "$GPGGA,raw\r\n", "raw mode keeps CR LF as sent")

        try port.write(Array("$PMTK,hello\r\n".utf8))
        #expect(String(decoding: pty.read(timeout: 2), as: UTF8.self) == "$PMTK,hello\r\n")
    }

    @Test func unpluggingShowsAsDisconnected() throws {
        let pty = try PseudoTerminalPair()
        let port = try TermiosSerialPort(path: pty.devicePath, baud: 4800)
        defer { port.close() }
        pty.hangUp()
        #expect { try port.read(maxCount: 64, timeout: .seconds(2)) } throws: { error in
            (error as? SerialPortError)?.kind == .disconnected
        }
    }

    @Test func pseudoTerminalsHaveNoModemLines() throws {
        let pty = try PseudoTerminalPair()
        let port = try TermiosSerialPort(path: pty.devicePath, baud: 9600)
        defer { port.close() }
        let error = #expect(throws: SerialPortError.self) { try port.waitForModemLineChange(.inputs) }
        #expect(error?.kind == .notSupported)
        #expect(error?.message.contains(pty.devicePath) == true)
        #expect(throws: SerialPortError.self) { try port.modemLines() }
    }

    @Test func libserialportNamesAMissingDevice() {
        let path = "/dev/ttyUSB-patrollink-missing"
        let error = #expect(throws: SerialPortError.self) { try LibSerialPort(path: path, baud: 9600) }
        #expect(error?.kind == .deviceMissing)
        #expect(error?.message.contains(path) == true)
        #expect(error?.message.contains("plugged in") == true)
    }

    @Test func libserialportRefusesAPseudoTerminalClearly() throws {
        let pty = try PseudoTerminalPair()
        let error = #expect(throws: SerialPortError.self) { try LibSerialPort(path: pty.devicePath, baud: 9600) }
        #expect(error?.kind == .notSupported)
        #expect(error?.message.contains(pty.devicePath) == true)
        #expect(error?.message.contains("termios") == true)
    }

    @Test func termiosRejectsAnOddBaudRateNamingTheDevice() throws {
        let pty = try PseudoTerminalPair()
        let error = #expect(throws: SerialPortError.self) { try TermiosSerialPort(path: pty.devicePath, baud: 12_345) }
        #expect(error?.kind == .notSupported)
        #expect(error?.message.contains("12345") == true)
    }

    @Test func autoPicksLibserialportForKernelSerialNamesOnly() throws {
        let auto = SerialPortOpener(driver: .auto)
        for path in ["/dev/ttyUSB0", "/dev/ttyACM1", "/dev/ttyS0", "/dev/ttyAMA0"] {
            #expect(auto.effectiveDriver(for: path) == .libserialport, "\(path)")
        }
        for path in ["/dev/pts/3", "/tmp/gps-link", "/dev/serial0"] {
            #expect(auto.effectiveDriver(for: path) == .termios, "\(path)")
        }
        #expect(SerialPortOpener(driver: .termios).effectiveDriver(for: "/dev/ttyUSB0") == .termios)
        let pty = try PseudoTerminalPair()
        #expect(try auto.open(path: pty.devicePath, baud: 9600) is TermiosSerialPort)
    }
}

@Suite struct SerialPortErrorTests {
    @Test func systemErrorsSayWhatToDo() {
        let path = "/dev/ttyUSB0"
        let denied = SerialPortError.systemCall("open", path, errno: EACCES)
        #expect(denied.kind == .permissionDenied)
        #expect(denied.message.contains(path) && denied.message.contains("dialout"))
        #expect(SerialPortError.systemCall("open", path, errno: ENXIO).kind == .deviceMissing)
        #expect(SerialPortError.systemCall("read", path, errno: EIO).kind == .disconnected)
        let other = SerialPortError.systemCall("open", path, errno: EBUSY)
        #expect(other.kind == .failed && other.message.contains(path))
    }
}
