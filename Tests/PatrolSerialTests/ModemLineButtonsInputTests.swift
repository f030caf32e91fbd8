import Foundation
import Logging
import PatrolCore
import PatrolSerial
import PatrolTestSupport
import Testing

/// Buttons on modem lines, pressed through a real RFC 2217 server on 127.0.0.1.
@Suite(.serialized) struct ModemLineButtonsInputTests {
    static let panic = ButtonConfig(id: "booth-panic", role: .panic, debounceMilliseconds: 20,
                                    minimumHoldMilliseconds: 50, maximumHoldMilliseconds: 600)

    static func input(_ server: RFC2217TestServer, logger: Logger, ledLine: ModemControlLine? = nil) -> ModemLineButtonsInput {
        ModemLineButtonsInput(portID: "booth-port", path: server.path,
                              buttons: [ModemLineButton(config: panic, line: .cts, activeLevel: true)],
                              supplyLines: [.dtr], ledLine: ledLine, logger: logger,
                              reconnectDelay: .milliseconds(50) ... .milliseconds(200))
    }

    /// Starts the input and waits until it has subscribed to modem-state changes.
    static func started(_ input: ModemLineButtonsInput, _ server: RFC2217TestServer,
                        _ recorder: EventRecorder) async -> Task<Void, Never> {
        let task = recorder.start(input)
        #expect(await eventually(timeout: .seconds(5)) {
            await recorder.lastState == .connected && server.subscribedClients >= 1
        })
        return task
    }

    @Test func aPressIsOnePanicReportedRightAfterItsHoldTime() async throws {
        let server = try RFC2217TestServer()
        defer { server.unplug() }
        let (logger, logs) = CollectingLogHandler.logger()
        let recorder = EventRecorder()
        let task = await Self.started(Self.input(server, logger: logger), server, recorder)
        #expect(server.isAsserted(.dtr), "DTR powers the contact")
        #expect(server.requestedBaudRates == [9600])

        let pressed = ContinuousClock.now
        server.setLine(.cts, asserted: true)
        #expect(await eventually(timeout: .seconds(5)) { await recorder.codes == ["panic"] })
        if let arrival = await recorder.arrivals.first {
            let hold = Duration.milliseconds(Self.panic.minimumHoldMilliseconds)
            print("modem-line press: edge to emit \(arrival - pressed), of which \(arrival - pressed - hold) beyond the \(hold) hold time")
        }
        #expect(await recorder.events.first?.inputID == "booth-panic")
        try await Task.sleep(for: .milliseconds(150))
        server.setLine(.cts, asserted: false)
        try await Task.sleep(for: .milliseconds(200))
        #expect(await recorder.codes == ["panic"], "held and released: still one press")
        #expect(logs.messages(at: .warning).isEmpty, "\(logs.entries)")
        #expect(await task.cancelAndWait(timeout: .seconds(2)))
    }

    @Test func aBouncingContactIsOnePress() async throws {
        let server = try RFC2217TestServer()
        defer { server.unplug() }
        let (logger, _) = CollectingLogHandler.logger()
        let recorder = EventRecorder()
        let task = await Self.started(Self.input(server, logger: logger), server, recorder)

        for level in [true, false, true, false, true] {
            server.setLine(.cts, asserted: level)
            try await Task.sleep(for: .milliseconds(3))
        }
        try await Task.sleep(for: .milliseconds(300))
        for level in [false, true, false] {
            server.setLine(.cts, asserted: level)
            try await Task.sleep(for: .milliseconds(3))
        }
        try await Task.sleep(for: .milliseconds(300))
        #expect(await recorder.codes == ["panic"])
        #expect(await task.cancelAndWait(timeout: .seconds(2)))
    }

    @Test func aHeldButtonIsOneAlarmThenAHeldFaultAndItsRestore() async throws {
        let server = try RFC2217TestServer()
        defer { server.unplug() }
        let (logger, _) = CollectingLogHandler.logger()
        let recorder = EventRecorder()
        let task = await Self.started(Self.input(server, logger: logger), server, recorder)

        server.setLine(.cts, asserted: true)
        #expect(await eventually(timeout: .seconds(5)) { await recorder.codes == ["panic", "fault.button-held"] })
        server.setLine(.cts, asserted: false)
        #expect(await eventually(timeout: .seconds(5)) {
            await recorder.codes == ["panic", "fault.button-held", "fault.button-held.restore"]
        })
        let times = await recorder.events.map(\.at)
        #expect(times[1] - times[0] == Self.panic.maximumHoldMilliseconds - Self.panic.minimumHoldMilliseconds)
        #expect(await task.cancelAndWait(timeout: .seconds(2)))
    }

    @Test func anUnpluggedServerIsOneLogLineAndOnePortFaultAndPressesWorkWhenBack() async throws {
        let server = try RFC2217TestServer()
        defer { server.unplug() }
        let (logger, logs) = CollectingLogHandler.logger()
        let recorder = EventRecorder()
        let task = await Self.started(Self.input(server, logger: logger), server, recorder)

        server.unplug()
        #expect(await eventually(timeout: .seconds(5)) { await recorder.codes == ["fault.port-gone"] })
        #expect(await recorder.lastState?.label == "down")
        try await Task.sleep(for: .milliseconds(600)) // retries against a refusing server, silently
        #expect(logs.messages(at: .warning).count == 1, "\(logs.entries)")
        #expect(logs.messages(at: .warning).first?.contains(server.path) == true)
        #expect(await recorder.codes == ["fault.port-gone"])

        try server.plugIn()
        #expect(await eventually(timeout: .seconds(5)) {
            await recorder.codes == ["fault.port-gone", "fault.port-gone.restore"] && server.subscribedClients >= 2
        })
        server.setLine(.cts, asserted: true)
        #expect(await eventually(timeout: .seconds(5)) { await recorder.codes.last == "panic" })
        #expect(await recorder.states.map(\.label) == ["connecting", "connected", "down", "connected"])
        #expect(logs.messages(at: .notice).count == 1, "one line for the return")
        #expect(await task.cancelAndWait(timeout: .seconds(2)))
    }

    @Test func feedbackPulsesTheLEDLine() async throws {
        let server = try RFC2217TestServer()
        defer { server.unplug() }
        let (logger, _) = CollectingLogHandler.logger()
        let recorder = EventRecorder()
        let input = Self.input(server, logger: logger, ledLine: .rts)
        let task = await Self.started(input, server, recorder)

        await input.indicate(FeedbackCue(led: .singlePulse, buzzer: .off))
        #expect(await eventually(timeout: .seconds(5)) {
            server.controlHistory.filter { $0.line == .rts }.map(\.on).suffix(2) == [true, false]
        })
        #expect(server.isAsserted(.dtr), "the supply stays on")
        #expect(await task.cancelAndWait(timeout: .seconds(2)))
    }
}
