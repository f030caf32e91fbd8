import Foundation
import PatrolCore
import Synchronization

/// A man in the middle of a serial line: the agent opens ``agentPath`` (a pseudo-terminal), the
/// box is at `boxPath` (the ``PLBX2TestBox``'s or the simulator's pseudo-terminal). Every line
/// is relayed whole, and each button box frame is shown to a hook first, which may drop it or act
/// right after it was passed on (kill the agent the moment a frame reached it). It can also
/// unplug the line: nothing passes either way, as with a cable pulled between box and adapter.
public final class SerialInterposer: @unchecked Sendable {
    public enum Direction: Sendable, Equatable {
        case boxToAgent, agentToBox
    }

    /// What to do with a frame.
    public enum Verdict {
        case pass
        case drop
        /// Pass it on, then run the action on the relay thread before anything else is relayed.
        case passThen(@Sendable () -> Void)
        /// Drop it, then run the action.
        case dropThen(@Sendable () -> Void)
        /// Pass it on twice: a repeated frame.
        case passTwice
    }

    public typealias Hook = @Sendable (Direction, ButtonBoxFrame) -> Verdict

    public var agentPath: String { agentSide.devicePath }

    private let agentSide: PseudoTerminalPair
    private let boxDescriptor: Int32
    private let hook: Mutex<Hook>
    private let isUnplugged = Atomic<Bool>(false)
    private let running = Atomic<Bool>(true)
    private let log = Mutex<[(Direction, ButtonBoxFrame)]>([])

    public init(boxPath: String) throws {
        agentSide = try PseudoTerminalPair()
        boxDescriptor = open(boxPath, O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard boxDescriptor >= 0 else { throw SystemCallError("open \(boxPath)") }
        PseudoTerminalPair.makeRaw(boxDescriptor)
        agentSide.makeDeviceRaw()
        // While the agent is dead nobody reads its side: a full buffer must drop bytes, as a line
        // with no listener does, not block the relay.
        for descriptor in [boxDescriptor, agentSide.controllerDescriptor] {
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        }
        hook = Mutex({ _, _ in .pass })
        Thread { [self] in relay() }.start()
    }

    /// Stops relaying and closes the box side.
    public func stop() {
        guard running.exchange(false, ordering: .relaxed) else { return }
        usleep(50_000)
        close(boxDescriptor)
    }

    /// Replaces the hook that sees every frame from now on.
    public func onFrame(_ newHook: @escaping Hook) {
        hook.withLock { $0 = newHook }
    }

    /// Pulls (true) or plugs back (false) the line between box and agent.
    public func setUnplugged(_ unplugged: Bool) {
        isUnplugged.store(unplugged, ordering: .relaxed)
    }

    /// Every frame passed on so far (dropped ones are not), in order.
    public var frames: [(Direction, ButtonBoxFrame)] { log.withLock { $0 } }

    private func relay() {
        var fromBox: [UInt8] = [], fromAgent: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1024)
        while running.load(ordering: .relaxed) {
            var entries = [pollfd(fd: boxDescriptor, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: agentSide.controllerDescriptor, events: Int16(POLLIN), revents: 0)]
            guard poll(&entries, 2, 20) > 0 else { continue }
            for (index, entry) in entries.enumerated() where entry.revents != 0 {
                let count = buffer.withUnsafeMutableBytes { read(entry.fd, $0.baseAddress, 1024) }
                guard count > 0 else {
                    usleep(10_000) // the agent's side is closed (killed, restarting): nothing to read yet
                    continue
                }
                if index == 0 {
                    fromBox += buffer[..<count]
                    forwardLines(&fromBox, .boxToAgent, to: agentSide.controllerDescriptor)
                } else {
                    fromAgent += buffer[..<count]
                    forwardLines(&fromAgent, .agentToBox, to: boxDescriptor)
                }
            }
        }
    }

    private func forwardLines(_ pending: inout [UInt8], _ direction: Direction, to descriptor: Int32) {
        while let end = pending.firstIndex(of: 0x0A) {
            let line = Array(pending[...end])
            pending.removeSubrange(...end)
            guard !isUnplugged.load(ordering: .relaxed) else { continue }
            var verdict = Verdict.pass
            let frame = ButtonBoxFrame(line: line.filter { $0 != 0x0D && $0 != 0x0A })
            if let frame { verdict = hook.withLock { $0 }(direction, frame) }
            if let frame {
                switch verdict {
                case .drop, .dropThen: break
                case .pass, .passThen, .passTwice: log.withLock { $0.append((direction, frame)) }
                }
            }
            switch verdict {
            case .drop: continue
            case .pass: write(line, to: descriptor)
            case .passThen(let action):
                write(line, to: descriptor)
                action()
            case .dropThen(let action): action()
            case .passTwice: write(line + line, to: descriptor)
            }
        }
        if pending.count > 4096 { pending.removeAll() }
    }

    private func write(_ bytes: [UInt8], to descriptor: Int32) {
        _ = bytes.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, bytes.count) }
    }
}
