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

/// What a serial server sends, decoded without a socket: a broken or hostile server must not make
/// the agent buffer without bound or misread the modem lines.
@Suite struct RFC2217DecoderTests {
    static let iac = RFC2217.interpretAsCommand
    static let modemState = [iac, RFC2217.subnegotiationBegin, RFC2217.comPortOption,
                             RFC2217.Command.notifyModemState.rawValue + RFC2217.serverOffset, 0x20,
                             iac, RFC2217.subnegotiationEnd]

    @Test func aSubnegotiationThatNeverEndsIsNotBufferedWithoutBound() {
        var decoder = RFC2217Decoder()
        _ = decoder.decode([Self.iac, RFC2217.subnegotiationBegin])
        for _ in 0..<1000 { _ = decoder.decode([UInt8](repeating: 0x41, count: 4096)) }
        #expect(decoder.subnegotiation.count <= RFC2217Decoder.maximumSubnegotiationBytes)
        // The overlong one ends and is ignored; the lines after it are read again.
        let after = decoder.decode([Self.iac, RFC2217.subnegotiationEnd] + Self.modemState + Array("ok".utf8))
        #expect(after.modemStates == [0x20])
        #expect(after.data == Array("ok".utf8))
    }

    @Test func anOverlongSubnegotiationThatLooksLikeAModemStateIsIgnored() {
        var decoder = RFC2217Decoder()
        var overlong = Array(Self.modemState.dropLast(2))
        overlong += [UInt8](repeating: 0, count: RFC2217Decoder.maximumSubnegotiationBytes) + [Self.iac, RFC2217.subnegotiationEnd]
        #expect(decoder.decode(overlong).modemStates.isEmpty)
    }
}
