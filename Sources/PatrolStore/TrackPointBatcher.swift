import Logging
import PatrolCore

/// Collects track points in memory and commits them to the store as one batch per window.
///
/// Why: every commit is an fsync and rewrites at least one file-system page, so committing each
/// 1 Hz fix would wear the SD card ten times faster than committing every 10 s. The price is
/// that a power cut loses at most the points of one window (plus a batch whose commit failed).
///
/// `run()` is the service: it sleeps until each window's deadline (no polling) and commits what
/// has arrived; when its task is cancelled (shutdown) it commits what is left and returns.
/// A full buffer (`maxBatchSize`) is committed at once, for receivers faster than 1 Hz.
/// Store calls block the caller for the commit's fsync; they are short (one small transaction).
public actor TrackPointBatcher<C: Clock> where C.Duration == Duration {
    /// The product allows at most 10 s of points to be at risk.
    public static var maximumWindow: Duration { .seconds(10) }

    private let store: AgentStore
    private let window: Duration
    private let maxBatchSize: Int
    /// Points kept while the store keeps failing, beyond which the oldest are dropped.
    private let maxRetainedPoints: Int
    private let clock: C
    private let logger: Logger
    private var buffer: [TrackPoint] = []

    /// Points dropped because the store failed for longer than `maxRetainedPoints` allows.
    public private(set) var droppedPoints = 0

    /// - Parameters:
    ///   - window: How long a point may wait in memory; 0 < window ≤ 10 s.
    ///   - maxBatchSize: Buffer size that triggers a commit before the window ends.
    ///   - maxRetainedPoints: While commits fail, at most this many points are kept (an hour at 1 Hz).
    public init(store: AgentStore, window: Duration = maximumWindow, maxBatchSize: Int = 100,
                maxRetainedPoints: Int = 3600, clock: C, logger: Logger) {
        precondition(window > .zero && window <= Self.maximumWindow, "batch window must be in (0, 10 s]")
        precondition(maxBatchSize > 0 && maxRetainedPoints >= maxBatchSize)
        self.store = store
        self.window = window
        self.maxBatchSize = maxBatchSize
        self.maxRetainedPoints = maxRetainedPoints
        self.clock = clock
        self.logger = logger
    }

    /// Buffers `point`, committing the buffer now if it reached `maxBatchSize`.
    /// A failed commit is logged and retried with the next window; points are not lost to it.
    public func add(_ point: TrackPoint) {
        buffer.append(point)
        if buffer.count >= maxBatchSize { flushLoggingFailure() }
    }

    /// Commits everything buffered. For shutdown and tests; `run()` calls it by itself.
    public func flush() throws {
        guard !buffer.isEmpty else { return }
        try store.append(buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    /// Commits once per window until cancelled, then commits what is left.
    public func run() async {
        var deadline = clock.now.advanced(by: window)
        while true {
            do {
                try await clock.sleep(until: deadline, tolerance: nil)
            } catch {
                break // cancelled: shutting down
            }
            flushLoggingFailure()
            deadline = deadline.advanced(by: window)
            if deadline < clock.now { deadline = clock.now.advanced(by: window) } // fell behind: no burst
        }
        flushLoggingFailure()
    }

    /// Number of points waiting for the next commit.
    public var bufferedCount: Int { buffer.count }

    private func flushLoggingFailure() {
        do {
            try flush()
        } catch {
            let excess = buffer.count - maxRetainedPoints
            if excess > 0 {
                buffer.removeFirst(excess)
                droppedPoints += excess
            }
            logger.error("Could not store \(buffer.count) track points, retrying next window (\(droppedPoints) dropped so far): \(error)")
        }
    }
}

extension TrackPointBatcher where C == ContinuousClock {
    public init(store: AgentStore, window: Duration = maximumWindow, maxBatchSize: Int = 100,
                maxRetainedPoints: Int = 3600, logger: Logger) {
        self.init(store: store, window: window, maxBatchSize: maxBatchSize, maxRetainedPoints: maxRetainedPoints,
                  clock: ContinuousClock(), logger: logger)
    }
}
