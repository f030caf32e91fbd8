import Foundation
import PatrolCore
import PatrolTestSupport
import Synchronization
import Testing

/// PLBX 2 through the real `patrol-agent`, with ``PLBX2TestBox`` standing in for the firmware
/// (FirmwareBoxProcessTests runs the same against the firmware in simavr): the agent killed with
/// SIGKILL at every step of a press's exchange, box resets, lost and repeated frames, the line
/// unplugged. Whatever happens, one alarm per press in the store, and the box holds nothing
/// unconfirmed at the end.
@Suite(.serialized) struct ButtonBoxProtocol2ProcessTests {
    let folder: TemporaryDirectory
    let box: PLBX2TestBox
    let rig: BoxRig

    init() throws {
        folder = try TemporaryDirectory()
        box = try PLBX2TestBox()
        rig = try BoxRig(folder: folder, box: box)
    }

    @Test(arguments: KillStep.allCases)
    func anAgentKilledAtAnyStepOfAPressStoresItExactlyOnce(step: KillStep) throws {
        defer { box.stop() }
        let panics = try rig.pressKillingTheAgent(at: step)
        #expect(panics.count == 1, "\(step): \(panics)")
        #expect(box.unconfirmedPresses.isEmpty)
    }

    /// The box is reset (watchdog) while the guard holds the button, and powered off while a
    /// second press is released: each press is one alarm, and a reset never makes one "too short".
    @Test func aBoxResetMidPressLosesAndDoublesNothing() throws {
        defer { box.stop() }
        try rig.startAgent()
        box.press(1)
        #expect(waitUntil(timeout: 10) { box.led(1) != nil ? true : nil } == true, "no 'stored' LED: \(rig.agentOutput)")
        usleep(1_100_000) // the hold is persisted once a second
        box.reset()
        usleep(1_500_000) // still held after the reboot: the press continues
        box.release(1)
        #expect(rig.waitUntilAllStored(presses: 1))
        box.press(1)
        usleep(300_000)
        box.powerOff()
        box.release(1)
        usleep(500_000)
        box.powerOn()
        #expect(rig.waitUntilAllStored(presses: 2), "box holds \(box.unconfirmedPresses): \(rig.agentOutput)")
        rig.stopAgent()
        let panics = try rig.storedEvents()
        #expect(panics.count == 2, "\(panics)")
        #expect(box.unconfirmedPresses.isEmpty)
    }

    /// The first DOWN, UP and STORED of a press are lost on the line, then every frame of a second
    /// press arrives twice: one alarm each.
    @Test func lostAndRepeatedFramesAreOneAlarmPerPress() throws {
        defer { box.stop() }
        try rig.startAgent()
        let lost = Mutex<Set<String>>([])
        rig.line.onFrame { _, frame in
            let type: String
            switch frame.message {
            case .pressDown: type = "DOWN"
            case .pressUp: type = "UP"
            case .stored: type = "STORED"
            default: return .pass
            }
            return lost.withLock { $0.insert(type).inserted } ? .drop : .pass
        }
        box.press(1)
        usleep(300_000)
        box.release(1)
        #expect(rig.waitUntilAllStored(presses: 1), "box holds \(box.unconfirmedPresses): \(rig.agentOutput)")
        rig.line.onFrame { direction, _ in direction == .boxToAgent ? .passTwice : .pass }
        box.press(1)
        usleep(300_000)
        box.release(1)
        #expect(rig.waitUntilAllStored(presses: 2), "box holds \(box.unconfirmedPresses): \(rig.agentOutput)")
        rig.stopAgent()
        let panics = try rig.storedEvents()
        #expect(panics.count == 2, "\(panics)")
        #expect(lost.withLock { $0 } == ["DOWN", "UP", "STORED"])
    }

    /// The line is pulled while the guard presses: the DOWN never arrives, the release happens
    /// while unplugged, the agent reports the box silent. Plugged back, the box's repeats bring
    /// the press: one alarm, and the box is told it is stored.
    @Test func aLineUnpluggedMidPressDeliversThePressWhenPluggedBack() throws {
        defer { box.stop() }
        try rig.startAgent()
        rig.line.setUnplugged(true)
        box.press(1)
        usleep(400_000)
        box.release(1)
        usleep(4_500_000) // past the silence limit
        #expect(box.unconfirmedPresses == [1], "the box keeps the press while the line is down")
        rig.line.setUnplugged(false)
        #expect(rig.waitUntilAllStored(presses: 1), "box holds \(box.unconfirmedPresses): \(rig.agentOutput)")
        rig.stopAgent()
        let silences = try rig.storedEvents(kind: "fault.box-silent")
        let panics = try rig.storedEvents()
        #expect(panics.count == 1, "\(panics)")
        #expect(silences.count == 1, "the silence is one fault")
    }
}
