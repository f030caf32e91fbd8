import Logging
import PatrolCore
import PatrolEdgeSupport
import PatrolGPSD
import PatrolSerial
import PatrolStore
import ServiceLifecycle

/// Builds the running agent from its configuration and runs it until SIGTERM or SIGINT.
///
/// Start order is status, the store, the uplinks, then inputs; shutdown runs the other way: the
/// event inputs stop first, then the GPS input, the uplinks, the batcher commits what it holds,
/// the status file says "stopped", and the process exits 0.
public enum AgentRunner {
    public static func run(config: AgentConfig, logger: Logger) async throws {
        try FileAccess.makeDirectory(config.runtimeDirectory)
        try FileAccess.makeDirectory(parentFolder(of: config.store.path))
        // Say "starting" first, so `status` knows not to touch the store the agent is opening.
        let starting = StatusBoard(deviceID: config.deviceID, gpsSource: config.gpsDescription)
        try? FileAccess.replace(statusPath(config), with: StatusFile.encode(starting.snapshot(phase: "starting", interval: config.statusInterval)))
        let store = try AgentStore.open(path: config.store.path, logger: logger)
        let batcher = AgentBatcher(store: store, window: .milliseconds(Int64(config.store.commitWindow * 1000)), logger: logger)
        let source = makeSource(config, logger: logger)
        let board = StatusBoard(deviceID: config.deviceID, gpsSource: source.name)
        let journal = EventJournal(deviceID: config.deviceID, store: store, board: board,
                                   checkpoints: config.inputs.checkpoints,
                                   gpsLostAfterMilliseconds: config.inputs.gpsLostAfterMilliseconds, logger: logger)
        let pipeline = TrackPipeline(filter: config.filter, recording: config.recording,
                                     sink: batcher, board: board, events: journal)
        let observer = AgentUplinkObserver(journal: journal, board: board, primaryOutput: config.primaryUplink)
        let runners = try UplinkService.makeRunners(config, store: store, observer: observer, logger: logger)
        board.uplinksConfigured(config.uplinks.map { ($0.name, $0.destination) })
        for runner in runners { store.onCommit { runner.wake(for: $0) } }

        // A service that returns before shutdown stops the agent, so no uplink means no service.
        let uplink: [any Service] = runners.isEmpty ? [] : [UplinkService(runners: runners)]
        let services: [any Service] = [
            StatusService(board: board, batcher: batcher, store: store, path: statusPath(config), interval: config.statusInterval, logger: logger),
            StoreService(store: store, batcher: batcher, retention: config.store.retention, board: board, logger: logger),
        ] + uplink + [
            GPSService(source: source, pipeline: pipeline, board: board),
            InputService(inputs: config.inputs.makeInputs(logger: logger), journal: journal, board: board),
        ]
        logger.info("patrol-agent \(config.deviceID) starting: \(source.name), store \(config.store.path)")
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
