import Logging
import PatrolCore
import PatrolStore
import ServiceLifecycle

/// The store's service: commits recorded points once per window, applies retention hourly, and on
/// shutdown commits what is left and closes the database. Started first, stopped last.
struct StoreService: Service {
    let store: AgentStore
    let batcher: AgentBatcher
    let retention: RetentionPolicy
    let board: StatusBoard
    let logger: Logger

    static let retentionInterval = Duration.seconds(3600)

    func run() async throws {
        let batcher = batcher
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await cancelWhenGracefulShutdown { await batcher.run() } }
            group.addTask { await cancelWhenGracefulShutdown { await applyRetentionHourly() } }
        }
        // The uplinks stopped before this service: their last answers' progress rides on no commit
        // any more, and must not wait for the next start (`events` would show delivered alarms as not).
        do { try store.commitDeliveryProgress() } catch { logger.error("cannot commit the delivery progress: \(error)") }
    }

    private func applyRetentionHourly() async {
        while !Task.isCancelled {
            // Age is judged in GNSS time: the system clock of a board without RTC may be years off.
            if let now = board.gnssTimeNow() {
                do {
                    _ = try store.applyRetention(retention, now: now)
                } catch {
                    logger.error("retention failed: \(error)")
                }
            }
            do { try await Task.sleep(for: Self.retentionInterval) } catch { return }
        }
    }
}

/// The agent's batcher runs on the real clock.
typealias AgentBatcher = TrackPointBatcher<ContinuousClock>

/// The batcher is where the pipeline's points go.
extension TrackPointBatcher: TrackSink {}
