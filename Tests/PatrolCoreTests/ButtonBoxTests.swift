import Testing
import PatrolCore

@Suite struct ButtonBoxTests {
    static let buttons = [
        1: ButtonConfig(id: "booth-panic", role: .panic, debounceMilliseconds: 0, minimumHoldMilliseconds: 50,
                        maximumHoldMilliseconds: 20_000),
        2: ButtonConfig(id: "booth-duress", role: .duress, debounceMilliseconds: 0, minimumHoldMilliseconds: 50),
    ]

    static func bytes(_ sequence: UInt16, _ message: ButtonBoxMessage) -> [UInt8] {
        Array(ButtonBoxFrame(sequence: sequence, message: message).line.utf8)
    }

    static func session() -> ButtonBoxSession {
        ButtonBoxSession(inputID: "box", buttons: buttons, silenceLimitMilliseconds: 3500, startedAt: 0)
    }

    @Test func framesMatchTheDocumentedWireFormat() {
        #expect(ButtonBoxFrame(sequence: 7, message: .buttonDown(button: 1)).line == "$PLBX,7,DOWN,1*3E\r\n")
        #expect(ButtonBoxFrame(sequence: 8, message: .heartbeat(uptimeSeconds: 12, buttonsDown: [1, 3])).line
                == "$PLBX,8,HB,12,5*02\r\n")
        #expect(ButtonBoxFrame(line: Array("$PLBX,7,DOWN,1*3E".utf8))
                == ButtonBoxFrame(sequence: 7, message: .buttonDown(button: 1)))
    }

    @Test func everyMessageRoundTrips() {
        let messages: [ButtonBoxMessage] = [
            .hello(boxID: "BX-0042", firmware: "1.3.0", uptimeSeconds: 0),
            .heartbeat(uptimeSeconds: 86_400, buttonsDown: [2, 16]), .heartbeat(uptimeSeconds: 1, buttonsDown: []),
            .buttonDown(button: 16), .buttonUp(button: 1), .ack(sequence: 65_535),
            .led(index: 2, pattern: .slowBlink), .buzzer(pattern: .doublePulse), .query,
        ]
        for (index, message) in messages.enumerated() {
            let frame = ButtonBoxFrame(sequence: UInt16(index * 1000), message: message)
            #expect(ButtonBoxFrame(line: frame.line.utf8.dropLast(2)) == frame, "\(frame.line)")
        }
    }

    @Test func corruptFramesAreRejected() {
        for line in ["$PLBX,7,DOWN,1*34", "$PLBX,7,DOWN,1", "$PLBX,7,DOWN,17*09", "$GPGGA,7,DOWN,1*6E",
                     "$PLBX,7,FIRE,1*34", "$PLBX,99999,DOWN,1*30", "$PLBX,7,DOWN,1*+3", "", "*"] {
            #expect(ButtonBoxFrame(line: Array(line.utf8)) == nil, "\(line)")
        }
    }

    @Test func repeatedDownFrameIsOnePressAndIsAckedEachTime() {
        var box = Self.session()
        let down = Self.bytes(5, .buttonDown(button: 1))
        let first = box.receive(down, at: 1000)
        #expect(first.replies.map(\.message) == [.ack(sequence: 5)])
        let repeated = box.receive(down + down, at: 1250)
        #expect(repeated.replies.map(\.message) == [.ack(sequence: 5), .ack(sequence: 5)])
        #expect((first.events + repeated.events).map(\.kind) == [.panic(silent: false)])
        #expect(box.counters.duplicates == 2)
    }

    /// The box repeats its unacknowledged frames, so an older frame can arrive after a newer one:
    /// DOWN #5, UP #6, then DOWN #5 again because the ack of #5 was lost. That is one press, not a
    /// second panic, and not a reboot.
    @Test func anOlderRepeatedFrameAfterANewerOneIsNotASecondPress() {
        var box = Self.session()
        var events = box.receive(Self.bytes(5, .buttonDown(button: 1)), at: 1000).events
        events += box.tick(at: 1100)
        events += box.receive(Self.bytes(6, .buttonUp(button: 1)), at: 1200).events
        let late = box.receive(Self.bytes(5, .buttonDown(button: 1)), at: 1300)
        events += late.events + box.tick(at: 1500)
        #expect(late.replies.map(\.message) == [.ack(sequence: 5)], "the repeat is acked again so the box stops sending it")
        #expect(events.map(\.kind) == [.panic(silent: false)])
        #expect(box.counters.duplicates == 1)
        #expect(box.counters.reboots == 0)
        // The end of the repeat window: 63 behind is still a repeat; the box's next number is new.
        events = box.receive(Self.bytes(6 &- 63, .buttonDown(button: 1)), at: 1600).events + box.tick(at: 1700)
        #expect(events.isEmpty)
        #expect(box.counters.reboots == 0)
    }

    @Test func framesSplitAcrossReadsAndNoiseAreHandled() {
        var box = Self.session()
        let frame = Self.bytes(1, .buttonDown(button: 2))
        #expect(box.receive(Array("\u{0}\u{FF}garbage\r\n".utf8) + frame[..<6], at: 0).events.isEmpty)
        let events = box.receive(frame[6...], at: 10).events + box.tick(at: 60)
        #expect(events == [DetectedEvent(.duress, inputID: "booth-duress", at: 60)])
        #expect(box.counters.corrupt == 1)
        #expect(box.receive([UInt8](repeating: 0x41, count: 500) + [0x0A], at: 70).events.isEmpty)
        #expect(box.counters.corrupt == 2)
    }

    @Test func rebootRestartsNumberingSoNewPressesCount() {
        var box = Self.session()
        var kinds: [EventKind] = []
        kinds += box.receive(Self.bytes(0, .hello(boxID: "BX-1", firmware: "1.0", uptimeSeconds: 0)), at: 0).events.map(\.kind)
        kinds += box.receive(Self.bytes(1, .buttonDown(button: 1)) + Self.bytes(2, .buttonUp(button: 1)), at: 100).events.map(\.kind)
        kinds += box.receive(Self.bytes(3, .heartbeat(uptimeSeconds: 1, buttonsDown: [1])), at: 1000).events.map(\.kind)
        // Rebooted: numbering starts at 0 again, below the last number seen.
        kinds += box.receive(Self.bytes(0, .hello(boxID: "BX-1", firmware: "1.0", uptimeSeconds: 0)), at: 1100).events.map(\.kind)
        kinds += box.receive(Self.bytes(1, .buttonUp(button: 1)) + Self.bytes(2, .buttonDown(button: 1)), at: 1200).events.map(\.kind)
        kinds += box.tick(at: 1300).map(\.kind)
        #expect(kinds == [.panic(silent: false), .panic(silent: false)])
        #expect(box.counters.reboots == 1)
        #expect(box.counters.duplicates == 0)
        #expect(box.identity == ButtonBoxIdentity(boxID: "BX-1", firmware: "1.0"))
    }

    @Test func rebootWithoutHelloIsSeenFromTheNumbers() {
        var box = Self.session()
        for sequence in UInt16(0)..<200 {
            _ = box.receive(Self.bytes(sequence, .heartbeat(uptimeSeconds: Int64(sequence), buttonsDown: [])),
                            at: Int64(sequence) * 1000)
        }
        let events = box.receive(Self.bytes(1, .buttonDown(button: 1)), at: 200_000).events + box.tick(at: 200_100)
        #expect(events.map(\.kind) == [.panic(silent: false)])
        #expect(box.counters.reboots == 1)
    }

    @Test func silenceIsOneFaultThenOneRestore() {
        var box = Self.session()
        var events = box.receive(Self.bytes(0, .hello(boxID: "BX-7", firmware: "2.1", uptimeSeconds: 0)), at: 0).events
        events += box.receive(Self.bytes(1, .heartbeat(uptimeSeconds: 1, buttonsDown: [])), at: 1000).events
        #expect(box.nextDeadline == 4500)
        for time in stride(from: Int64(4000), through: 20_000, by: 500) { events += box.tick(at: time) }
        events += box.receive(Self.bytes(2, .heartbeat(uptimeSeconds: 21, buttonsDown: [])), at: 21_000).events
        events += box.receive(Self.bytes(3, .heartbeat(uptimeSeconds: 22, buttonsDown: [])), at: 22_000).events
        #expect(events == [
            DetectedEvent(.fault(.boxSilent), inputID: "BX-7", at: 4500),
            DetectedEvent(.faultRestore(.boxSilent), inputID: "BX-7", at: 21_000),
        ])
    }

    @Test func heartbeatRecoversALostDownFrame() {
        var box = Self.session()
        let events = box.receive(Self.bytes(4, .heartbeat(uptimeSeconds: 9, buttonsDown: [1])), at: 500).events
            + box.tick(at: 550)
        #expect(events == [DetectedEvent(.panic(silent: false), inputID: "booth-panic", at: 550)])
    }

    @Test func heldBoxButtonIsOneAlarmThenOneStuckFaultAndRestore() {
        var box = Self.session()
        var events = box.receive(Self.bytes(1, .buttonDown(button: 1)), at: 0).events
        for second in Int64(1)...30 {
            events += box.tick(at: second * 1000 - 1)
            events += box.receive(Self.bytes(UInt16(second + 1), .heartbeat(uptimeSeconds: second, buttonsDown: [1])),
                                  at: second * 1000).events
        }
        events += box.receive(Self.bytes(40, .buttonUp(button: 1)), at: 30_500).events
        #expect(events.map(\.kind) == [.panic(silent: false), .fault(.buttonHeld), .faultRestore(.buttonHeld)])
    }

    @Test func commandsAreNumberedInOwnSequence() {
        var box = Self.session()
        #expect(box.command(.led(index: 1, pattern: .steady)).line == "$PLBX,0,LED,1,ON*4B\r\n")
        #expect(box.command(.buzzer(pattern: .singlePulse)).sequence == 1)
    }
}
