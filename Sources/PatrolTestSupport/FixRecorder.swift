import PatrolCore

/// Collects what a `FixSource` delivers and reports, for tests to inspect while it runs.
public actor FixRecorder {
    public private(set) var fixes: [Fix] = []
    public private(set) var states: [GPSSourceState] = []

    public init() {}

    public var lastState: GPSSourceState? { states.last }

    /// Runs `source` in a new task that records into this recorder; cancel the task to stop it.
    public nonisolated func start(_ source: some FixSource) -> Task<Void, Never> {
        Task {
            await source.run(deliver: { await self.record($0) }, stateChanged: { await self.record($0) })
        }
    }

    private func record(_ fix: Fix) { fixes.append(fix) }
    private func record(_ state: GPSSourceState) { states.append(state) }
}

extension Task where Success == Void, Failure == Never {
    /// Cancels the task and waits up to `timeout` for it to finish; returns whether it did.
    public func cancelAndWait(timeout: Duration) async -> Bool {
        cancel()
        let finished = FinishFlag()
        let waiter = Task<Void, Never> { await self.value; await finished.set() }
        defer { waiter.cancel() }
        return await eventually(timeout: timeout) { await finished.isSet }
    }
}

private actor FinishFlag {
    private(set) var isSet = false
    func set() { isSet = true }
}
