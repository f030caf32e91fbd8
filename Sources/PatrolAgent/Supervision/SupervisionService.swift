import PatrolEdgeSupport
import Logging
import PatrolStore
import ServiceLifecycle

/// Tells systemd how the agent is (`Type=notify`): `READY=1` once the store is open and the inputs
/// are started, `WATCHDOG=1` every half watchdog interval while the pipeline is alive
/// (`PipelineWatch`), `STATUS=` a one-line summary, `STOPPING=1` at shutdown.
///
/// READY does not wait for devices: a receiver or box that is missing is a fault the agent reports
/// and retries, not a reason to be killed for never starting. Each round first asks the batcher
/// and the event journal, so a part that hangs so hard it cannot answer stops the pets as well.
struct SupervisionService: Service {
    let notifier: SystemdNotifier
    let board: StatusBoard
    let batcher: AgentBatcher
    let journal: EventJournal
    /// The limits for the configuration running now.
    let limits: @Sendable () -> PipelineWatch.Limits
    /// Ends when the inputs have been started (`InputService`).
    let inputsStarted: AsyncStream<Void>
    /// How often STATUS= is refreshed when systemd does not watch.
    let statusInterval: Duration
    let logger: Logger

    func run() async throws {
        var failureLogged = false
        for await _ in inputsStarted.cancelOnGracefulShutdown() { break }
        guard !Task.isShuttingDownGracefully && !Task.isCancelled else { return }
        send("READY=1\nSTATUS=" + board.summaryLine(), failureLogged: &failureLogged)
        logger.debug("told systemd the agent is ready")

        var watch = PipelineWatch(limits: limits(), startedAt: SystemClocks.monotonicMilliseconds())
        let period = notifier.watchdogInterval.map { $0 / 2 } ?? statusInterval
        var stuckLogged = false
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let waiting = await batcher.bufferedCount
            let oldestEvent = await journal.oldestUnstoredDetectedAt
            let progress = board.pipelineProgress()
            watch.limits = limits()
            let stuck = watch.judge(PipelineWatch.Observation(
                now: SystemClocks.monotonicMilliseconds(), trackPointsWaiting: waiting, lastTrackCommitAt: progress.lastTrackCommit,
                oldestUnstoredEventAt: oldestEvent, uplinkRoundAt: progress.uplinkRounds))
            let status = "STATUS=" + board.summaryLine()
            if let stuck {
                if !stuckLogged {
                    logger.critical("the agent's pipeline is stuck: \(stuck); systemd's watchdog is no longer told the agent is alive and will restart it")
                    stuckLogged = true
                }
                send(status + "; stuck: " + stuck, failureLogged: &failureLogged)
            } else {
                if stuckLogged {
                    logger.notice("the agent's pipeline works again; telling systemd's watchdog it is alive")
                    stuckLogged = false
                }
                send((notifier.watchdogInterval == nil ? "" : "WATCHDOG=1\n") + status, failureLogged: &failureLogged)
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: period) }
        }
        send("STOPPING=1\nSTATUS=stopping: committing and closing the store", failureLogged: &failureLogged)
    }

    /// Sends `message`; a socket that fails is logged once until it works again.
    private func send(_ message: String, failureLogged: inout Bool) {
        do {
            try notifier.send(message)
            failureLogged = false
        } catch {
            if !failureLogged { logger.warning("cannot notify systemd: \(error)") }
            failureLogged = true
        }
    }
}

extension PipelineWatch.Limits {
    /// The limits for `config`: track may wait three commit windows (and at least 3 s), an event
    /// 10 s (ten retries), and an uplink its heartbeat, request timeout and longest backoff, plus
    /// 30 s, since each of them bounds one honest round.
    init(_ config: AgentConfig) {
        let window = Int64(config.store.commitWindow * 1000)
        var rounds: [String: Int64] = [:]
        for uplink in config.uplinks {
            let round = uplink.settings.heartbeatInterval + uplink.settings.requestTimeout + uplink.settings.backoffCap + .seconds(30)
            rounds[uplink.name] = Int64(round / .milliseconds(1)) // at most a few hours: config check bounds each
        }
        self.init(trackCommit: max(3 * window, 3000), eventCommit: 10_000, uplinkRound: rounds)
    }
}
