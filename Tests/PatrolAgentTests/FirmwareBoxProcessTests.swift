import Foundation
import PatrolCore
import PatrolTestSupport
import Testing

/// The box's real firmware (Board/button-box), unmodified, in simavr (``SimulatedButtonBox``),
/// against the real `patrol-agent` through a ``SerialInterposer``: a press reaches the store and
/// lights the "stored" LED pin, the agent killed at every step, the box reset or powered off
/// during a press, and a box set to protocol 1.
@Suite(.serialized) struct FirmwareBoxProcessTests {
    let folder: TemporaryDirectory

    init() throws {
        folder = try TemporaryDirectory()
        try #require(SimulatedButtonBox.isBuilt, "build the firmware and its simulator: make -C Board/button-box firmware sim")
    }

    @Test func aPressReachesTheStoreAndLightsTheStoredLED() throws {
        let box = try SimulatedButtonBox(folder: folder)
        defer { box.stop() }
        let rig = try BoxRig(folder: folder, box: box)
        try rig.startAgent()
        let before = box.all.count
        box.press(1)
        let pressed = box.waitFor("press 1", after: before)
        let lit = box.waitFor("led 1 on", after: before)
        #expect(pressed != nil && lit != nil, "no 'stored' LED: \(box.all) \(rig.agentOutput)")
        usleep(300_000)
        box.release(1)
        #expect(rig.waitUntilAllStored(presses: 1), "sent \(rig.pressesSent), stored \(rig.pressesStored): \(rig.agentOutput)")
        rig.stopAgent()
        let panics = try rig.storedEvents()
        #expect(panics.count == 1, "\(panics)")
        // The LED command is sent only after the commit, so the pin can only follow the press.
        if let pressed, let lit { #expect(lit.micros > pressed.micros) }
    }

    @Test(arguments: KillStep.allCases)
    func anAgentKilledAtAnyStepStoresTheFirmwaresPressExactlyOnce(step: KillStep) throws {
        let box = try SimulatedButtonBox(folder: folder)
        defer { box.stop() }
        let rig = try BoxRig(folder: folder, box: box)
        let panics = try rig.pressKillingTheAgent(at: step)
        #expect(panics.count == 1, "\(step): \(panics)")
    }

    /// A reset (the reset pin) while the guard holds the button, and a power loss while a second
    /// press is released: the firmware's EEPROM queue brings each press back, one alarm each.
    @Test func aBoxResetOrPowerLossDuringAPressLosesAndDoublesNothing() throws {
        let box = try SimulatedButtonBox(folder: folder)
        defer { box.stop() }
        let rig = try BoxRig(folder: folder, box: box)
        try rig.startAgent()
        var mark = box.all.count
        box.press(1)
        #expect(box.waitFor("led 1 on", after: mark) != nil, "no 'stored' LED: \(rig.agentOutput)")
        usleep(1_200_000) // the firmware persists the hold once a second
        mark = box.all.count
        box.reset()
        #expect(box.waitFor("boot external", after: mark) != nil, "\(box.all.dropFirst(mark))")
        usleep(1_500_000)
        box.release(1)
        #expect(rig.waitUntilAllStored(presses: 1), "sent \(rig.pressesSent), stored \(rig.pressesStored): \(rig.agentOutput)")

        box.press(1)
        usleep(400_000)
        box.powerOff()
        box.release(1)
        usleep(500_000)
        mark = box.all.count
        box.powerOn()
        #expect(box.waitFor("boot power-on", after: mark) != nil, "\(box.all.dropFirst(mark))")
        #expect(rig.waitUntilAllStored(presses: 2), "sent \(rig.pressesSent), stored \(rig.pressesStored): \(rig.agentOutput)")
        rig.stopAgent()
        let panics = try rig.storedEvents()
        #expect(panics.count == 2, "\(panics)")
    }

    /// The protocol 1 jumper: the box says the 3-field hello and the agent speaks protocol 1 to it.
    @Test func aBoxSetToProtocol1IsServedAsProtocol1() throws {
        let box = try SimulatedButtonBox(folder: folder, protocol1: true)
        defer { box.stop() }
        let rig = try BoxRig(folder: folder, box: box)
        try rig.startAgent(protocol1: true)
        let mark = box.all.count
        box.press(1)
        usleep(400_000)
        box.release(1)
        #expect(box.waitFor("led 1 on", after: mark) != nil, "no 'stored' LED: \(rig.agentOutput)")
        usleep(500_000)
        rig.stopAgent()
        let panics = try rig.storedEvents()
        #expect(panics.count == 1, "\(panics)")
        #expect(!rig.line.frames.contains { $0.1.message == .speakProtocol(version: 2) })
        #expect(!rig.line.frames.contains { $0.1.message.isPressFrame }, "a protocol 1 box sends no numbered presses")
    }
}
