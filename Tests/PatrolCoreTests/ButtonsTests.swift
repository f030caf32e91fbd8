import Testing
import PatrolCore

@Suite struct ButtonsTests {
    static let panic = ButtonConfig(id: "panic-1", role: .panic, debounceMilliseconds: 30, minimumHoldMilliseconds: 100,
                                    maximumHoldMilliseconds: 10_000)

    /// Feeds (level, time) pairs, ticking at every deadline in between, as the caller's timer would.
    static func run(_ button: inout ModemLineButton, _ levels: [(Bool, Int64)], until end: Int64) -> [DetectedEvent] {
        var events: [DetectedEvent] = []
        var pending = levels[...]
        while true {
            let nextEdge = pending.first?.1
            if let deadline = button.nextDeadline, deadline <= min(nextEdge ?? end, end) {
                events += button.tick(at: deadline)
            } else if let (level, at) = pending.first, at <= end {
                pending.removeFirst()
                events += button.lineChanged(level: level, at: at)
            } else {
                return events + button.tick(at: end)
            }
        }
    }

    @Test func bounceIsOnePress() {
        var button = ModemLineButton(config: Self.panic, line: .cts, activeLevel: true)
        let bouncy: [(Bool, Int64)] = [(true, 1000), (false, 1003), (true, 1005), (false, 1009), (true, 1012),
                                       (false, 1400), (true, 1404), (false, 1406), (true, 1410), (false, 1600),
                                       (true, 1603), (false, 1605)]
        let events = Self.run(&button, bouncy, until: 5000)
        #expect(events == [DetectedEvent(.panic(silent: false), inputID: "panic-1", at: 1112)])
    }

    @Test func pressIsReportedFromTheEdgeNotAtRelease() {
        var button = ModemLineButton(config: Self.panic, line: .dsr, activeLevel: true)
        #expect(button.lineChanged(level: true, at: 1000).isEmpty)
        #expect(button.nextDeadline == 1030)
        #expect(button.tick(at: 1030).isEmpty)
        #expect(button.nextDeadline == 1100)
        #expect(button.tick(at: 1100) == [DetectedEvent(.panic(silent: false), inputID: "panic-1", at: 1100)])
    }

    @Test func heldButtonIsOneAlarm() {
        var button = ModemLineButton(config: Self.panic, line: .cts, activeLevel: true)
        let samples = stride(from: Int64(0), through: 5000, by: 50).map { (true, $0) } + [(false, 5050)]
        let events = Self.run(&button, samples, until: 8000)
        #expect(events.map(\.kind) == [.panic(silent: false)])
    }

    @Test func shortBrushIsNoPress() {
        var button = ModemLineButton(config: Self.panic, line: .cts, activeLevel: true)
        #expect(Self.run(&button, [(true, 100), (false, 160)], until: 2000).isEmpty)
    }

    @Test func heldPastLimitIsOneFaultThenOneRestore() {
        var button = ModemLineButton(config: Self.panic, line: .ri, activeLevel: true)
        let events = Self.run(&button, [(true, 0), (false, 25_000)], until: 60_000)
        #expect(events == [
            DetectedEvent(.panic(silent: false), inputID: "panic-1", at: 100),
            DetectedEvent(.fault(.buttonHeld), inputID: "panic-1", at: 10_000),
            DetectedEvent(.faultRestore(.buttonHeld), inputID: "panic-1", at: 25_000),
        ])
    }

    @Test func longPressRestoresWhenConfigured() {
        var config = Self.panic
        config.longPress = LongPress(afterMilliseconds: 3000, action: .restore)
        var button = ModemLineButton(config: config, line: .dcd, activeLevel: true)
        let events = Self.run(&button, [(true, 0), (false, 3500)], until: 20_000)
        #expect(events.map(\.kind) == [.panic(silent: false), .alarmRestore])
        #expect(events.map(\.at) == [100, 3000])
    }

    @Test func releaseBeforeLongPressIsNoRestore() {
        var config = Self.panic
        config.longPress = LongPress(afterMilliseconds: 3000, action: .cancel)
        var button = ModemLineButton(config: config, line: .dcd, activeLevel: true)
        #expect(Self.run(&button, [(true, 0), (false, 2990)], until: 20_000).map(\.kind) == [.panic(silent: false)])
    }

    @Test func activeLowLoopPressesWhenItOpens() {
        var button = ModemLineButton(config: ButtonConfig(id: "duress", role: .duress), line: .cts, activeLevel: false)
        #expect(Self.run(&button, [(true, 0), (false, 1000), (true, 1500)], until: 3000).map(\.kind) == [.duress])
    }

    @Test func lateTickKeepsTheOrderAndTimesOfWhatFellDue() {
        var detector = PressDetector(timing: PressTiming(debounceMilliseconds: 20, minimumHoldMilliseconds: 50,
                                                         longPressMilliseconds: 1000, maximumHoldMilliseconds: 2000))
        #expect(detector.contactChanged(closed: true, at: 0).isEmpty)
        #expect(detector.contactChanged(closed: false, at: 2500).map(\.kind) == [.pressed, .longPressed, .heldBeyondLimit])
        #expect(detector.tick(at: 9000) == [PressSignal(.releasedAfterLimit, at: 2500)])
        #expect(detector.nextDeadline == nil)
    }

    @Test func secondSeparatePressIsASecondEvent() {
        var button = ModemLineButton(config: ButtonConfig(id: "ci", role: .checkIn), line: .cts, activeLevel: true)
        let events = Self.run(&button, [(true, 0), (false, 500), (true, 2000), (false, 2500)], until: 5000)
        #expect(events.map(\.kind) == [.checkIn(.button), .checkIn(.button)])
    }
}
