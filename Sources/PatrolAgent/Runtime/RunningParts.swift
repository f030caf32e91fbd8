import ServiceLifecycle
import Synchronization

/// Parts of the running agent that a configuration reload changes one at a time: the event
/// inputs, the GPS source, the uplink runners. Each part runs in a task of its own, so one can be
/// stopped (and its port closed) while the others keep theirs open.
///
/// A part is known by its configuration: a reload keeps a part whose configuration is equal, stops
/// those no longer configured and starts the new ones; a changed part is one stopped and one
/// started. Before the owning service starts (and after it stops) a change only sets what will run.
/// Changes come from one caller at a time: the start, then each reload in turn.
final class RunningParts<Config: Equatable & Sendable, Part: Sendable>: Sendable {
    private struct Entry {
        let config: Config
        let part: Part
        /// nil until the owning service starts.
        var task: Task<Void, Never>?
    }

    private struct State {
        var entries: [Entry] = []
        var phase = Phase.configured
    }

    private enum Phase { case configured, running, stopped }

    private let state = Mutex(State())
    private let run: @Sendable (Part) async -> Void

    /// - Parameter run: runs one part until its task is cancelled.
    init(run: @escaping @Sendable (Part) async -> Void) {
        self.run = run
    }

    /// The parts now configured.
    var parts: [Part] { state.withLock { $0.entries.map(\.part) } }

    /// Makes `configs` what runs: first makes every part not running yet with `make` (when one
    /// cannot be made, nothing has changed), then stops the parts not in `configs` and waits until
    /// each has returned, so a changed input has closed its port before its successor opens one,
    /// then tells `configured` every part in the order of `configs` (for status, before a new part
    /// can report), then starts the new parts. Returns the configurations stopped and started.
    @discardableResult
    func replace(with configs: [Config], make: (Config) throws -> Part, configured: ([Part]) -> Void = { _ in }) async rethrows
        -> (stopped: [Config], started: [Config]) {
        let running = state.withLock { $0.entries.map(\.config) }
        let new = try configs.filter { !running.contains($0) }.map { (config: $0, part: try make($0)) }
        let stopping = state.withLock { state in
            let stopping = state.entries.filter { !configs.contains($0.config) }
            state.entries.removeAll { !configs.contains($0.config) }
            return stopping
        }
        for entry in stopping { entry.task?.cancel() }
        for entry in stopping { await entry.task?.value }
        let parts = state.withLock { state in
            if state.phase != .stopped { state.entries += new.map { Entry(config: $0.config, part: $0.part) } }
            return configs.compactMap { config in state.entries.first { $0.config == config }?.part }
        }
        configured(parts)
        state.withLock { state in
            guard state.phase == .running else { return }
            for index in state.entries.indices where state.entries[index].task == nil {
                state.entries[index].task = start(state.entries[index].part)
            }
        }
        return (stopping.map(\.config), new.map(\.config))
    }

    /// Runs the configured parts, and those a reload adds, until graceful shutdown (or
    /// cancellation), then stops them all and waits until each has returned. `started` is called
    /// once the parts configured now have been started.
    func runUntilShutdown(started: () -> Void = {}) async {
        state.withLock { state in
            state.phase = .running
            for index in state.entries.indices { state.entries[index].task = start(state.entries[index].part) }
        }
        started()
        await withTaskCancellationHandler {
            try? await gracefulShutdown()
        } onCancel: {
            state.withLock { $0.entries.forEach { $0.task?.cancel() } }
        }
        let stopping = state.withLock { state in
            state.phase = .stopped
            defer { state.entries = [] }
            return state.entries
        }
        for entry in stopping { entry.task?.cancel() }
        for entry in stopping { await entry.task?.value }
    }

    private func start(_ part: Part) -> Task<Void, Never> {
        let run = run
        return Task { await run(part) }
    }
}
