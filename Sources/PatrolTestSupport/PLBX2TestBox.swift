import Foundation
import PatrolCore
import Synchronization

/// A PLBX 2 button box in Swift, on a pseudo-terminal: it stands in for the box's firmware
/// (Board/button-box) in the tests that do not run it in the simulator (`SimulatedButtonBox`), so
/// those tests run fast and can reach every step of the exchange. It follows the spec as the
/// firmware does (Board/button-box-protocol.md): hello every 250 ms until acked, then `PROTO,2`;
/// presses numbered and queued (8) in "EEPROM" that survives ``reset()`` and ``powerOff()``; `DOWN`
/// at the close and every second while held; `UP` at the open, repeated 250 ms ×4 then every
/// second until `STORED`; oldest press first, at most one press frame per 100 ms; `HB` every second.
///
/// It does not fall back to protocol 1 (the agent under test always answers). Across a reset it knows
/// a held press's hold only as last persisted, once a second (as the firmware in a press's first 10 s).
/// Its own thread runs it until ``stop()``. `@unchecked Sendable`: the line is read and written by
/// that thread alone, and everything else is behind the mutex.
public final class PLBX2TestBox: @unchecked Sendable {
    /// The agent, or a ``SerialInterposer``, opens `line.devicePath`.
    public let line: PseudoTerminalPair
    public let boxID: String
    public let incarnation: UInt32

    private let state: Mutex<State>
    private let running = Atomic<Bool>(true)

    /// What the box keeps in EEPROM, and what it loses on a reset.
    private struct State: Sendable {
        // EEPROM.
        var lastPress: UInt32 = 0
        var queue: [QueuedPress] = []
        // The world: which contacts are closed, and whether the box has power.
        var closedContacts: Set<Int> = []
        var powered = true
        // RAM.
        var bootedAt: Int64
        var nextSequence: UInt16 = 0
        var helloAcked = false
        var speaksProtocol2 = false
        var lastHelloAt: Int64?
        var lastHeartbeatAt: Int64?
        var lastPressFrameAt: Int64?
        var pending: [UInt8] = []
        // What the test inspects.
        var stored: [UInt32] = []
        var leds: [Int: IndicatorPattern] = [:]
        var boots = 1
    }

    private struct QueuedPress: Sendable {
        var press: UInt32
        var button: Int
        /// RAM: the monotonic ms of the close, nil after a reset (then `persistedHeld` is all there is).
        var closedAt: Int64?
        /// EEPROM: the last hold written (at the close 0, once a second while held, at the open).
        var persistedHeld: Int64 = 0
        var released = false
        var afterReset = false
        /// When this press is next due on the line, and how many ups were sent.
        var dueAt: Int64
        var upsSent = 0
    }

    public static let queueLimit = 8

    public init(boxID: String = "BX-7", incarnation: UInt32 = 0xC0FF_EE01) throws {
        line = try PseudoTerminalPair()
        self.boxID = boxID
        self.incarnation = incarnation
        state = Mutex(State(bootedAt: Self.now()))
        Thread { [self] in run() }.start()
    }

    /// Stops the box's thread.
    public func stop() {
        running.store(false, ordering: .relaxed)
    }

    /// The guard closes contact `button`: a new press, numbered and persisted before it is sent.
    public func press(_ button: Int) {
        state.withLock { state in
            state.closedContacts.insert(button)
            guard state.powered else { return }
            Self.close(button, in: &state, at: Self.now())
        }
    }

    /// The guard lets go of `button`.
    public func release(_ button: Int) {
        state.withLock { state in
            state.closedContacts.remove(button)
            guard state.powered else { return }
            let now = Self.now()
            guard let index = state.queue.firstIndex(where: { $0.button == button && !$0.released }) else { return }
            state.queue[index].released = true
            if let closedAt = state.queue[index].closedAt {
                state.queue[index].persistedHeld = now - closedAt
            }
            state.queue[index].dueAt = now
            state.queue[index].upsSent = 0
        }
    }

    /// A watchdog reset: RAM is lost, EEPROM and the contacts stay; the box boots at once.
    public func reset() {
        powerOff()
        powerOn()
    }

    /// Power lost: nothing is sent, contacts may change meanwhile (the box will not see it).
    public func powerOff() {
        state.withLock { $0.powered = false }
    }

    /// Power back: the box boots, resends its queue (a press still marked held continues if its
    /// contact is still closed, else it is an `UP …,R` with the persisted hold).
    public func powerOn() {
        state.withLock { state in
            let now = Self.now()
            state.powered = true
            state.boots += 1
            state.bootedAt = now
            state.nextSequence = 0
            state.helloAcked = false
            state.speaksProtocol2 = false
            state.lastHelloAt = nil
            state.lastHeartbeatAt = nil
            state.pending = []
            for index in state.queue.indices {
                state.queue[index].dueAt = now
                state.queue[index].upsSent = 0
                guard !state.queue[index].released else { continue }
                if state.closedContacts.contains(state.queue[index].button) {
                    state.queue[index].closedAt = now - state.queue[index].persistedHeld
                } else {
                    state.queue[index].closedAt = nil
                    state.queue[index].released = true
                    state.queue[index].afterReset = true
                }
            }
        }
    }

    /// Press numbers the agent has answered `STORED` for, in order of arrival (repeats included).
    public var storedPresses: [UInt32] { state.withLock { $0.stored } }
    /// Presses the box still holds as unconfirmed.
    public var unconfirmedPresses: [UInt32] { state.withLock { $0.queue.map(\.press) } }
    /// The highest press number assigned.
    public var lastPress: UInt32 { state.withLock { $0.lastPress } }
    /// The pattern the agent last set on each LED.
    public func led(_ index: Int) -> IndicatorPattern? { state.withLock { $0.leds[index] } }
    /// Whether the agent has told the box to speak PLBX 2 since its last boot.
    public var speaksProtocol2: Bool { state.withLock { $0.speaksProtocol2 } }

    private static func close(_ button: Int, in state: inout State, at now: Int64) {
        state.lastPress &+= 1
        let press = QueuedPress(press: state.lastPress, button: button, closedAt: now, dueAt: now)
        if state.queue.count < queueLimit {
            state.queue.append(press)
        } else if let newest = state.queue.lastIndex(where: { $0.button == button }) {
            state.queue[newest] = press
        } // else: the queue keeps its 8 oldest; the heartbeat's lastPress shows the gap.
    }

    private func run() {
        while running.load(ordering: .relaxed) {
            let bytes = line.read(timeout: 0.01)
            if bytes.isEmpty { usleep(2000) } // a hung-up line returns at once
            let now = Self.now()
            let out: [ButtonBoxFrame] = state.withLock { state in
                guard state.powered else { return [] }
                var out: [ButtonBoxFrame] = []
                state.pending += bytes
                while let end = state.pending.firstIndex(of: 0x0A) {
                    let lineBytes = state.pending[..<end].filter { $0 != 0x0D }
                    state.pending.removeSubrange(...end)
                    if let frame = ButtonBoxFrame(line: lineBytes) { handle(frame.message, in: &state, out: &out) }
                }
                if state.pending.count > 256 { state.pending.removeAll() }
                tick(in: &state, at: now, out: &out)
                return out
            }
            for frame in out { try? line.write(frame.line) }
        }
    }

    private func handle(_ message: ButtonBoxMessage, in state: inout State, out: inout [ButtonBoxFrame]) {
        switch message {
        case .ack(0) where !state.helloAcked:
            state.helloAcked = true
        case .speakProtocol(2):
            state.speaksProtocol2 = true
        case .query:
            out.append(next(hello(in: state), in: &state))
        case .stored(let press):
            state.stored.append(press)
            state.queue.removeAll { $0.press == press && $0.released }
        case .led(let index, let pattern):
            state.leds[index] = pattern
        default:
            break
        }
    }

    private func hello(in state: State) -> ButtonBoxMessage {
        .hello(boxID: boxID, firmware: "test-2.0", uptimeSeconds: (Self.now() - state.bootedAt) / 1000,
               offer: ButtonBoxOffer(highestProtocol: 2, incarnation: incarnation))
    }

    private func tick(in state: inout State, at now: Int64, out: inout [ButtonBoxFrame]) {
        if !state.helloAcked {
            guard Self.due(state.lastHelloAt, every: 250, at: now) else { return }
            state.lastHelloAt = now
            // The hello keeps frame number 0 until acked, as every repeated frame keeps its number.
            out.append(ButtonBoxFrame(sequence: 0, message: hello(in: state)))
            if state.nextSequence == 0 { state.nextSequence = 1 }
            return
        }
        guard state.speaksProtocol2 else { return }
        if Self.due(state.lastHeartbeatAt, every: 1000, at: now) {
            state.lastHeartbeatAt = now
            let down = Set(state.queue.filter { !$0.released }.map(\.button))
            out.append(next(.heartbeat(uptimeSeconds: (now - state.bootedAt) / 1000, buttonsDown: down,
                                       lastPress: state.lastPress), in: &state))
            // The hold is persisted at most once a second while held.
            for index in state.queue.indices where !state.queue[index].released {
                if let closedAt = state.queue[index].closedAt { state.queue[index].persistedHeld = now - closedAt }
            }
        }
        guard Self.due(state.lastPressFrameAt, every: 100, at: now),
              let index = state.queue.indices.first(where: { state.queue[$0].dueAt <= now }) else { return }
        state.lastPressFrameAt = now
        var entry = state.queue[index]
        if entry.released {
            out.append(next(.pressUp(button: entry.button, press: entry.press, heldMilliseconds: entry.persistedHeld,
                                     afterReset: entry.afterReset), in: &state))
            entry.upsSent += 1
            entry.dueAt = now + (entry.upsSent <= 4 ? 250 : 1000)
        } else {
            let age = entry.closedAt.map { now - $0 } ?? entry.persistedHeld
            out.append(next(.pressDown(button: entry.button, press: entry.press, ageMilliseconds: age), in: &state))
            entry.dueAt = now + 1000
        }
        state.queue[index] = entry
    }

    private func next(_ message: ButtonBoxMessage, in state: inout State) -> ButtonBoxFrame {
        defer { state.nextSequence &+= 1 }
        return ButtonBoxFrame(sequence: state.nextSequence, message: message)
    }

    private static func due(_ last: Int64?, every period: Int64, at now: Int64) -> Bool {
        last.map { now - $0 >= period } ?? true
    }

    static func now() -> Int64 {
        Int64(DispatchTime.now().uptimeNanoseconds / 1_000_000)
    }
}
