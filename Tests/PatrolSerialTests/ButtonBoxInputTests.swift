import Foundation
import Logging
import PatrolCore
import PatrolSerial
import PatrolTestSupport
import Testing

/// A button box speaking PLBX through a pseudo-terminal, read with the termios driver.
@Suite(.serialized) struct ButtonBoxInputTests {
    static func frame(_ sequence: UInt16, _ message: ButtonBoxMessage) -> String {
        ButtonBoxFrame(sequence: sequence, message: message).line
    }

    static func input(_ pty: PseudoTerminalPair, logger: Logger, silenceLimit: Int64 = 3500) -> ButtonBoxInput {
        ButtonBoxInput(boxID: "box-1", path: pty.devicePath,
                       buttons: [1: ButtonConfig(id: "booth-panic", role: .panic, minimumHoldMilliseconds: 50)],
                       silenceLimitMilliseconds: silenceLimit, opener: SerialPortOpener(driver: .termios),
                       logger: logger, reconnectDelay: .milliseconds(50) ... .milliseconds(200))
    }

    /// Reads what the agent wrote until it contains `count` frames or `timeout` passes.
    static func frames(from pty: PseudoTerminalPair, count: Int, timeout: Duration = .seconds(3)) -> [ButtonBoxFrame] {
        var text = ""
        let deadline = ContinuousClock.now + timeout
        while text.components(separatedBy: "\r\n").count <= count, ContinuousClock.now < deadline {
            text += String(decoding: pty.read(timeout: 0.2), as: UTF8.self)
        }
        return text.split(separator: "\r\n").compactMap { ButtonBoxFrame(line: Array($0.utf8)) }
    }

    @Test func downUpIsOnePressAndARepeatedFrameIsAckedButNotPressedAgain() async throws {
        let pty = try PseudoTerminalPair()
        let (logger, _) = CollectingLogHandler.logger()
        let recorder = EventRecorder()
        let task = recorder.start(Self.input(pty, logger: logger))
        #expect(await eventually(timeout: .seconds(5)) { await recorder.lastState == .connected })

        try pty.write(Self.frame(0, .hello(boxID: "BX-0042", firmware: "1.3.0", uptimeSeconds: 0)))
        try pty.write(Self.frame(1, .buttonDown(button: 1)))
        try pty.write(Self.frame(1, .buttonDown(button: 1))) // our ack was "lost": the box repeats
        let acks = Self.frames(from: pty, count: 4).map(\.message)
        #expect(acks == [.query, .ack(sequence: 0), .ack(sequence: 1), .ack(sequence: 1)], "opening the port asks for the hello")
        #expect(await eventually(timeout: .seconds(5)) { await recorder.codes == ["panic"] })
        try pty.write(Self.frame(2, .buttonUp(button: 1)))
        #expect(Self.frames(from: pty, count: 1).map(\.message) == [.ack(sequence: 2)])
        try await Task.sleep(for: .milliseconds(200))
        #expect(await recorder.codes == ["panic"])
        #expect(await recorder.events.first?.inputID == "booth-panic")
        #expect(await task.cancelAndWait(timeout: .seconds(2)))
    }

    @Test func aSilentBoxIsOneFaultAndHeartbeatsRestoreIt() async throws {
        let pty = try PseudoTerminalPair()
        let (logger, _) = CollectingLogHandler.logger()
        let recorder = EventRecorder()
        let task = recorder.start(Self.input(pty, logger: logger, silenceLimit: 300))
        #expect(await eventually(timeout: .seconds(5)) { await recorder.lastState == .connected })
        try pty.write(Self.frame(0, .heartbeat(uptimeSeconds: 1, buttonsDown: [])))

        #expect(await eventually(timeout: .seconds(5)) { await recorder.codes == ["fault.box-silent"] })
        try await Task.sleep(for: .milliseconds(700))
        #expect(await recorder.codes == ["fault.box-silent"], "one fault per outage")
        try pty.write(Self.frame(1, .heartbeat(uptimeSeconds: 3, buttonsDown: [])))
        #expect(await eventually(timeout: .seconds(5)) {
            await recorder.codes == ["fault.box-silent", "fault.box-silent.restore"]
        })
        #expect(await task.cancelAndWait(timeout: .seconds(2)))
    }

    @Test func feedbackGoesToTheBoxAsLEDAndBuzzerCommands() async throws {
        let pty = try PseudoTerminalPair()
        let (logger, _) = CollectingLogHandler.logger()
        let recorder = EventRecorder()
        let input = Self.input(pty, logger: logger)
        let task = recorder.start(input)
        #expect(await eventually(timeout: .seconds(5)) { await recorder.lastState == .connected })

        #expect(Self.frames(from: pty, count: 1).map(\.message) == [.query])
        await input.indicate(FeedbackCue(led: .slowBlink, buzzer: .singlePulse))
        #expect(Self.frames(from: pty, count: 2).map(\.message) == [.led(index: 1, pattern: .slowBlink),
                                                                     .buzzer(pattern: .singlePulse)])
        #expect(await task.cancelAndWait(timeout: .seconds(2)))
    }

    /// PLBX 2: `STORED` goes to the box only once the press's events and its finish are on disk.
    /// While the store fails the box hears nothing and keeps repeating the up; a repeat after the
    /// store works again finishes the press.
    @Test func storedIsSentOnlyForAPressWhoseFinishIsOnDisk() async throws {
        let pty = try PseudoTerminalPair()
        let (logger, _) = CollectingLogHandler.logger()
        let recorder = EventRecorder()
        let task = recorder.start(Self.input(pty, logger: logger))
        #expect(await eventually(timeout: .seconds(5)) { await recorder.lastState == .connected })
        #expect(Self.frames(from: pty, count: 1).map(\.message) == [.query])
        try pty.write(Self.frame(0, .hello(boxID: "BX-2", firmware: "2.0.0", uptimeSeconds: 0,
                                           offer: ButtonBoxOffer(highestProtocol: 2, incarnation: 0xABCD))))
        #expect(Self.frames(from: pty, count: 2).map(\.message) == [.ack(sequence: 0), .speakProtocol(version: 2)])

        await recorder.answer(.keptForRetry)
        let up = Self.frame(2, .pressUp(button: 1, press: 9, heldMilliseconds: 400))
        try pty.write(Self.frame(1, .pressDown(button: 1, press: 9, ageMilliseconds: 0)) + up)
        #expect(await eventually(timeout: .seconds(5)) { await recorder.finishedPresses.count == 1 })
        #expect(Self.frames(from: pty, count: 1, timeout: .milliseconds(600)).isEmpty, "no STORED while the store fails")

        await recorder.answer(.stored)
        try pty.write(up) // the box repeats its up
        #expect(Self.frames(from: pty, count: 1).map(\.message) == [.stored(press: 9)])
        #expect(await recorder.codes == ["panic"])
        #expect(await recorder.events.first?.press == PressKey(boxID: "BX-2", incarnation: 0xABCD, press: 9))
        #expect(await task.cancelAndWait(timeout: .seconds(2)))
    }

    @Test func aHungUpPortIsAPortFault() async throws {
        let pty = try PseudoTerminalPair()
        let (logger, logs) = CollectingLogHandler.logger()
        let recorder = EventRecorder()
        let task = recorder.start(Self.input(pty, logger: logger))
        #expect(await eventually(timeout: .seconds(5)) { await recorder.lastState == .connected })
        pty.hangUp()
        #expect(await eventually(timeout: .seconds(5)) { await recorder.codes == ["fault.port-gone"] })
        #expect(logs.messages(at: .warning).count == 1)
        #expect(await task.cancelAndWait(timeout: .seconds(2)))
    }
}
