import Foundation
import PatrolCore
@testable import PatrolSerial
import PatrolTestSupport
import Testing

/// The RFC 2217 client against the test server on 127.0.0.1.
@Suite struct NetworkSerialPortTests {
    @Test func carriesDataBothWaysAndSetsTheControlLines() throws {
        let server = try RFC2217TestServer()
        defer { server.unplug() }
        let port = try SerialPortOpener(driver: .libserialport).open(path: server.path, baud: 19_200)
        defer { port.close() }
        #expect(port is NetworkSerialPort, "rfc2217:// paths need no driver setting")

        server.setLine(.dsr, asserted: true)
        #expect(waitUntil(timeout: 5) { (try? port.modemLines())?.contains(.dsr) == true ? true : nil } == true)
        server.send("0400A1B2C3\r\n")
        var received: [UInt8] = []
        while received.count < 12, let chunk = try? port.read(maxCount: 64, timeout: .seconds(2)), !chunk.isEmpty {
            received += chunk
        }
        #expect(String(decoding: received, as: UTF8.self) == "0400A1B2C3\r\n")

        try port.write(Array("$PLBX,0,QUERY*5C\r\n".utf8))
        try port.setDTR(true)
        try port.setRTS(true)
        try port.setRTS(false)
        #expect(waitUntil(timeout: 5) { server.controlHistory.count == 3 ? true : nil } == true)
        #expect(server.controlHistory.map { "\($0.line)=\($0.on)" } == ["dtr=true", "rts=true", "rts=false"])
        #expect(server.receivedText == "$PLBX,0,QUERY*5C\r\n")
        #expect(server.requestedBaudRates == [19_200])
    }

    @Test func closingEndsAWaitOnAnotherThread() async throws {
        let server = try RFC2217TestServer()
        defer { server.unplug() }
        let port = try NetworkSerialPort(path: server.path, baud: 9600)
        _ = try port.modemLines()
        let waiter = DispatchQueue(label: "wait")
        let ended = await withCheckedContinuation { continuation in
            waiter.async {
                continuation.resume(returning: Result { () throws(SerialPortError) in try port.waitForModemLineChange(.inputs) })
            }
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(100)) { port.close() }
        }
        #expect(throws: SerialPortError.self) { try ended.get() }
    }

    @Test func anAbsentServerIsAMissingDeviceNamingTheAddress() throws {
        let path = "rfc2217://127.0.0.1:\(try FreePort.allocate())"
        let error = #expect(throws: SerialPortError.self) { try NetworkSerialPort(path: path, baud: 9600) }
        #expect(error?.kind == .deviceMissing)
        #expect(error?.message.contains(path) == true)
        let malformed = #expect(throws: SerialPortError.self) { try NetworkSerialPort(path: "rfc2217://nohost", baud: 9600) }
        #expect(malformed?.kind == .notSupported)
    }
}
