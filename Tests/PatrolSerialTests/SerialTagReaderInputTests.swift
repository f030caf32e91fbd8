import Foundation
import PatrolCore
import PatrolSerial
import PatrolTestSupport
import Testing

/// A checkpoint tag reader on a pseudo-terminal, reached through a symlink as udev's by-id names are.
@Suite(.serialized) struct SerialTagReaderInputTests {
    @Test func readsAreCheckInsRepeatsWithinTheWindowAreOneAndAReseatedReaderWorksAgain() async throws {
        let directory = try TemporaryDirectory()
        let link = directory.path + "/reader-by-id"
        let firstReader = try PseudoTerminalPair()
        try SerialNMEASourceTests.point(link, at: firstReader.devicePath)
        let (logger, logs) = CollectingLogHandler.logger()
        let recorder = EventRecorder()
        let input = SerialTagReaderInput(readerID: "gate-reader", path: link, format: .em4100Hex,
                                         repeatWindowMilliseconds: 5000, opener: SerialPortOpener(driver: .termios),
                                         logger: logger, reconnectDelay: .milliseconds(50) ... .milliseconds(200))
        let task = recorder.start(input)
        #expect(await eventually(timeout: .seconds(5)) { await recorder.lastState == .connected })

        try firstReader.write("\u{02}0400A1B2C3\r\n")
        #expect(await eventually(timeout: .seconds(5)) { await recorder.codes == ["check-in.tag"] })
        try firstReader.write("0400a1b2c3\r\n")
        try firstReader.write("noise\r\n1A00F00D11\r\n")
        #expect(await eventually(timeout: .seconds(5)) { await recorder.events.count == 2 })
        #expect(await recorder.events.map(\.kind.detail) == ["0400A1B2C3", "1A00F00D11"])
        #expect(await recorder.events.allSatisfy { $0.inputID == "gate-reader" })

        firstReader.hangUp()
        unlink(link) // as udev does; see SerialNMEASourceTests
        #expect(await eventually(timeout: .seconds(5)) { await recorder.codes.last == "fault.port-gone" })
        let secondReader = try PseudoTerminalPair()
        try SerialNMEASourceTests.point(link, at: secondReader.devicePath)
        #expect(await eventually(timeout: .seconds(5)) { await recorder.codes.last == "fault.port-gone.restore" })
        try secondReader.write("0400A1B2C3\r\n")
        try secondReader.write("2B00C0FFEE\r\n")
        #expect(await eventually(timeout: .seconds(5)) { await recorder.events.last?.kind.detail == "2B00C0FFEE" })
        #expect(await recorder.codes == ["check-in.tag", "check-in.tag", "fault.port-gone", "fault.port-gone.restore",
                                         "check-in.tag"], "the first tag is still within its window")
        #expect(logs.messages(at: .warning).count == 1)
        #expect(await task.cancelAndWait(timeout: .seconds(2)))
    }
}
