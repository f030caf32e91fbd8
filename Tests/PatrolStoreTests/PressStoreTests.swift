import PatrolCore
import PatrolTestSupport
import Testing
@testable import PatrolStore

/// PLBX 2 presses in the store: one event of a kind per press key, kept across reopening (an agent
/// restart), and finished presses recorded once.
@Suite struct PressStoreTests {
    static let press = PressKey(boxID: "BX-7", incarnation: 0xC0FF_EE01, press: 42)

    func pressEvent(_ kind: EventKind, press: PressKey = Self.press, second: Int = 0) -> PatrolEvent {
        var event = event(kind, second: second)
        event.press = press
        return event
    }

    @Test func aSecondEventOfTheSameKindForOnePressIsNotStored() throws {
        let fixture = try StoreFixture()
        var store: AgentStore? = try fixture.open()
        let first = try #require(store).recordEvent(pressEvent(.panic(silent: false)))
        guard case .stored(let sequence) = first else {
            Issue.record("the first alarm of a press must be stored: \(first)")
            return
        }
        // The agent restarts; the box's repeat brings the press again, a little later.
        store = nil
        store = try fixture.open()
        let reopened = try #require(store)
        #expect(try reopened.recordEvent(pressEvent(.panic(silent: false), second: 3)) == .alreadyStored(sequence: sequence))
        // Another kind of the same press, and the same kind of another press or incarnation, are new.
        #expect(try reopened.recordEvent(pressEvent(.alarmCancel, second: 4)).sequence > sequence)
        var other = Self.press
        other.press = 43
        #expect(try reopened.recordEvent(pressEvent(.panic(silent: false), press: other)) != .alreadyStored(sequence: sequence))
        other = Self.press
        other.incarnation = 7
        #expect(try reopened.recordEvent(pressEvent(.panic(silent: false), press: other)) != .alreadyStored(sequence: sequence))
        // Events without a press key are never refused.
        #expect(try reopened.appendEvent(event(.panic(silent: false))) > sequence)
        #expect(try reopened.appendEvent(event(.panic(silent: false))) > sequence)
        #expect(try reopened.events(since: 0).filter { $0.event.kind == .panic(silent: false) }.count == 5)
    }

    @Test func aPressIsFinishedOnce() throws {
        let fixture = try StoreFixture()
        var store: AgentStore? = try fixture.open()
        #expect(try #require(store).finishPress(Self.press) == true)
        #expect(try #require(store).finishPress(Self.press) == false)
        store = nil
        store = try fixture.open()
        #expect(try #require(store).finishPress(Self.press) == false, "kept across a restart")
        var next = Self.press
        next.press += 1
        #expect(try #require(store).finishPress(next) == true)
    }
}
