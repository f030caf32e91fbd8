import PatrolCore

/// Collects what an `EventInput` emits and reports, for tests to inspect while it runs.
public actor EventRecorder {
    public private(set) var events: [DetectedEvent] = []
    /// When each event arrived, for latency figures in a test's output.
    public private(set) var arrivals: [ContinuousClock.Instant] = []
    public private(set) var states: [InputState] = []

    public init() {}

    public var lastState: InputState? { states.last }

    /// The event codes in arrival order, e.g. `["panic", "fault.port-gone"]`.
    public var codes: [String] { events.map(\.kind.code) }

    /// Runs `input` in a new task that records into this recorder; cancel the task to stop it.
    public nonisolated func start(_ input: some EventInput) -> Task<Void, Never> {
        Task {
            await input.run(emit: { await self.record($0) }, stateChanged: { await self.record($0) })
        }
    }

    private func record(_ event: DetectedEvent) {
        events.append(event)
        arrivals.append(.now)
    }

    private func record(_ state: InputState) { states.append(state) }
}
