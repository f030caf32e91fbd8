import Logging
import PatrolCore
import PatrolEdgeSupport
import PatrolStore
import ServiceLifecycle

/// Publishes the status board to `<runtime_dir>/status.json` every interval, and once more as
/// "stopped" after everything else has shut down. The runtime folder is a tmpfs, so these
/// frequent small writes never reach the SD card.
struct StatusService: Service {
    let board: StatusBoard
    let batcher: AgentBatcher
    let store: AgentStore
    let path: String
    let interval: Double
    let logger: Logger

    func run() async throws {
        var failureLogged = false
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            await publish(running: true, failureLogged: &failureLogged)
            let interval = interval
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(Int64(interval * 1000))) }
        }
        await publish(running: false, failureLogged: &failureLogged)
    }

    private func publish(running: Bool, failureLogged: inout Bool) async {
        board.pendingCommit(await batcher.bufferedCount)
        do {
            var status = board.snapshot(running: running, interval: interval)
            // The agent holds the database exclusively (see PatrolStore's Schema), so it publishes
            // what `status` shows of the store itself.
            status.store = try? AgentStatus.StoreSummary(store.statistics())
            try FileAccess.replace(path, with: StatusFile.encode(status))
            failureLogged = false
        } catch {
            if !failureLogged { logger.warning("status file not written: \(error)") }
            failureLogged = true
        }
    }
}

