import PatrolCore

/// Collects what an `EventInput` emits and reports, for tests to inspect while it runs.
public actor EventRecorder {
    public private(set) var events: [DetectedEvent] = []
    /// When each event arrived, for latency figures in a test's output.
    public private(set) var arrivals: [ContinuousClock.Instant] = []
    public private(set) var states: [InputState] = []
    /// PLBX 2 presses reported finished, in order.
    public private(set) var finishedPresses: [PressKey] = []
    /// What every report is answered with: `.stored`, or `.keptForRetry` for a store that fails.
    public private(set) var outcome = ReportOutcome.stored

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

    public func answer(_ outcome: ReportOutcome) { self.outcome = outcome }

    /// Takes every report and answers ``outcome``, as a store that never fails (or always fails) would.
    private func record(_ report: InputReport) -> ReportOutcome {
        switch report {
        case .event(let event):
            events.append(event)
            arrivals.append(.now)
        case .pressFinished(let key):
            finishedPresses.append(key)
        }
        return outcome
    }

    private func record(_ state: InputState) { states.append(state) }
}
