import Foundation
import PatrolCore
import PatrolTestSupport
import Synchronization
import Testing

/// A button box a process test drives: the Swift stand-in or the firmware in the simulator.
protocol BoxUnderTest: AnyObject, Sendable {
    /// The box's end of the serial line.
    var linePath: String { get }
    func press(_ contact: Int)
    func release(_ contact: Int)
    func reset()
    func powerOff()
    func powerOn()
}

extension PLBX2TestBox: BoxUnderTest {
    var linePath: String { line.devicePath }
}

extension SimulatedButtonBox: BoxUnderTest {
    var linePath: String { linkPath }
}

/// One `patrol-agent` (restartable, killable at any frame), its store, and a box on the line
/// through a ``SerialInterposer``. What the box was told is read off the interposer, so the same
/// checks hold for the stand-in and for the firmware.
final class BoxRig: @unchecked Sendable {
    let folder: TemporaryDirectory
    let box: any BoxUnderTest
    let line: SerialInterposer
    let config: String
    private let agent = Mutex<ChildProcess?>(nil)

    init(folder: TemporaryDirectory, box: any BoxUnderTest) throws {
        self.folder = folder
        self.box = box
        line = try SerialInterposer(boxPath: box.linePath)
        config = folder.path + "/agent.toml"
        try """
        [device]
        id = "test-booth"
        [gps]
        gpsd_host = "127.0.0.1"
        gpsd_port = \(try FreePort.allocate())   # no gpsd: alarms carry no position, which is fine here
        [store]
        path = "\(folder.path)/store/agent.db"
        [status]
        runtime_dir = "\(folder.path)/run"
        [[button_box]]
        id = "box-1"
        port = "\(line.agentPath)"
        [[button_box.button]]
        number = 1
        id = "panic-1"
        role = "panic"
        [[button_box.button]]
        number = 2
        id = "check-2"
        role = "check-in"
        """.write(toFile: config, atomically: true, encoding: .utf8)
    }

    deinit {
        agent.withLock { $0?.signal(SIGKILL) }
        line.stop()
    }

    /// Starts the agent and waits until it has opened the port and answered the box's hello
    /// (`PROTO,2`, or only the ack for a protocol 1 box).
    func startAgent(protocol1: Bool = false) throws {
        let before = line.frames.count
        let process = try ChildProcess(BuiltExecutable.agent.path, ["run", "--config", config])
        agent.withLock { $0 = process }
        let ready = waitUntil(timeout: 30) { () -> Bool? in
            if process.hasExited { return false }
            let since = line.frames.dropFirst(before).filter { $0.0 == .agentToBox }.map(\.1.message)
            guard since.contains(.query) else { return nil }
            if protocol1 { return since.contains { if case .ack = $0 { true } else { false } } ? true : nil }
            return since.contains(.speakProtocol(version: 2)) ? true : nil
        }
        #expect(ready == true, "agent not talking to the box: \(process.output)")
    }

    /// Sends `signal` to the running agent (SIGHUP: re-read the configuration).
    func signalAgent(_ signal: Int32) {
        agent.withLock { $0?.signal(signal) }
    }

    /// SIGKILL now: callable from the interposer's thread, the moment a frame was relayed.
    @Sendable func kill() {
        agent.withLock { $0?.signal(SIGKILL) }
    }

    func waitForKilledAgent() {
        let process = agent.withLock { $0 }
        #expect(process?.waitForExitCode(timeout: 10) == 128 + SIGKILL, "the agent was not killed")
    }

    /// SIGTERM: a clean stop, after which the store can be read.
    func stopAgent() {
        let process = agent.withLock { $0 }
        process?.signal(SIGTERM)
        #expect(process?.waitForExitCode(timeout: 15) == 0, "SIGTERM must stop the agent cleanly: \(process?.output ?? "")")
    }

    /// The stored events of `kind`, read with `patrol-agent events` once the agent has stopped.
    func storedEvents(kind: String = "panic") throws -> [[String: Any]] {
        let result = try BuiltExecutable.agent.run(["events", "--config", config, "--json"])
        #expect(result.status == 0, "events failed: \(result.stderr)")
        let all = (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]]) ?? []
        return all.filter { $0["kind"] as? String == kind }
    }

    /// Press numbers the box sent, and those the agent's `STORED` reached the box for.
    var pressesSent: Set<UInt32> {
        Set(line.frames.compactMap { direction, frame in
            guard direction == .boxToAgent else { return nil }
            switch frame.message {
            case .pressDown(_, let press, _), .pressUp(_, let press, _, _): return press
            default: return nil
            }
        })
    }

    var pressesStored: Set<UInt32> {
        Set(line.frames.compactMap { direction, frame in
            guard direction == .agentToBox, case .stored(let press) = frame.message else { return nil }
            return press
        })
    }

    /// Waits until every press the box sent was answered `STORED` and the box has stopped
    /// repeating presses for 1.5 s (its `UP` repeats are at most 1 s apart): it holds nothing.
    func waitUntilAllStored(presses: Int, timeout: TimeInterval = 20) -> Bool {
        var quietSince: (count: Int, at: Date)?
        return waitUntil(timeout: timeout) { () -> Bool? in
            let sent = pressesSent
            guard sent.count >= presses, sent.isSubset(of: pressesStored) else { return nil }
            let count = line.frames.count { $0.0 == .boxToAgent && $0.1.message.isPressFrame }
            guard let quiet = quietSince, quiet.count == count else {
                quietSince = (count, Date())
                return nil
            }
            return Date().timeIntervalSince(quiet.at) >= 1.5 ? true : nil
        } ?? false
    }

    var agentOutput: String { agent.withLock { $0?.output ?? "" } }
}

extension ButtonBoxMessage {
    var isPressFrame: Bool {
        switch self {
        case .pressDown, .pressUp: true
        default: false
        }
    }
}

/// Where in a press's exchange the agent dies.
enum KillStep: String, CaseIterable, Sendable {
    /// The DOWN has just reached the agent: before its commit.
    case downDelivered
    /// 5 ms after the DOWN reached the agent: around its commit.
    case fewMillisecondsAfterDown
    /// The agent's LED command is out: the alarm is committed. The guard holds on through the restart.
    case storedFeedbackSeen
    /// The UP has just reached the agent.
    case upDelivered
    /// The agent's STORED is lost on the line and the agent dies.
    case storedDropped
    /// The STORED has just reached the box.
    case storedDelivered
}

extension BoxRig {
    /// One press of contact 1, the agent killed at `step` (the first frame that matches) and
    /// started again; returns the stored panics once the box holds nothing unconfirmed.
    func pressKillingTheAgent(at step: KillStep) throws -> [[String: Any]] {
        try startAgent()
        let fired = Atomic<Bool>(false)
        // Weak: the interposer keeps its hook, and the rig must still go away (and stop the
        // interposer's thread) when the test ends.
        let kill: @Sendable () -> Void = { [weak self] in
            guard !fired.exchange(true, ordering: .relaxed) else { return }
            self?.kill()
        }
        line.onFrame { direction, frame in
            guard !fired.load(ordering: .relaxed) else { return .pass }
            switch (step, direction, frame.message) {
            case (.downDelivered, .boxToAgent, .pressDown): return .passThen(kill)
            case (.fewMillisecondsAfterDown, .boxToAgent, .pressDown): return .passThen { usleep(5000); kill() }
            case (.storedFeedbackSeen, .agentToBox, .led): return .passThen(kill)
            case (.upDelivered, .boxToAgent, .pressUp): return .passThen(kill)
            case (.storedDropped, .agentToBox, .stored): return .dropThen(kill)
            case (.storedDelivered, .agentToBox, .stored): return .passThen(kill)
            default: return .pass
            }
        }
        let reached = { waitUntil(timeout: 10) { fired.load(ordering: .relaxed) ? true : nil } == true }
        box.press(1)
        if step == .storedFeedbackSeen {
            #expect(reached(), "no LED command: \(agentOutput)")
            waitForKilledAgent()
            try startAgent()
            usleep(1_200_000) // the box repeats its DOWN, older than the minimum hold, to the new agent
            box.release(1)
        } else {
            usleep(300_000)
            box.release(1)
            #expect(reached(), "\(step) never reached: \(agentOutput)")
            waitForKilledAgent()
            try startAgent()
        }
        #expect(waitUntilAllStored(presses: 1), "sent \(pressesSent), stored \(pressesStored): \(agentOutput)")
        stopAgent()
        return try storedEvents()
    }
}
