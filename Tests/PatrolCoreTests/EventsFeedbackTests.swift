import Testing
import PatrolCore

@Suite struct EventsFeedbackTests {
    @Test(arguments: [EventKind.duress, .panic(silent: true)])
    func silentAlarmsShowNothingInAnyState(kind: EventKind) {
        for state in FeedbackState.allCases {
            #expect(LocalFeedback.cue(for: kind, state: state) == nil, "\(state)")
        }
    }

    @Test func silentButtonPressGivesNoFeedbackEndToEnd() {
        var button = ModemLineButton(config: ButtonConfig(id: "under-desk", role: .silentPanic), line: .dcd,
                                     activeLevel: true)
        let events = button.lineChanged(level: true, at: 0) + button.tick(at: 30) + button.tick(at: 100)
        #expect(events.map(\.kind) == [.panic(silent: true)])
        #expect(events.allSatisfy { LocalFeedback.cue(for: $0.kind, state: .stored) == nil })
    }

    @Test func audibleAlarmShowsItsProgress() {
        let cues = FeedbackState.allCases.map { LocalFeedback.cue(for: .panic(silent: false), state: $0) }
        #expect(cues == [
            FeedbackCue(led: .slowBlink, buzzer: .singlePulse),
            FeedbackCue(led: .fastBlink, buzzer: .off),
            FeedbackCue(led: .steady, buzzer: .doublePulse),
            FeedbackCue(led: .fastBlink, buzzer: .longPulse),
        ])
        #expect(LocalFeedback.cue(for: .checkIn(.button), state: .delivered) == nil)
    }

    @Test func cuesRenderForTheBoxAndForModemLines() {
        let cue = FeedbackCue(led: .steady, buzzer: .doublePulse)
        #expect(LocalFeedback.boxCommands(cue, ledIndex: 2) == [.led(index: 2, pattern: .steady), .buzzer(pattern: .doublePulse)])
        #expect(LocalFeedback.linePatterns(cue, led: .dtr, buzzer: nil) == [.dtr: .steady])
        #expect(LocalFeedback.linePatterns(cue, led: .rts, buzzer: .dtr) == [.rts: .steady, .dtr: .doublePulse])
    }

    @Test func patternsDriveALineOverTime() {
        let double = IndicatorPattern.doublePulse
        #expect([0, 149, 150, 299, 300, 449, 450, 10_000].map { double.isOn(afterMilliseconds: $0) }
                == [true, true, false, false, true, true, false, false])
        #expect(double.nextChange(afterMilliseconds: 200) == 300)
        #expect(double.nextChange(afterMilliseconds: 450) == nil)
        #expect(IndicatorPattern.slowBlink.isOn(afterMilliseconds: 10_250))
        #expect(!IndicatorPattern.slowBlink.isOn(afterMilliseconds: 10_750))
        #expect(IndicatorPattern.slowBlink.nextChange(afterMilliseconds: 10_750) == 11_000)
        #expect(IndicatorPattern.steady.isOn(afterMilliseconds: 1_000_000))
        #expect(IndicatorPattern.steady.nextChange(afterMilliseconds: 0) == nil)
        #expect(!IndicatorPattern.off.isOn(afterMilliseconds: 0))
    }
}
