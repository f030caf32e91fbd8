import Logging
import PatrolCore
import PatrolEdgeSupport
import PatrolGPSD
import PatrolSerial
import PatrolStore
import ServiceLifecycle
import UnixSignals

/// Builds the running agent from its configuration and runs it until SIGTERM or SIGINT; SIGHUP
/// re-reads the configuration file (`ReloadService`).
///
/// Start order is status, the store, the uplinks, the inputs, then (under systemd) supervision,
/// which says READY once the inputs run; shutdown runs the other way: the event inputs stop first,
/// then the GPS input, the uplinks, the batcher commits what it holds, the status file says
/// "stopped", and the process exits 0.
public enum AgentRunner {
    /// - Parameter path: the file `config` was read from, which SIGHUP reads again.
    public static func run(config: AgentConfig, path: String, logger: Logger) async throws {
        // First, so that a SIGHUP while the agent starts waits for it instead of killing it.
        let reloadSignals = await UnixSignalsSequence(trapping: .sighup)
        try FileAccess.makeDirectory(config.runtimeDirectory)
        try FileAccess.makeDirectory(parentFolder(of: config.store.path))
        // Say "starting" first, so `status` knows not to touch the store the agent is opening.
        let starting = StatusBoard(deviceID: config.deviceID, gpsSource: config.gpsDescription)
        try? FileAccess.replace(statusPath(config), with: StatusFile.encode(starting.snapshot(phase: "starting", interval: config.statusInterval)))
        let store = try AgentStore.open(path: config.store.path, logger: logger)
        let batcher = AgentBatcher(store: store, window: .milliseconds(Int64(config.store.commitWindow * 1000)), logger: logger)
        let board = StatusBoard(deviceID: config.deviceID, gpsSource: config.gpsDescription)
        let journal = EventJournal(deviceID: config.deviceID, store: store, board: board,
                                   checkpoints: config.inputs.checkpoints,
                                   gpsLostAfterMilliseconds: config.inputs.gpsLostAfterMilliseconds, logger: logger)
        let pipeline = TrackPipeline(filter: config.filter, recording: config.recording,
                                     sink: batcher, board: board, events: journal)
        let observer = AgentUplinkObserver(journal: journal, board: board, primaryOutput: config.primaryUplink)
        let uplinks = UplinkService.parts(store: store)
        try await UplinkService.configure(uplinks, config, store: store, observer: observer, board: board, logger: logger)
        try UplinkService.forgetUnconfigured(config, store: store, logger: logger)
        store.onCommit { if $0 == .track { board.trackCommitted() } }
        let gps = GPSService.part(pipeline: pipeline, board: board)
        await gps.replace(with: [config.gps], make: { _ in makeSource(config, logger: logger) })
        let inputs = InputService.parts(journal: journal, board: board)
        await inputs.replace(with: config.inputs.eventInputs, make: { $0.makeInput(store: store, logger: logger) },
                             configured: { board.inputsConfigured($0.map(\.name)) })
        let reloader = ConfigReloader(path: path, config: config, inputs: inputs, gps: gps, uplinks: uplinks, pipeline: pipeline,
                                      observer: observer, store: store, board: board, logger: logger)

        // No service manager asking for notifications means no supervision service.
        let notifier = try SystemdNotifier.fromEnvironment()
        let (inputsStarted, inputsStartedContinuation) = AsyncStream<Void>.makeStream()
        let (reloadsOpen, reloadsOpenContinuation) = AsyncStream<Void>.makeStream()
        let supervision: [any Service] = notifier.map {
            [SupervisionService(notifier: $0, board: board, batcher: batcher, journal: journal,
                                limits: { PipelineWatch.Limits(reloader.config) }, inputsStarted: inputsStarted,
                                statusInterval: .milliseconds(Int64(config.statusInterval * 1000)), logger: logger)]
        } ?? []
        let services: [any Service] = [
            StatusService(board: board, batcher: batcher, store: store, path: statusPath(config), interval: config.statusInterval, logger: logger),
            StoreService(store: store, batcher: batcher, retention: config.store.retention, board: board, logger: logger),
            UplinkService(runners: uplinks),
            GPSService(source: gps),
            InputService(inputs: inputs, journal: journal, started: {
                inputsStartedContinuation.finish()
                reloadsOpenContinuation.finish()
            }),
            ReloadService(signals: reloadSignals, reloader: reloader, notifier: notifier, started: reloadsOpen, logger: logger),
        ] + supervision
        logger.info("patrol-agent \(config.deviceID) starting: \(config.gpsDescription), store \(config.store.path)")
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
        logger.info("patrol-agent \(config.deviceID) stopped cleanly")
    }

    /// Where the running agent publishes its status.
    public static func statusPath(_ config: AgentConfig) -> String {
        config.runtimeDirectory + "/status.json"
    }

    static func makeSource(_ config: AgentConfig, logger: Logger) -> any FixSource {
        switch config.gps {
        case .gpsd(let host, let port):
            return GPSDSource(host: host, port: port, logger: logger, rollover: config.rollover)
        case .serial(let path, let baud, let driver):
            let rollover = config.rollover
            return SerialNMEASource(path: path, baud: baud, opener: SerialPortOpener(driver: SerialDriver(rawValue: driver) ?? .auto),
                                    logger: logger) { NMEADecoder(rollover: rollover) }
        }
    }

    static func parentFolder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
