import Testing
import PatrolCore

/// PLBX 2 (Board/button-box-protocol.md): numbered presses with the box's own times, `STORED` only
/// after the caller committed the press's finish.
@Suite struct ButtonBoxProtocol2Tests {
    static let incarnation: UInt32 = 0x1A2B_3C4D
    static let hello = ButtonBoxMessage.hello(boxID: "BX-9", firmware: "2.0.0", uptimeSeconds: 3,
                                              offer: ButtonBoxOffer(highestProtocol: 2, incarnation: incarnation))

    static func key(_ press: UInt32) -> PressKey { PressKey(boxID: "BX-9", incarnation: incarnation, press: press) }

    /// A session that has negotiated PLBX 2 at time 0; silence is left to the test that wants it.
    static func session(silenceLimit: Int64 = 600_000) -> ButtonBoxSession {
        var box = ButtonBoxSession(inputID: "box", buttons: ButtonBoxTests.buttons, silenceLimitMilliseconds: silenceLimit,
                                   startedAt: 0)
        _ = box.receive(ButtonBoxTests.bytes(0, hello), at: 0)
        return box
    }

    @Test func protocol2FramesMatchTheWireFormatAndRoundTrip() {
        #expect(ButtonBoxFrame(sequence: 0, message: Self.hello).line.hasPrefix("$PLBX,0,HELLO,BX-9,2.0.0,3,2,1A2B3C4D*"))
        #expect(ButtonBoxFrame(sequence: 9, message: .pressDown(button: 1, press: 42, ageMilliseconds: 0)).line
                .hasPrefix("$PLBX,9,DOWN,1,42,0*"))
        #expect(ButtonBoxFrame(sequence: 9, message: .pressUp(button: 3, press: 42, heldMilliseconds: 180, afterReset: true)).line
                .hasPrefix("$PLBX,9,UP,3,42,180,R*"))
        #expect(ButtonBoxFrame(sequence: 2, message: .stored(press: 42)).line.hasPrefix("$PLBX,2,STORED,42*"))
        let messages: [ButtonBoxMessage] = [
            Self.hello, .heartbeat(uptimeSeconds: 5, buttonsDown: [2], lastPress: 4_294_967_295),
            .heartbeat(uptimeSeconds: 5, buttonsDown: [], lastPress: 0),
            .pressDown(button: 16, press: 1, ageMilliseconds: 4_294_967_295),
            .pressUp(button: 1, press: 7, heldMilliseconds: 250), .pressUp(button: 1, press: 7, heldMilliseconds: 0, afterReset: true),
            .speakProtocol(version: 2), .stored(press: 4_294_967_295),
        ]
        for message in messages {
            let frame = ButtonBoxFrame(sequence: 300, message: message)
            #expect(ButtonBoxFrame(line: frame.line.utf8.dropLast(2)) == frame, "\(frame.line)")
        }
    }

    @Test func malformedProtocol2FramesAreRejected() {
        let bodies = [
            "PLBX,1,DOWN,1,0,5",              // press 0 does not exist
            "PLBX,1,DOWN,1,+5,5",             // signs are not digits
            "PLBX,1,DOWN,1,5,-1",
            "PLBX,1,DOWN,1,5,4294967296",     // longer than the box's 32-bit ms counter
            "PLBX,1,DOWN,1,4294967296,5",
            "PLBX,1,UP,1,5,100,X",            // only R may follow the hold
            "PLBX,1,UP,1,5,100,R,R",
            "PLBX,1,HELLO,BX,1.0,0,2,00000000",  // no incarnation yet
            "PLBX,1,HELLO,BX,1.0,0,2,1A2B3C4",
            "PLBX,1,HELLO,BX,1.0,0,2,1A2B3C4G",
            "PLBX,1,HELLO,BX,1.0,0,0,1A2B3C4D",
            "PLBX,1,HB,5,0,-1",
            "PLBX,1,STORED,0",
            "PLBX,1,PROTO,",
        ]
        for body in bodies {
            let line = "$" + body + "*" + Self.hex(body.utf8.reduce(0, ^))
            #expect(ButtonBoxFrame(line: Array(line.utf8)) == nil, "\(line)")
        }
    }

    static func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16, uppercase: true)
        return digits.count == 1 ? "0" + digits : digits
    }

    @Test func aBoxOfferingProtocol2IsAckedAndToldToSpeakIt() {
        var box = ButtonBoxTests.session()
        let reaction = box.receive(ButtonBoxTests.bytes(0, Self.hello), at: 0)
        #expect(reaction.replies.map(\.message) == [.ack(sequence: 0), .speakProtocol(version: 2)])
        #expect(box.protocolVersion == 2)
        #expect(box.identity == ButtonBoxIdentity(boxID: "BX-9", firmware: "2.0.0", incarnation: Self.incarnation))
        // A protocol 1 hello (a box set to protocol 1, or one that fell back) is only acked.
        let old = box.receive(ButtonBoxTests.bytes(1, .hello(boxID: "BX-9", firmware: "1.3", uptimeSeconds: 4)), at: 10)
        #expect(old.replies.map(\.message) == [.ack(sequence: 1)])
        #expect(box.protocolVersion == 1)
    }

    /// The known protocol 1 loss: DOWN and UP read in one chunk made a 0 ms hold, below the minimum,
    /// so the press raised nothing. PLBX 2 carries the box's own hold time.
    @Test func downAndUpReadTogetherAreTheHoldTheGuardMade() {
        var old = ButtonBoxTests.session()
        let together = ButtonBoxTests.bytes(1, .buttonDown(button: 1)) + ButtonBoxTests.bytes(2, .buttonUp(button: 1))
        #expect((old.receive(together, at: 1000).events + old.tick(at: 2000)).isEmpty, "protocol 1's documented limit")

        var box = Self.session()
        let reaction = box.receive(ButtonBoxTests.bytes(1, .pressDown(button: 1, press: 5, ageMilliseconds: 0))
                                   + ButtonBoxTests.bytes(2, .pressUp(button: 1, press: 5, heldMilliseconds: 200)), at: 1000)
        #expect(reaction.events == [DetectedEvent(.panic(silent: false), inputID: "booth-panic", at: 1050, press: Self.key(5))])
        #expect(reaction.finishedPresses == [Self.key(5)])
        #expect(!reaction.replies.contains { $0.message == .stored(press: 5) }, "STORED only after the caller's commit")
        #expect(box.tick(at: 5000).isEmpty)
    }

    @Test func storedIsSentAfterTheFinishIsCommittedAndAgainForEveryRepeat() {
        var box = Self.session()
        _ = box.receive(ButtonBoxTests.bytes(1, .pressDown(button: 1, press: 5, ageMilliseconds: 0)), at: 1000)
        let up = ButtonBoxTests.bytes(2, .pressUp(button: 1, press: 5, heldMilliseconds: 300))
        #expect(box.receive(up, at: 1300).finishedPresses == [Self.key(5)])
        // The commit failed: the box repeats the up; the finish is asked for again, no new event.
        let retried = box.receive(up, at: 1550)
        #expect(retried.finishedPresses == [Self.key(5)])
        #expect(retried.events.isEmpty)
        #expect(box.finishCommitted(Self.key(5))?.message == .stored(press: 5))
        // STORED was lost: every repeat of the finished press is answered, and produces nothing.
        for (index, frame) in [up, ButtonBoxTests.bytes(1, .pressDown(button: 1, press: 5, ageMilliseconds: 900))].enumerated() {
            let repeated = box.receive(frame, at: 2000 + Int64(index) * 1000)
            #expect(repeated.replies.map(\.message) == [.stored(press: 5)])
            #expect(repeated.events.isEmpty && repeated.finishedPresses.isEmpty)
        }
        // A box that became another incarnation is not told about the old one's press.
        _ = box.receive(ButtonBoxTests.bytes(0, .hello(boxID: "BX-9", firmware: "2.0.0", uptimeSeconds: 0,
                                                       offer: ButtonBoxOffer(highestProtocol: 2, incarnation: 7))), at: 9000)
        #expect(box.finishCommitted(Self.key(6)) == nil)
    }

    /// An agent restarted while the guard holds the button: its new session first sees a repeated
    /// DOWN whose age is past the minimum hold. The press counts, dated from the box's close, and
    /// carries the same key as before the restart, so the store keeps one alarm.
    @Test func aRestartedSessionDatesAHeldPressFromTheBoxsAge() {
        var box = Self.session()
        let reaction = box.receive(ButtonBoxTests.bytes(40, .pressDown(button: 1, press: 8, ageMilliseconds: 3000)), at: 10_000)
        #expect(reaction.events == [DetectedEvent(.panic(silent: false), inputID: "booth-panic", at: 7050, press: Self.key(8))])
        // Held on past the stuck limit (20 s from the close), then released; heartbeats meanwhile.
        var events: [DetectedEvent] = []
        for second in Int64(11)...28 {
            events += box.receive(ButtonBoxTests.bytes(UInt16(second + 30), .heartbeat(uptimeSeconds: second, buttonsDown: [1],
                                                                                      lastPress: 8)), at: second * 1000).events
        }
        events += box.receive(ButtonBoxTests.bytes(60, .pressUp(button: 1, press: 8, heldMilliseconds: 21_000)), at: 28_100).events
        #expect(events == [DetectedEvent(.fault(.buttonHeld), inputID: "booth-panic", at: 27_000, press: Self.key(8)),
                           DetectedEvent(.faultRestore(.buttonHeld), inputID: "booth-panic", at: 28_000, press: Self.key(8))])
    }

    @Test func aPressFirstSeenByItsUpClosedItsHoldAgo() {
        var box = Self.session()
        let up = box.receive(ButtonBoxTests.bytes(3, .pressUp(button: 2, press: 11, heldMilliseconds: 400)), at: 5000)
        #expect(up.events == [DetectedEvent(.duress, inputID: "booth-duress", at: 4650, press: Self.key(11))])
        #expect(up.finishedPresses == [Self.key(11)])
        // Too short: nothing to raise, but finished, so the box stops repeating it.
        let brush = box.receive(ButtonBoxTests.bytes(4, .pressUp(button: 2, press: 12, heldMilliseconds: 20)), at: 6000)
        #expect(brush.events.isEmpty)
        #expect(brush.finishedPresses == [Self.key(12)])
    }

    /// The box was reset while the button was held: its persisted hold is only a lower bound, and
    /// the guard meant the press.
    @Test func aPressInterruptedByABoxResetCountsAtLeastAsAPress() {
        var box = Self.session()
        let up = box.receive(ButtonBoxTests.bytes(0, .pressUp(button: 1, press: 3, heldMilliseconds: 10, afterReset: true)), at: 5000)
        #expect(up.events.map(\.kind) == [.panic(silent: false)])
        #expect(up.finishedPresses == [Self.key(3)])
    }

    @Test func numberedFramesBeforeTheHelloAreDroppedAndTheHelloAskedFor() {
        var box = ButtonBoxTests.session()
        let down = ButtonBoxTests.bytes(7, .pressDown(button: 1, press: 2, ageMilliseconds: 500))
        let first = box.receive(down, at: 100)
        #expect(first.events.isEmpty)
        #expect(first.replies.map(\.message) == [.query])
        #expect(box.receive(down, at: 600).replies.isEmpty, "asked at most once a second")
        #expect(box.receive(down, at: 1100).replies.map(\.message) == [.query])
        #expect(box.counters.beforeHello == 3)
        _ = box.receive(ButtonBoxTests.bytes(0, Self.hello), at: 1200)
        // The box repeats the held press every second: now it counts, from the box's close.
        let counted = box.receive(ButtonBoxTests.bytes(8, .pressDown(button: 1, press: 2, ageMilliseconds: 1600)), at: 1300)
        #expect(counted.events == [DetectedEvent(.panic(silent: false), inputID: "booth-panic", at: -250, press: Self.key(2))])
    }

    /// A frame number that looks like a repeat (a box rebooted within 64 frames, or the repeat of an
    /// up whose STORED was lost) must still be answered: numbered frames act by press number.
    @Test func aNumberedFrameIsActedOnEvenWhenItsFrameNumberRepeats() {
        var box = Self.session()
        _ = box.receive(ButtonBoxTests.bytes(5, .heartbeat(uptimeSeconds: 4, buttonsDown: [], lastPress: 0)), at: 100)
        let up = box.receive(ButtonBoxTests.bytes(5, .pressUp(button: 1, press: 1, heldMilliseconds: 150)), at: 200)
        #expect(up.events.map(\.kind) == [.panic(silent: false)])
        #expect(up.finishedPresses == [Self.key(1)])
    }

    /// While the box is silent its held press is not timed on (no long press that never was) and
    /// nothing is released; when the box is back its repeat brings the press again, with the same
    /// key, for the store to recognise.
    @Test func aHeldPressSurvivesASilentBoxByItsRepeats() {
        var box = Self.session(silenceLimit: 3500)
        var events = box.receive(ButtonBoxTests.bytes(1, .pressDown(button: 1, press: 4, ageMilliseconds: 0)), at: 1000).events
        events += box.tick(at: 1100)
        events += box.tick(at: 8000)
        #expect(events.map(\.kind) == [.panic(silent: false), .fault(.boxSilent)])
        let back = box.receive(ButtonBoxTests.bytes(9, .pressUp(button: 1, press: 4, heldMilliseconds: 6000)), at: 9000)
        #expect(back.events.map(\.kind) == [.faultRestore(.boxSilent), .panic(silent: false)])
        #expect(back.events.last?.press == Self.key(4))
        #expect(back.finishedPresses == [Self.key(4)])
    }

    @Test func pressesTheBoxNumberedButNeverSentAreReportedOnce() {
        var box = Self.session(silenceLimit: 3500)
        func heartbeat(_ lastPress: UInt32, at time: Int64) -> PressGap? {
            box.receive(ButtonBoxTests.bytes(UInt16(time / 100), .heartbeat(uptimeSeconds: time / 1000, buttonsDown: [],
                                                                              lastPress: lastPress)), at: time).pressGap
        }
        #expect(heartbeat(10, at: 1000) == nil, "presses before the agent's first heartbeat are an earlier run's")
        _ = box.receive(ButtonBoxTests.bytes(11, .pressUp(button: 1, press: 11, heldMilliseconds: 200)), at: 1500)
        #expect(heartbeat(11, at: 2000) == nil)
        // The box's queue overflowed: 12…19 were dropped, 20 is the newest.
        _ = box.receive(ButtonBoxTests.bytes(12, .pressUp(button: 1, press: 20, heldMilliseconds: 200)), at: 2500)
        #expect(heartbeat(20, at: 3000) == nil, "the box may still be resending its queue")
        #expect(heartbeat(20, at: 6000) == nil)
        #expect(heartbeat(20, at: 8000) == PressGap(presses: 12...20, missing: 8))
        #expect(heartbeat(20, at: 9000) == nil, "logged once")
    }
}
