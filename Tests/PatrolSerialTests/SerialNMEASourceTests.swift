import Foundation
import PatrolCore
import PatrolSerial
import PatrolTestSupport
import Testing

/// A stand-in for PatrolCore's NMEA decoder: one fix per line `time,lat,lon`; a line `nofix` is
/// what a receiver without a fix sends, intact but with nothing to deliver.
struct LineDecoder: ByteStreamDecoder {
    private var pending: [UInt8] = []
    private(set) var intactSentences = 0

    mutating func consume(_ bytes: UnsafeRawBufferPointer, onFix: (Fix) -> Void) {
        pending += bytes
        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
            let line = String(decoding: pending[..<newline], as: UTF8.self)
            pending.removeSubrange(...newline)
            if line == "nofix" { intactSentences += 1 }
            let fields = line.split(separator: ",")
            guard fields.count == 3, let time = UTCTime(iso8601: fields[0]),
                  let latitude = Double(fields[1]), let longitude = Double(fields[2]) else { continue }
            intactSentences += 1
            onFix(Fix(time: time, mode: .twoD, latitude: latitude, longitude: longitude))
        }
    }
}

@Suite struct SerialNMEASourceTests {
    static func line(second: Int, latitude: Double = 48.1) -> String {
        "2026-11-26T12:00:\(second < 10 ? "0" : "")\(second).000Z,\(latitude),11.5\n"
    }

    /// Points `link` at `target`, as udev re-points /dev/serial/by-id/… when a receiver is re-plugged.
    static func point(_ link: String, at target: String) throws {
        unlink(link)
        guard symlink(target, link) == 0 else { throw SystemCallError("symlink \(link)") }
    }

    @Test func deliversOneFixPerEpochAndReopensAfterUnplug() async throws {
        let directory = try TemporaryDirectory()
        let link = directory.path + "/gps-by-id"
        let firstReceiver = try PseudoTerminalPair()
        try Self.point(link, at: firstReceiver.devicePath)
        let (logger, logs) = CollectingLogHandler.logger()
        let recorder = FixRecorder()
        let source = SerialNMEASource(path: link, baud: 9600, opener: SerialPortOpener(driver: .termios),
                                      logger: logger, reconnectDelay: .milliseconds(50) ... .milliseconds(200)) {
            LineDecoder()
        }
        #expect(source.name == "serial \(link)")
        let task = recorder.start(source)

        try firstReceiver.write(Self.line(second: 1) + Self.line(second: 2) + Self.line(second: 2, latitude: 9)
                                + "garbage\n" + Self.line(second: 3))
        #expect(await eventually(timeout: .seconds(5)) { await recorder.fixes.count == 3 })
        #expect(await recorder.lastState == .connected)
        #expect(await recorder.fixes.map(\.latitude) == [48.1, 48.1, 48.1], "the repeated epoch is skipped")

        firstReceiver.hangUp()
        // udev removes the by-id link with the device; a stale link could reach another test's
        // pseudo-terminal once the kernel reuses the number.
        unlink(link)
        #expect(await eventually(timeout: .seconds(5)) { await recorder.lastState?.label == "down" })
        try await Task.sleep(for: .seconds(1)) // retries against a vanished device, silently
        #expect(logs.messages(at: .warning).count == 1, "\(logs.entries)")
        #expect(logs.messages(at: .warning).first?.contains(link) == true)

        let secondReceiver = try PseudoTerminalPair()
        try Self.point(link, at: secondReceiver.devicePath)
        try secondReceiver.write(Self.line(second: 4))
        #expect(await eventually(timeout: .seconds(5)) { await recorder.fixes.count == 4 })
        #expect(await recorder.lastState == .connected)
        #expect(logs.messages(at: .notice).count == 1)
        #expect(logs.messages(at: .warning).count == 1)
        #expect(await recorder.states.map(\.label) == ["connecting", "connected", "down", "connected"])

        let started = ContinuousClock.now
        #expect(await task.cancelAndWait(timeout: .seconds(2)))
        #expect(ContinuousClock.now - started < .seconds(1))
    }

    /// A receiver that is powered off behind a USB adapter, or set to another baud rate, leaves the
    /// port open; only its silence, or its noise, tells. A receiver without a fix is not silent.
    @Test func anOpenPortWithoutIntactSentencesIsDownOnceAndBackWhenTheReceiverTalks() async throws {
        let receiver = try PseudoTerminalPair()
        let (logger, logs) = CollectingLogHandler.logger()
        let recorder = FixRecorder()
        let source = SerialNMEASource(path: receiver.devicePath, baud: 4800, opener: SerialPortOpener(driver: .termios),
                                      logger: logger, receiverSilenceLimit: .seconds(1)) {
            LineDecoder()
        }
        let task = recorder.start(source)
        try receiver.write("nofix\n")
        #expect(await eventually(timeout: .seconds(5)) { await recorder.lastState == .connected })

        // Noise for twice the limit: what a receiver sends at another baud rate.
        for _ in 0..<8 {
            try receiver.write("\u{7}x\u{1F}garbage\n")
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect(await recorder.lastState?.label == "down")
        #expect(await recorder.states.map(\.label) == ["connecting", "connected", "down"])
        #expect(logs.messages(at: .warning) == ["serial \(receiver.devicePath) lost: open, but no NMEA from the receiver "
            + "for 1.0 seconds (is the receiver powered, and the baud rate (4800) its own?); waiting for it"])

        try receiver.write("nofix\n")
        #expect(await eventually(timeout: .seconds(5)) { await recorder.lastState == .connected })
        #expect(logs.messages(at: .notice).count == 1)
        #expect(logs.messages(at: .warning).count == 1)
        #expect(await recorder.fixes.isEmpty)
        #expect(await task.cancelAndWait(timeout: .seconds(2)))
    }
}
