import Logging
import PatrolCore
import PatrolEdgeSupport
import PatrolStore
import PatrolUplink
import ServiceLifecycle
import Synchronization
import UnixSignals

/// Re-reads the configuration file on each SIGHUP (`systemctl reload patrol-agent`) and applies it
/// (`ConfigReloader`), telling systemd `RELOADING=1` before and `READY=1` after. The signal arrives
/// through swift-service-lifecycle's `UnixSignalsSequence`, a dispatch source: nothing runs in the
/// signal handler itself. Reloads wait until the agent has started, then run one at a time.
struct ReloadService: Service {
    /// Trapped as the agent starts, so that a SIGHUP sent early waits here instead of killing it.
    let signals: UnixSignalsSequence
    let reloader: ConfigReloader
    let notifier: SystemdNotifier?
    /// Ends when the inputs have been started (`InputService`).
    let started: AsyncStream<Void>
    let logger: Logger

    func run() async throws {
        for await _ in started.cancelOnGracefulShutdown() { break }
        for await _ in signals.cancelOnGracefulShutdown() {
            notify(SystemdNotifier.reloadingMessage(status: "reloading \(reloader.path)"))
            let outcome = await reloader.reload()
            notify("READY=1\nSTATUS=" + outcome)
        }
    }

    private func notify(_ message: String) {
        do {
            try notifier?.send(message)
        } catch {
            logger.warning("cannot notify systemd: \(error)")
        }
    }
}

/// Applies the configuration file, re-read, to the running agent without losing anything in
/// flight: an input, GPS source or uplink whose configuration is equal keeps running (its port or
/// link stays open), a changed one is stopped and started again, a removed one stopped, a new one
/// started; the filter and track rules change in place; the store is never reopened.
///
/// A file that cannot be read or has any problem is refused with each problem logged as
/// `patrol-agent config check` prints it, and so is one that changes a setting the agent takes
/// only at start (`AgentConfig.keysNeedingRestart`): the configuration running goes on untouched.
final class ConfigReloader: Sendable {
    let path: String
    private let running: Mutex<AgentConfig>
    let inputs: RunningParts<InputConfig, any EventInput>
    let gps: RunningParts<GPSInputConfig, any FixSource>
    let uplinks: RunningParts<UplinkConfig, UplinkRunner>
    let pipeline: TrackPipeline
    let observer: AgentUplinkObserver
    let store: AgentStore
    let board: StatusBoard
    let logger: Logger

    init(path: String, config: AgentConfig, inputs: RunningParts<InputConfig, any EventInput>,
         gps: RunningParts<GPSInputConfig, any FixSource>, uplinks: RunningParts<UplinkConfig, UplinkRunner>,
         pipeline: TrackPipeline, observer: AgentUplinkObserver, store: AgentStore, board: StatusBoard, logger: Logger) {
        self.path = path
        running = Mutex(config)
        self.inputs = inputs
        self.gps = gps
        self.uplinks = uplinks
        self.pipeline = pipeline
        self.observer = observer
        self.store = store
        self.board = board
        self.logger = logger
    }

    /// The configuration running now.
    var config: AgentConfig { running.withLock { $0 } }

    /// Reads the file and applies it, or refuses it; returns what happened in one line.
    func reload() async -> String {
        logger.notice("SIGHUP: re-reading the configuration \(path)")
        let newer: AgentConfig
        do {
            newer = try AgentConfig.load(path: path)
        } catch {
            return refuse("\(error)")
        }
        let keys = config.keysNeedingRestart(toApply: newer)
        guard keys.isEmpty else {
            return refuse("\(path): \(keys.joined(separator: ", ")) changed: restart to apply (systemctl restart patrol-agent)")
        }
        // Uplinks first: an output that cannot be made refuses the reload before anything changed.
        let outputs: (stopped: [UplinkConfig], started: [UplinkConfig])
        do {
            outputs = try await UplinkService.configure(uplinks, newer, store: store, observer: observer, board: board, logger: logger)
        } catch {
            return refuse("\(path): \(error)")
        }
        do {
            try UplinkService.forgetUnconfigured(newer, store: store, logger: logger)
        } catch {
            logger.error("cannot forget the delivery progress of removed uplinks: \(error)")
        }
        await pipeline.reconfigure(filter: newer.filter, recording: newer.recording)
        let logger = logger
        let source = await gps.replace(with: [newer.gps], make: { _ in AgentRunner.makeSource(newer, logger: logger) })
        let (board, store) = (board, store)
        let events = await inputs.replace(with: newer.inputs.eventInputs, make: { $0.makeInput(store: store, logger: logger) },
                                          configured: { board.inputsConfigured($0.map(\.name)) })
        running.withLock { $0 = newer }
        board.configurationReloaded()

        var changes: [String] = []
        if !source.started.isEmpty { changes.append("GPS input now \(newer.gpsDescription)") }
        changes += events.stopped.map { "input \($0.id) stopped" } + events.started.map { "input \($0.id) started" }
        changes += outputs.stopped.map { "uplink \($0.name) stopped" } + outputs.started.map { "uplink \($0.name) started" }
        let summary = "configuration reloaded from \(path): "
            + (changes.isEmpty ? "no input or uplink changed" : changes.joined(separator: ", "))
        logger.notice("\(summary)")
        return summary
    }

    /// Logs why the file is refused, one line per problem as `config check` prints them.
    private func refuse(_ reason: String) -> String {
        logger.error("configuration reload refused; the configuration loaded before keeps running:")
        for line in reason.split(separator: "\n") { logger.error("\(line)") }
        board.configurationRefused(reason)
        return "reload refused, the configuration loaded before keeps running: " + reason.split(separator: "\n").joined(separator: "; ")
    }
}
