import Logging
import PatrolCore

/// Holds recorded points in memory and commits them together once per window.
///
/// One commit per window instead of one per fix is what keeps an SD card alive: each commit
/// writes at least a page and an fsync. The price is bounded: a power cut loses at most the
/// points of one window. A failed commit keeps the points and tries again next window.
public actor TrackPointBatcher {
    private let store: AgentStore
    private let window: Duration
    private let maximumBatch: Int
    /// Points kept in memory while commits fail (a full or failing card): a day at 1 Hz.
    private let maximumPending = 86_400
    private let logger: Logger
    private var pending: [TrackPoint] = []
    private var failing = false

    /// - Parameters:
    ///   - window: time between commits; zero commits every point at once.
    ///   - maximumBatch: commit early when this many points wait.
    public init(store: AgentStore, window: Duration = .seconds(10), maximumBatch: Int = 600, logger: Logger) {
        self.store = store
        self.window = window
        self.maximumBatch = maximumBatch
        self.logger = logger
    }

    public var pendingCount: Int { pending.count }

    public func append(_ point: TrackPoint) {
        pending.append(point)
        if pending.count > maximumPending {
            pending.removeFirst(pending.count - maximumPending)
        }
        if window == .zero || pending.count >= maximumBatch { flush() }
    }

    /// Commits everything pending; returns whether nothing is left pending.
    @discardableResult
    public func flush() -> Bool {
        guard !pending.isEmpty else { return true }
        do {
            try store.append(pending)
            pending.removeAll(keepingCapacity: true)
            if failing { logger.notice("track points are committed again") }
            failing = false
            return true
        } catch {
            if !failing { logger.error("cannot commit \(pending.count) track points, keeping them in memory and retrying: \(error)") }
            failing = true
            return false
        }
    }

    /// Commits once per window until cancelled, then a last time.
    public func run() async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: window == .zero ? .seconds(3600) : window) } catch { break }
            flush()
        }
        flush()
    }
}
